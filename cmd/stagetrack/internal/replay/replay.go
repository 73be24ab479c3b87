// Package replay turns a run file back into the spans the tracker made for
// it, so a run recorded offline can be sent to a tracing backend later:
// same trace id, span ids, parents, names, timestamps, status and the
// stage_tracker.* attributes, under the tracker's instrumentation scope.
// jsonrun.ToRun of the result gives back the run file (its warnings aside).
//
// Spans is pure and safe for concurrent use.
package replay

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Spans returns the spans of run r: its run span first, then its stages
// depth-first in start order, each carrying res (nil: none).
//
// Ids come from the file. A file without them (one written by the Python
// stage-tracker) gets ids derived from the run id: the trace id is the run
// id's UUID bytes, and each span id a hash of the run id and the stage's key
// path, so sending the same file twice gives the same trace. Spans returns
// an error for ids that are present but not valid hex of the right length.
func Spans(r *runfile.Run, res *resource.Resource) (tracetest.SpanStubs, error) {
	tid, err := traceID(r)
	if err != nil {
		return nil, err
	}
	rootID, err := spanID(r.SpanID, tid, r.RunID, "")
	if err != nil {
		return nil, fmt.Errorf("replay: run %s: %w", r.RunID, err)
	}
	scope := instrumentation.Scope{Name: keys.ScopeName}
	rows := runtree.Flatten(r)

	root := tracetest.SpanStub{
		Name:                 r.Name,
		SpanContext:          spanContext(tid, rootID, false),
		SpanKind:             trace.SpanKindInternal,
		StartTime:            r.StartTime,
		EndTime:              r.CompletedAt,
		Resource:             res,
		InstrumentationScope: scope,
		ChildSpanCount:       len(r.Stages),
	}
	if root.Name == "" {
		root.Name = "run"
	}
	if root.EndTime.IsZero() {
		root.EndTime = r.StartTime.Add(time.Duration(r.TotalDurationSec * float64(time.Second)))
	}
	if r.ParentSpanID != "" {
		pid, err := parseSpanID(r.ParentSpanID)
		if err != nil {
			return nil, fmt.Errorf("replay: run %s: parent_span_id: %w", r.RunID, err)
		}
		root.Parent = spanContext(tid, pid, true)
	}
	root.Attributes = append(root.Attributes, attribute.String(keys.RunID, r.RunID))
	if len(r.Args) > 0 {
		root.Attributes = append(root.Attributes,
			attribute.String(keys.RunArgs, string(r.Args)),
			attribute.Int(keys.RunArgsSize, len(r.Args)),
		)
	}
	root.Attributes = append(root.Attributes,
		attribute.Int(keys.RunStageCount, max(r.StageCount, len(rows))+r.MissingStages))
	switch r.Status {
	case runfile.StatusInterrupted, runfile.StatusCrashed:
		root.Attributes = append(root.Attributes, attribute.String(keys.RunStatus, r.Status))
	case runfile.StatusIncomplete:
		if r.MissingStages == 0 { // not derivable from the count: say it
			root.Attributes = append(root.Attributes, attribute.String(keys.RunStatus, r.Status))
		}
	}
	if r.Stack != "" {
		root.Attributes = append(root.Attributes, attribute.String(keys.RunStack, r.Stack))
	}
	if r.Error != "" {
		root.Status = sdktrace.Status{Code: codes.Error, Description: r.Error}
		root.Events = []sdktrace.Event{exception(r.Error, r.Stack, root.EndTime)}
	}

	stubs := make(tracetest.SpanStubs, 0, 1+len(rows))
	stubs = append(stubs, root)
	ids := map[string]trace.SpanID{"": rootID} // key path -> span id
	for _, row := range rows {
		st := row.Stage
		sid, err := spanID(st.SpanID, tid, r.RunID, row.KeyPath)
		if err != nil {
			return nil, fmt.Errorf("replay: run %s: stage %s: %w", r.RunID, row.KeyPath, err)
		}
		ids[row.KeyPath] = sid
		parentKey := ""
		if row.Depth > 0 {
			parentKey = row.KeyPath[:len(row.KeyPath)-len(st.Key)-1]
		}
		s := tracetest.SpanStub{
			Name:                 stageName(st),
			SpanContext:          spanContext(tid, sid, false),
			Parent:               spanContext(tid, ids[parentKey], false),
			SpanKind:             trace.SpanKindInternal,
			StartTime:            row.Start,
			EndTime:              row.End,
			Attributes:           stageAttributes(r.RunID, st, row),
			Resource:             res,
			InstrumentationScope: scope,
			ChildSpanCount:       len(st.Stages),
		}
		if st.Error != "" || row.Status == runfile.StageError {
			s.Status = sdktrace.Status{Code: codes.Error, Description: st.Error}
			s.Events = []sdktrace.Event{exception(st.Error, st.Stack, row.End)}
		}
		stubs = append(stubs, s)
	}
	return stubs, nil
}

func stageAttributes(runID string, st *runfile.Stage, row runtree.Row) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		attribute.String(keys.RunID, runID),
		attribute.String(keys.StageName, stageName(st)),
	}
	if len(st.Data) > 0 {
		attrs = append(attrs,
			attribute.String(keys.StageData, string(st.Data)),
			attribute.Int(keys.StageDataSize, len(st.Data)),
		)
		attrs = appendScalars(attrs, st.Data)
	}
	if st.DataError != "" {
		attrs = append(attrs, attribute.String(keys.StageDataError, st.DataError))
	}
	switch row.Status {
	case runfile.StageOK, runfile.StageError:
	default: // unfinished, running: what the tracker records as the stage's status
		attrs = append(attrs, attribute.String(keys.StageStatus, row.Status))
	}
	if st.Stack != "" {
		attrs = append(attrs, attribute.String(keys.StageStack, st.Stack))
	}
	return attrs
}

func stageName(st *runfile.Stage) string {
	if st.Name != "" {
		return st.Name
	}
	return st.Key
}

// appendScalars adds a stage_tracker.data.<key> attribute per top-level
// scalar key of data, in key order, as the tracker does.
func appendScalars(attrs []attribute.KeyValue, data json.RawMessage) []attribute.KeyValue {
	if data[0] != '{' {
		return attrs
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if dec.Decode(&obj) != nil {
		return attrs
	}
	keysSorted := make([]string, 0, len(obj))
	for k := range obj {
		keysSorted = append(keysSorted, k)
	}
	slices.Sort(keysSorted)
	for _, k := range keysSorted {
		key := keys.DataPrefix + k
		switch v := obj[k].(type) {
		case string:
			attrs = append(attrs, attribute.String(key, v))
		case bool:
			attrs = append(attrs, attribute.Bool(key, v))
		case json.Number:
			if i, err := v.Int64(); err == nil {
				attrs = append(attrs, attribute.Int64(key, i))
			} else if f, err := v.Float64(); err == nil {
				attrs = append(attrs, attribute.Float64(key, f))
			}
		}
	}
	return attrs
}

// exception is the event the tracker's RecordError adds for an error.
func exception(msg, stack string, at time.Time) sdktrace.Event {
	attrs := []attribute.KeyValue{attribute.String("exception.message", msg)}
	if stack != "" {
		attrs = append(attrs, attribute.String("exception.stacktrace", stack))
	}
	return sdktrace.Event{Name: "exception", Attributes: attrs, Time: at}
}

func spanContext(tid trace.TraceID, sid trace.SpanID, remote bool) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: remote,
	})
}

func traceID(r *runfile.Run) (trace.TraceID, error) {
	if r.TraceID != "" {
		tid, err := trace.TraceIDFromHex(r.TraceID)
		if err != nil {
			return tid, fmt.Errorf("replay: run %s: trace_id %q: %w", r.RunID, r.TraceID, err)
		}
		return tid, nil
	}
	if u, err := uuid.Parse(r.RunID); err == nil && u != uuid.Nil {
		return trace.TraceID(u), nil
	}
	sum := sha256.Sum256([]byte(r.RunID))
	return trace.TraceID(sum[:16]), nil
}

// spanID parses hexID, or derives an id from the trace and key path when
// hexID is empty.
func spanID(hexID string, tid trace.TraceID, runID, keyPath string) (trace.SpanID, error) {
	if hexID != "" {
		return parseSpanID(hexID)
	}
	h := sha256.New()
	h.Write(tid[:])
	h.Write([]byte(runID))
	h.Write([]byte{0})
	h.Write([]byte(keyPath))
	var sid trace.SpanID
	copy(sid[:], h.Sum(nil))
	if !sid.IsValid() {
		sid[7] = 1
	}
	return sid, nil
}

func parseSpanID(s string) (trace.SpanID, error) {
	sid, err := trace.SpanIDFromHex(s)
	if err != nil {
		return sid, fmt.Errorf("span id %q: %w", s, err)
	}
	return sid, nil
}

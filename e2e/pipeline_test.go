//go:build e2e

package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

const serviceName = "stage-tracker-e2e"

// fetchError is a typed error, so that error.type has something to say.
type fetchError struct{ host string }

func (e *fetchError) Error() string { return "fetch " + e.host + ": timeout" }

// wantStages are the stage paths the pipeline makes (a nested stage is
// parent/child), in start order.
var wantStages = []string{
	"load",
	"train",
	"train/epoch",
	"train/epoch",
	"train/epoch/checkpoint",
	"train/epoch",
	"fetch",
	"fetch",
	"validate",
	"explode",
}

// runPipeline records a run with nested, repeated, failed and panicking
// stages, finalises it and returns it.
func runPipeline(t *testing.T, tr *tracker.Tracker) *tracker.Run {
	t.Helper()
	ctx, run := tr.Start(t.Context(), map[string]any{"model": "resnet18", "lr": 0.01}, tracker.WithRunName("e2e-train"))

	// A stage started and ended by name, with scalar data of every kind.
	run.StartStage(ctx, "load")
	if err := run.EndStage("load", map[string]any{"rows": 1200, "source": "s3://bucket/train.csv", "cached": true, "ratio": 0.75}, nil); err != nil {
		t.Fatal(err)
	}

	// Nested and repeated: three epochs inside train, a checkpoint inside
	// the second.
	err := run.Stage(ctx, "train", func(ctx context.Context) (any, error) {
		for i := 1; i <= 3; i++ {
			err := run.Stage(ctx, "epoch", func(ctx context.Context) (any, error) {
				if i == 2 {
					if err := run.Stage(ctx, "checkpoint", func(context.Context) (any, error) {
						return map[string]any{"path": "ckpt-2.pt"}, nil
					}); err != nil {
						return nil, err
					}
				}
				return map[string]any{"epoch": i, "loss": 1.0 / float64(i)}, nil
			})
			if err != nil {
				return nil, err
			}
		}
		return map[string]any{"epochs": 3}, nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Repeated at the top level: a failed attempt, then a good one.
	for attempt := 1; attempt <= 2; attempt++ {
		err := run.Stage(ctx, "fetch", func(context.Context) (any, error) {
			if attempt == 1 {
				return nil, &fetchError{host: "weights.example"}
			}
			return map[string]any{"bytes": 4096}, nil
		})
		if (attempt == 1) != (err != nil) {
			t.Fatalf("fetch attempt %d: error %v", attempt, err)
		}
	}

	// Failed.
	if err := run.Stage(ctx, "validate", func(context.Context) (any, error) {
		return map[string]any{"accuracy": 0.42}, errors.New("accuracy 0.42 below 0.9")
	}); err == nil {
		t.Fatal("validate: no error")
	}

	// Panicking: Run.Stage records the panic and panics again.
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Fatalf("recovered %v, want boom", v)
			}
		}()
		_ = run.Stage(ctx, "explode", func(context.Context) (any, error) { panic("boom") })
	}()

	if err := run.Finalize(t.Context()); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	return run
}

func TestJaegerPipeline(t *testing.T) {
	ep := jaegerEndpoints(t)
	tests := []struct {
		protocol string
		endpoint string
	}{
		{protocol: "http/protobuf", endpoint: ep.otlpHTTP},
		{protocol: "grpc", endpoint: ep.otlpGRPC},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.protocol, "/", "_"), func(t *testing.T) {
			setEnv(t, map[string]string{
				"OTEL_TRACES_EXPORTER":        "otlp,jsonrun",
				"OTEL_EXPORTER_OTLP_PROTOCOL": tt.protocol,
				"OTEL_EXPORTER_OTLP_ENDPOINT": tt.endpoint,
				"OTEL_SERVICE_NAME":           serviceName,
				"OTEL_RESOURCE_ATTRIBUTES":    "e2e.protocol=" + tt.protocol,
			})
			// The recorder sees the spans with nanosecond times: the truth
			// that Jaeger and the run file are each compared with.
			rec := tracetest.NewSpanRecorder()
			tr, shutdown, err := setup.Tracker(t.Context(),
				setup.WithDir(t.TempDir()),
				setup.WithProviderOptions(sdktrace.WithSpanProcessor(rec)),
			)
			if err != nil {
				t.Fatal(err)
			}
			run := runPipeline(t, tr)
			if err := shutdown(t.Context()); err != nil {
				t.Fatalf("shutdown: %v", err)
			}

			rf, err := runfile.ReadFile(run.File())
			if err != nil {
				t.Fatal(err)
			}
			if rf.TraceID != run.TraceID().String() {
				t.Fatalf("run file trace_id %s, run %s", rf.TraceID, run.TraceID())
			}
			res := waitTrace(t, ep.query, rf.TraceID, 1+len(wantStages))
			checkTrace(t, res, rf, run, tt.protocol)
			checkAgainstRunFile(t, res.Data[0], rf, rec.Ended())
		})
	}
}

// checkTrace checks what Jaeger holds against what the pipeline sent.
func checkTrace(t *testing.T, res jaegerResponse, rf *runfile.Run, run *tracker.Run, protocol string) {
	t.Helper()
	if len(res.Data) != 1 {
		t.Fatalf("Jaeger returned %d traces, want 1", len(res.Data))
	}
	trace := res.Data[0]
	if got := normID(trace.TraceID, 32); got != rf.TraceID {
		t.Errorf("trace id %s, want %s", got, rf.TraceID)
	}
	if got := len(trace.Spans); got != 1+len(wantStages) {
		t.Errorf("%d spans, want %d", got, 1+len(wantStages))
	}
	byID := make(map[string]jaegerSpan, len(trace.Spans))
	for _, s := range trace.Spans {
		byID[s.SpanID] = s
	}

	// The root: the run span, named after the run, with no parent.
	var roots []jaegerSpan
	for _, s := range trace.Spans {
		if len(s.References) == 0 {
			roots = append(roots, s)
		}
	}
	if len(roots) != 1 {
		t.Fatalf("%d spans without a parent, want 1 (the run)", len(roots))
	}
	root := roots[0]
	if root.SpanID != rf.SpanID || root.OperationName != "e2e-train" {
		t.Errorf("root span %s %q, want %s %q", root.SpanID, root.OperationName, rf.SpanID, "e2e-train")
	}
	for k, want := range map[string]string{
		"stage_tracker.run.id":          run.ID(),
		"stage_tracker.run.stage_count": fmt.Sprint(len(wantStages)),
		"otel.scope.name":               tracker.ScopeName,
		"otel.scope.version":            tracker.Version,
	} {
		if got := tagString(root.Tags, k); got != want {
			t.Errorf("root tag %s = %q, want %q", k, got, want)
		}
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(tagString(root.Tags, "stage_tracker.run.args")), &args); err != nil || args["model"] != "resnet18" {
		t.Errorf("root tag stage_tracker.run.args = %q (%v)", tagString(root.Tags, "stage_tracker.run.args"), err)
	}
	// validate's only attempt failed, so the run failed (fetch's retry
	// passed and does not count): the run span says so, as the file does.
	if _, ok := tag(root.Tags, "error"); !ok {
		t.Errorf("the run span is not marked as an error; its stage validate failed")
	}
	if got := tagString(root.Tags, "otel.status_description"); got != rf.Error || !strings.Contains(got, `stage "validate" failed`) {
		t.Errorf("run span status %q, run file error %q; want the same, naming validate", got, rf.Error)
	}

	// The process: service name and resource.
	p, ok := trace.Processes[root.ProcessID]
	if !ok {
		t.Fatalf("no process %q", root.ProcessID)
	}
	if p.ServiceName != serviceName {
		t.Errorf("service %q, want %q", p.ServiceName, serviceName)
	}
	for k, want := range map[string]string{
		string(setup.VersionKey): tracker.Version,
		"telemetry.sdk.language": "go",
		"telemetry.sdk.name":     "opentelemetry",
		"e2e.protocol":           protocol,
	} {
		if got := tagString(p.Tags, k); got != want {
			t.Errorf("process tag %s = %q, want %q", k, got, want)
		}
	}

	// Every stage: a CHILD_OF reference to the right parent, the stage
	// name as operation name, its identity tags; the tree of names is the
	// one the pipeline made.
	path := func(s jaegerSpan) string {
		var parts []string
		for s.SpanID != root.SpanID {
			parts = append([]string{s.OperationName}, parts...)
			if len(s.References) != 1 {
				t.Fatalf("span %q has %d references, want 1", s.OperationName, len(s.References))
			}
			ref := s.References[0]
			parent, ok := byID[ref.SpanID]
			if ref.RefType != "CHILD_OF" || !ok || normID(ref.TraceID, 32) != rf.TraceID {
				t.Fatalf("span %q: reference %+v is not CHILD_OF a span of this trace", s.OperationName, ref)
			}
			s = parent
		}
		return strings.Join(parts, "/")
	}
	var paths []string
	for _, s := range trace.Spans {
		if s.SpanID == root.SpanID {
			continue
		}
		paths = append(paths, path(s))
		if got := tagString(s.Tags, "stage_tracker.stage.name"); got != s.OperationName {
			t.Errorf("span %q: stage_tracker.stage.name = %q", s.OperationName, got)
		}
		if got := tagString(s.Tags, "stage_tracker.run.id"); got != run.ID() {
			t.Errorf("span %q: stage_tracker.run.id = %q, want %q", s.OperationName, got, run.ID())
		}
	}
	slices.Sort(paths)
	want := slices.Sorted(slices.Values(wantStages))
	if !slices.Equal(paths, want) {
		t.Errorf("stage tree in Jaeger:\n got %v\nwant %v", paths, want)
	}

	byName := func(name string) []jaegerSpan {
		var out []jaegerSpan
		for _, s := range trace.Spans {
			if s.OperationName == name {
				out = append(out, s)
			}
		}
		slices.SortFunc(out, func(a, b jaegerSpan) int { return int(a.StartTime - b.StartTime) })
		return out
	}

	// Data: a flat map of scalars is its typed tags alone, with the length
	// of its JSON; no JSON tag (docs/attributes.md).
	load := byName("load")[0]
	for _, c := range []struct{ key, typ, value string }{
		{"stage_tracker.data.rows", "int64", "1200"},
		{"stage_tracker.data.source", "string", "s3://bucket/train.csv"},
		{"stage_tracker.data.cached", "bool", "true"},
		{"stage_tracker.data.ratio", "float64", "0.75"},
		{"stage_tracker.stage.data_typed_size", "int64", fmt.Sprint(len(`{"cached":true,"ratio":0.75,"rows":1200,"source":"s3://bucket/train.csv"}`))},
	} {
		kv, ok := tag(load.Tags, c.key)
		if !ok || kv.Type != c.typ || fmt.Sprint(kv.Value) != c.value {
			t.Errorf("load tag %s = %+v, want %s %s", c.key, kv, c.typ, c.value)
		}
	}
	if kv, ok := tag(load.Tags, "stage_tracker.stage.data"); ok {
		t.Errorf("load tag stage_tracker.stage.data = %+v, want none: the typed tags are the data", kv)
	}
	for i, s := range byName("epoch") {
		if got := tagString(s.Tags, "stage_tracker.data.epoch"); got != fmt.Sprint(i+1) {
			t.Errorf("epoch %d: stage_tracker.data.epoch = %q", i+1, got)
		}
	}

	// Errors: status Error, error.type, an exception event.
	fetches := byName("fetch")
	checkError(t, fetches[0], "fetch weights.example: timeout", "*e2e_test.fetchError", false)
	checkOK(t, fetches[1])
	// A bare errors.New has no telling type: semconv's _OTHER.
	checkError(t, byName("validate")[0], "accuracy 0.42 below 0.9", "_OTHER", false)
	explode := byName("explode")[0]
	checkError(t, explode, "panic: boom", "panic", true)
	if stack := tagString(explode.Tags, "stage_tracker.stage.stack"); !strings.Contains(stack, "TestJaegerPipeline") {
		t.Errorf("explode: stage_tracker.stage.stack does not show the test: %.300s", stack)
	}
	for _, name := range []string{"load", "train", "epoch", "checkpoint"} {
		for _, s := range byName(name) {
			checkOK(t, s)
		}
	}
}

// checkError checks that s failed with msg: status Error (the error tag and
// otel.status_*), error.type, and an exception log with the message, and
// for a panic the stack.
func checkError(t *testing.T, s jaegerSpan, msg, errType string, panicked bool) {
	t.Helper()
	if kv, ok := tag(s.Tags, "error"); !ok || kv.Value != true {
		t.Errorf("%s: tag error = %+v, want true", s.OperationName, kv)
	}
	for k, want := range map[string]string{
		"otel.status_code":        "ERROR",
		"otel.status_description": msg,
		"error.type":              errType,
	} {
		if got := tagString(s.Tags, k); got != want {
			t.Errorf("%s: tag %s = %q, want %q", s.OperationName, k, got, want)
		}
	}
	var exceptions []jaegerLog
	for _, l := range s.Logs {
		if tagString(l.Fields, "event") == "exception" {
			exceptions = append(exceptions, l)
		}
	}
	if len(exceptions) != 1 {
		t.Fatalf("%s: %d exception logs, want 1: %+v", s.OperationName, len(exceptions), s.Logs)
	}
	ex := exceptions[0]
	if got := tagString(ex.Fields, "exception.message"); got != msg {
		t.Errorf("%s: exception.message = %q, want %q", s.OperationName, got, msg)
	}
	if tagString(ex.Fields, "exception.type") == "" {
		t.Errorf("%s: exception log without exception.type", s.OperationName)
	}
	stack := tagString(ex.Fields, "exception.stacktrace")
	switch {
	case panicked && !(strings.Contains(stack, "panic(") && strings.Contains(stack, "TestJaegerPipeline")):
		t.Errorf("%s: exception.stacktrace does not show the panic: %.300s", s.OperationName, stack)
	case !panicked && stack != "":
		t.Errorf("%s: a plain error has a stack trace", s.OperationName)
	}
	if ex.Timestamp < s.StartTime || ex.Timestamp > s.StartTime+s.Duration {
		t.Errorf("%s: exception at %d outside the span [%d, %d]", s.OperationName, ex.Timestamp, s.StartTime, s.StartTime+s.Duration)
	}
}

func checkOK(t *testing.T, s jaegerSpan) {
	t.Helper()
	for _, k := range []string{"error", "otel.status_code", "error.type"} {
		if kv, ok := tag(s.Tags, k); ok {
			t.Errorf("%s: unexpected tag %s = %v", s.OperationName, k, kv.Value)
		}
	}
	if len(s.Logs) != 0 {
		t.Errorf("%s: unexpected logs %+v", s.OperationName, s.Logs)
	}
}

// checkAgainstRunFile checks that the run file and Jaeger agree: the same
// spans with the same names, parents and times. Both keep microseconds of
// the SDK's nanosecond times: Jaeger truncates start and duration, the run
// file writes start times truncated and durations rounded to the nearest
// microsecond. Each is checked exactly against the recorded truth, so the
// two never differ by more than the 1 µs that rounding allows.
func checkAgainstRunFile(t *testing.T, trace jaegerTrace, rf *runfile.Run, truth []sdktrace.ReadOnlySpan) {
	t.Helper()
	byID := make(map[string]jaegerSpan, len(trace.Spans))
	for _, s := range trace.Spans {
		byID[s.SpanID] = s
	}
	truthByID := make(map[string]sdktrace.ReadOnlySpan, len(truth))
	for _, s := range truth {
		truthByID[s.SpanContext().SpanID().String()] = s
	}

	type record struct {
		spanID, parentID, name string
		start                  time.Time
		durationSec            float64
	}
	records := []record{{spanID: rf.SpanID, name: rf.Name, start: rf.StartTime, durationSec: rf.TotalDurationSec}}
	var walk func(ss runfile.Stages, parent string)
	walk = func(ss runfile.Stages, parent string) {
		for _, s := range ss {
			records = append(records, record{spanID: s.SpanID, parentID: parent, name: s.Name, start: s.StartTime, durationSec: s.DurationSec})
			walk(s.Stages, s.SpanID)
		}
	}
	walk(rf.Stages, rf.SpanID)
	if len(records) != len(trace.Spans) {
		t.Errorf("run file has %d spans (run + stages), Jaeger %d", len(records), len(trace.Spans))
	}

	maxDiff := int64(0)
	for _, r := range records {
		js, ok := byID[r.spanID]
		if !ok {
			t.Errorf("run file span %s (%s) is not in Jaeger", r.spanID, r.name)
			continue
		}
		if js.OperationName != r.name {
			t.Errorf("span %s: Jaeger %q, run file %q", r.spanID, js.OperationName, r.name)
		}
		if r.parentID != "" && (len(js.References) != 1 || js.References[0].SpanID != r.parentID) {
			t.Errorf("span %s (%s): Jaeger parent %+v, run file parent %s", r.spanID, r.name, js.References, r.parentID)
		}
		ts, ok := truthByID[r.spanID]
		if !ok {
			t.Errorf("span %s (%s) was not recorded", r.spanID, r.name)
			continue
		}
		ns := ts.EndTime().Sub(ts.StartTime()).Nanoseconds()
		startUs := ts.StartTime().UnixMicro()
		fileUs := int64(r.durationSec*1e6 + 0.5)
		if r.start.UnixMicro() != startUs || js.StartTime != startUs {
			t.Errorf("%s start: run file %d µs, Jaeger %d µs, span %d µs", r.name, r.start.UnixMicro(), js.StartTime, startUs)
		}
		if want := (ns + 500) / 1000; fileUs != want {
			t.Errorf("%s duration: run file %d µs, span %d ns rounds to %d µs", r.name, fileUs, ns, want)
		}
		if want := ns / 1000; js.Duration != want {
			t.Errorf("%s duration: Jaeger %d µs, span %d ns truncates to %d µs", r.name, js.Duration, ns, want)
		}
		d := fileUs - js.Duration
		if d < 0 {
			d = -d
		}
		if d > 1 {
			t.Errorf("%s duration: run file %d µs and Jaeger %d µs differ by more than 1 µs", r.name, fileUs, js.Duration)
		}
		maxDiff = max(maxDiff, d)
	}
	t.Logf("run file and Jaeger agree on %d spans; largest duration difference %d µs (rounding vs truncation)", len(records), maxDiff)
}

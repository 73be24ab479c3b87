package jsonrun_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	scope = instrumentation.Scope{Name: keys.ScopeName}
	t0    = time.Date(2025, 5, 5, 23, 14, 10, 235518000, time.UTC)
)

func traceID(n byte) trace.TraceID { return trace.TraceID{15: n} }
func spanID(n byte) trace.SpanID   { return trace.SpanID{7: n} }

func sc(tid trace.TraceID, sid trace.SpanID) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
}

// runStubs returns the spans of a run with n stages, stages first, as a
// tracer with a simple processor would deliver them.
func runStubs(runID string, tn byte, n int) tracetest.SpanStubs {
	tid := traceID(tn)
	root := sc(tid, spanID(1))
	var out tracetest.SpanStubs
	for i := range n {
		out = append(out, tracetest.SpanStub{
			Name:        fmt.Sprint("stage", i),
			SpanContext: sc(tid, spanID(byte(i+2))),
			Parent:      root,
			StartTime:   t0.Add(time.Duration(i) * time.Second),
			EndTime:     t0.Add(time.Duration(i)*time.Second + 500*time.Millisecond),
			Attributes: []attribute.KeyValue{
				attribute.String(keys.RunID, runID),
				attribute.String(keys.StageName, fmt.Sprint("stage", i)),
				attribute.String(keys.StageData, fmt.Sprintf(`{"i":%d}`, i)),
				attribute.Int(keys.StageDataSize, len(fmt.Sprintf(`{"i":%d}`, i))),
			},
			InstrumentationScope: scope,
		})
	}
	out = append(out, tracetest.SpanStub{
		Name:        "run",
		SpanContext: root,
		StartTime:   t0.Add(-time.Second),
		EndTime:     t0.Add(time.Duration(n) * time.Second),
		Attributes: []attribute.KeyValue{
			attribute.String(keys.RunID, runID),
			attribute.Int(keys.RunStageCount, n),
		},
		InstrumentationScope: scope,
	})
	return out
}

const (
	id1 = "af3c980c-3d22-46e8-83cd-7ff99abee586"
	id2 = "0b6a1c2e-5f7d-4a8b-9c0d-1e2f3a4b5c6d"
)

func newExporter(t *testing.T, opts ...jsonrun.Option) (*jsonrun.Exporter, string) {
	t.Helper()
	dir := t.TempDir()
	exp, err := jsonrun.New(append([]jsonrun.Option{jsonrun.WithDir(dir)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exp.Shutdown(context.Background()) })
	return exp, dir
}

func readRun(t *testing.T, path string) *jsonrun.Run {
	t.Helper()
	r, err := jsonrun.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestExportBatchesOfMixedRuns(t *testing.T) {
	exp, dir := newExporter(t)
	a, b := runStubs(id1, 1, 3), runStubs(id2, 2, 2)
	// One batch with both runs interleaved, as a batch processor sends them.
	mixed := tracetest.SpanStubs{a[0], b[0], a[1], b[1], b[2], a[2], a[3]}
	if err := exp.ExportSpans(t.Context(), mixed.Snapshots()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id     string
		stages int
	}{{id1, 3}, {id2, 2}} {
		r := readRun(t, filepath.Join(dir, tc.id+".json"))
		if len(r.Stages) != tc.stages || r.Status != jsonrun.StatusOK || r.StageCount != tc.stages {
			t.Errorf("run %s: %d stages, status %s", tc.id, len(r.Stages), r.Status)
		}
	}
}

func TestMissingStagesMarkIncomplete(t *testing.T) {
	exp, dir := newExporter(t)
	spans := runStubs(id1, 1, 4)
	spans = append(spans[:1], spans[2:]...) // lose stage1 on the way
	if err := exp.ExportSpans(t.Context(), spans.Snapshots()); err != nil {
		t.Fatal(err)
	}
	r := readRun(t, filepath.Join(dir, id1+".json"))
	if r.Status != jsonrun.StatusIncomplete || r.MissingStages != 1 || len(r.Stages) != 3 {
		t.Errorf("status %s, missing %d, stages %d", r.Status, r.MissingStages, len(r.Stages))
	}
}

// TestNonRunSpansIgnored: a span that names no run, of a trace that is no
// known run's, is ignored without allocating, also while runs are open
// (their traces are looked up), and never buffered. (By the run
// convention a span of any scope that carries stage_tracker.run.id is a
// run's root: TestForeignSpanWithRunIDIsRoot.)
func TestNonRunSpansIgnored(t *testing.T) {
	exp, dir := newExporter(t)
	http := tracetest.SpanStubs{{
		Name:                 "GET /health",
		SpanContext:          sc(traceID(9), spanID(9)),
		Attributes:           []attribute.KeyValue{attribute.String("http.route", "/health")},
		InstrumentationScope: instrumentation.Scope{Name: "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"},
	}}.Snapshots()
	check := func(when string) {
		t.Helper()
		allocs := testing.AllocsPerRun(1000, func() {
			if err := exp.ExportSpans(t.Context(), http); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: ExportSpans of a non-run span allocates %v times, want 0", when, allocs)
		}
	}
	check("no run open")
	// A run open in another trace: its trace is known, this one is not.
	if err := exp.ExportSpans(t.Context(), runStubs(id1, 1, 2)[:1].Snapshots()); err != nil {
		t.Fatal(err)
	}
	check("a run open")
	// Shutdown writes every buffered run: only the open run was buffered.
	if err := exp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || entries[0].Name() != id1+".json" {
		t.Errorf("non-run spans were buffered and written: %v", entries)
	}
}

// TestEvictionBound: beyond the bound, the oldest run spills its stages to
// a journal named by its run id instead of being written, and Shutdown
// writes every run, spilled or not, as incomplete with all its stages.
func TestEvictionBound(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithMaxPendingRuns(2))
	ids := []string{id1, id2, "3c0ffee0-0000-4000-8000-000000000003"}
	for i, id := range ids {
		stage := runStubs(id, byte(i+1), 1)[:1] // a stage, never its run span
		if err := exp.ExportSpans(t.Context(), stage.Snapshots()); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != id1+jsonrun.JournalSuffix {
		t.Fatalf("after 3 pending runs with a bound of 2: %v, want the oldest spilled to its journal", entries)
	}
	if err := exp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		r := readRun(t, filepath.Join(dir, id+".json"))
		if r.Status != jsonrun.StatusIncomplete || len(r.Stages) != 1 || len(r.Warnings) == 0 {
			t.Errorf("run %s at Shutdown: status %s, %d stages, warnings %v", id, r.Status, len(r.Stages), r.Warnings)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, id1+jsonrun.JournalSuffix)); err == nil {
		t.Error("the spilled journal is still there after its run was written")
	}
}

func TestShutdown(t *testing.T) {
	exp, dir := newExporter(t)
	stage := runStubs(id1, 1, 1)[:1]
	exp.ExportSpans(t.Context(), stage.Snapshots())
	if err := exp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(t.Context()); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
	r := readRun(t, filepath.Join(dir, id1+".json"))
	if r.Status != jsonrun.StatusIncomplete || len(r.Stages) != 1 {
		t.Errorf("pending run written on Shutdown: status %s, %d stages", r.Status, len(r.Stages))
	}
	// After Shutdown, spans are ignored.
	if err := exp.ExportSpans(t.Context(), runStubs(id2, 2, 1).Snapshots()); err != nil {
		t.Errorf("ExportSpans after Shutdown = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, id2+".json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run written after Shutdown: %v", err)
	}
}

func TestExportHonoursContext(t *testing.T) {
	exp, _ := newExporter(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := exp.ExportSpans(ctx, runStubs(id1, 1, 1).Snapshots()); !errors.Is(err, context.Canceled) {
		t.Errorf("ExportSpans with a cancelled context = %v", err)
	}
	if _, err := exp.WaitRunFile(ctx, id1); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitRunFile with nothing written = %v", err)
	}
}

func TestWaitRunFile(t *testing.T) {
	exp, dir := newExporter(t)
	done := make(chan error, 1)
	go func() {
		path, err := exp.WaitRunFile(t.Context(), id1)
		if err == nil && path != filepath.Join(dir, id1+".json") {
			err = fmt.Errorf("path %q", path)
		}
		done <- err
	}()
	if err := exp.ExportSpans(t.Context(), runStubs(id1, 1, 2).Snapshots()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// TestRunIDNeverBecomesAPath: spans whose run id is not a UUID are
// refused and counted (runid_test.go), never a file name.
func TestRunIDNeverBecomesAPath(t *testing.T) {
	exp, dir := newExporter(t)
	for i, bad := range []string{"../escape", "a/b", "..", "x\ny"} {
		err := exp.ExportSpans(t.Context(), runStubs(bad, 1, 1).Snapshots())
		if err != nil || exp.Stats().BadRunIDs != int64(2*(i+1)) {
			t.Errorf("run id %q: %v, %d refused; want nil and both spans refused", bad, err, exp.Stats().BadRunIDs)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("files appeared beside the run directory: %v", entries)
	}
}

func TestFilePerm(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []jsonrun.Option
		want os.FileMode
	}{
		{"default", nil, 0o644},
		{"private", []jsonrun.Option{jsonrun.WithFilePerm(0o600)}, 0o600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, dir := newExporter(t, tc.opts...)
			exp.ExportSpans(t.Context(), runStubs(id1, 1, 1).Snapshots())
			fi, err := os.Stat(filepath.Join(dir, id1+".json"))
			if err != nil || fi.Mode().Perm() != tc.want {
				t.Errorf("mode %v, %v; want %v", fi.Mode().Perm(), err, tc.want)
			}
		})
	}
	if _, err := jsonrun.New(jsonrun.WithFilePerm(0o444)); err == nil {
		t.Error("New accepted a permission the owner cannot write with")
	}
}

func TestHistoryConcurrentSafe(t *testing.T) {
	hist := filepath.Join(t.TempDir(), "history.jsonl")
	exp, _ := newExporter(t, jsonrun.WithHistory(hist))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				id := fmt.Sprintf("00000000-0000-4000-8000-%012d", g*100+i)
				if err := exp.ExportSpans(context.Background(), runStubs(id, byte(g), 3).Snapshots()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	runs, err := jsonrun.ReadHistory(hist)
	if err != nil || len(runs) != 200 {
		t.Fatalf("read %d runs, %v; want 200", len(runs), err)
	}
	seen := map[string]bool{}
	for _, r := range runs {
		seen[r.RunID] = true
		if len(r.Stages) != 3 {
			t.Errorf("run %s has %d stages", r.RunID, len(r.Stages))
		}
	}
	if len(seen) != 200 {
		t.Errorf("%d distinct runs, want 200", len(seen))
	}
}

func TestReadHistorySkipsBadLines(t *testing.T) {
	hist := filepath.Join(t.TempDir(), "history.jsonl")
	exp, _ := newExporter(t, jsonrun.WithHistory(hist))
	exp.ExportSpans(t.Context(), runStubs(id1, 1, 1).Snapshots())
	f, _ := os.OpenFile(hist, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{not json}\n")
	f.Close()
	exp.ExportSpans(t.Context(), runStubs(id2, 2, 1).Snapshots())
	f, _ = os.OpenFile(hist, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"run_id":"torn`)
	f.Close()

	runs, err := jsonrun.ReadHistory(hist)
	if len(runs) != 2 || runs[0].RunID != id1 || runs[1].RunID != id2 {
		t.Fatalf("runs = %d, want both good runs", len(runs))
	}
	var le *jsonrun.LineError
	if !errors.As(err, &le) || le.Line != 2 || !strings.Contains(err.Error(), "line 4: torn line") {
		t.Errorf("err = %v, want line 2 and a torn line 4 reported", err)
	}

	// Appending after the torn line starts a new line: reading keeps the
	// whole record and reports the torn one.
	before, _ := os.ReadFile(hist)
	const id3 = "3c0ffee0-0000-4000-8000-000000000003"
	exp.ExportSpans(t.Context(), runStubs(id3, 3, 1).Snapshots())
	after, _ := os.ReadFile(hist)
	if !strings.HasPrefix(string(after), string(before)) {
		t.Error("appending rewrote what was there")
	}
	runs, err = jsonrun.ReadHistory(hist)
	if len(runs) != 3 || runs[2].RunID != id3 || !strings.Contains(fmt.Sprint(err), "line 4: ") {
		t.Errorf("after append: %d runs, err %v; want the new run kept and line 4's torn record reported", len(runs), err)
	}
}

func TestToRun(t *testing.T) {
	spans := runStubs(id1, 1, 2)
	spans = append(spans, tracetest.SpanStub{Name: "other", InstrumentationScope: instrumentation.Scope{Name: "x"}})
	r, err := jsonrun.ToRun(spans.Snapshots())
	if err != nil {
		t.Fatal(err)
	}
	if r.RunID != id1 || len(r.Stages) != 2 || r.TotalDurationSec != 3 || r.Stages[0].DurationSec != 0.5 {
		t.Errorf("run = %+v", r)
	}
	if _, err := jsonrun.ToRun(spans[:1].Snapshots()); err == nil {
		t.Error("ToRun without a run span succeeded")
	}
	two := append(runStubs(id1, 1, 1), runStubs(id2, 2, 1)...)
	if _, err := jsonrun.ToRun(two.Snapshots()); err == nil {
		t.Error("ToRun with two runs succeeded")
	}
}

func TestTruncatedDataIsMarked(t *testing.T) {
	exp, dir := newExporter(t)
	spans := runStubs(id1, 1, 1)
	spans[0].Attributes = []attribute.KeyValue{
		attribute.String(keys.RunID, id1),
		attribute.String(keys.StageName, "s"),
		attribute.String(keys.StageData, `{"text":"abcdefgh`), // cut by a value length limit
		attribute.Int(keys.StageDataSize, 40),
	}
	exp.ExportSpans(t.Context(), spans.Snapshots())
	r := readRun(t, filepath.Join(dir, id1+".json"))
	st := r.Stages[0]
	if len(st.Data) != 0 || !strings.Contains(st.DataError, "truncated") {
		t.Errorf("data %s, data_error %q: want null data marked truncated", st.Data, st.DataError)
	}
}

func TestRoundTrip(t *testing.T) {
	r := &jsonrun.Run{
		RunID: id1, StartTime: t0, Args: json.RawMessage(`{"a":"<b> & \"c\""}`),
		Stages: jsonrun.Stages{{
			Key: "x\n\"y\"", Name: "x\n\"y\"", Attempt: 1, StartTime: t0, EndTime: t0.Add(time.Second), DurationSec: 1,
			Data: json.RawMessage(`[1,2]`), Error: "bad \u2028 \x01 \xff", Status: jsonrun.StageError, SpanID: "0000000000000002",
			Stages: jsonrun.Stages{{Key: "inner", Name: "inner", Attempt: 1, Status: jsonrun.StageOK}},
		}},
		CompletedAt: t0.Add(2 * time.Second), TotalDurationSec: 2, SchemaVersion: 1, Name: "n", Status: jsonrun.StatusFailed,
		TraceID: "t", SpanID: "s", StageCount: 2, Warnings: []string{"w"},
	}
	for _, indent := range []bool{false, true} {
		var b []byte
		if indent {
			b = r.AppendIndent(nil)
		} else {
			b, _ = r.MarshalJSON()
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
		var got jsonrun.Run
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Stages[0].Error != "bad \u2028 \x01 \ufffd" || got.Stages[0].Key != "x\n\"y\"" || got.Stages[0].Stages[0].Key != "inner" ||
			!got.StartTime.Equal(t0) || string(got.Args) != string(r.Args) {
			t.Errorf("indent=%v round trip: %+v", indent, got)
		}
	}
}

func TestReadFileRefusesHostileNesting(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"run_id":"` + id1 + `","stages":`)
	const depth = 2000
	for range depth {
		b.WriteString(`{"s":{"stages":`)
	}
	b.WriteString(`{}`)
	for range depth {
		b.WriteString(`}}`)
	}
	b.WriteString(`}`)
	path := filepath.Join(t.TempDir(), "deep.json")
	os.WriteFile(path, []byte(b.String()), 0o644)
	if _, err := jsonrun.ReadFile(path); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("ReadFile of a %d-level file = %v, want a nesting error", depth, err)
	}
}

func TestRunSpanAfterEvictionKeepsEvictedStages(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithMaxPendingRuns(1))
	a := runStubs(id1, 1, 3) // stage0, stage1, stage2, run span
	b := runStubs(id2, 2, 1)
	exp.ExportSpans(t.Context(), a[:2].Snapshots()) // two stages of run 1
	exp.ExportSpans(t.Context(), b[:1].Snapshots()) // run 2 evicts run 1
	if _, err := os.Stat(filepath.Join(dir, id1+".json")); err == nil {
		t.Fatal("an evicted run was written before its run span")
	}
	exp.ExportSpans(t.Context(), a[2:].Snapshots()) // its last stage and run span
	r := readRun(t, filepath.Join(dir, id1+".json"))
	if r.Status != jsonrun.StatusOK || len(r.Stages) != 3 || r.MissingStages != 0 {
		t.Errorf("after the run span: status %s, %d stages, %d missing; want all 3 stages kept", r.Status, len(r.Stages), r.MissingStages)
	}
	if st, _ := r.Stages.Get("stage0"); string(st.Data) != `{"i":0}` || st.DurationSec != 0.5 {
		t.Errorf("stage0 from the evicted file: %+v", st)
	}
}

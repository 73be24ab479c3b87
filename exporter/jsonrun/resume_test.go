package jsonrun

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// resumeSpan is an ended span of run runID: its root when stage is "".
func resumeSpan(runID string, span byte, parent byte, stage string) sdktrace.ReadOnlySpan {
	tid := trace.TraceID{0: 0xab, 15: 1}
	start := time.Unix(1764666000, int64(span)*1e6)
	stub := tracetest.SpanStub{
		Name:                 "run",
		SpanContext:          trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{7: span}, TraceFlags: trace.FlagsSampled}),
		StartTime:            start,
		EndTime:              start.Add(time.Millisecond),
		Attributes:           []attribute.KeyValue{attribute.String(keys.RunID, runID)},
		InstrumentationScope: instrumentation.Scope{Name: keys.ScopeName},
	}
	if parent != 0 {
		stub.Parent = trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{7: parent}, TraceFlags: trace.FlagsSampled})
	}
	if stage != "" {
		stub.Name = stage
		stub.Attributes = append(stub.Attributes, attribute.String(keys.StageName, stage))
	}
	return stub.Snapshot()
}

// A process that only receives ended spans stops in the middle of a run
// (Detach, or a kill: the journal is left either way); the next exporter on
// the directory resumes the run and writes it whole when its root arrives.
func TestResumeFinishesARunAcrossARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const runA, runB = "0e9b3a8e-3c5e-4f7e-9b61-0a0a0a0a0a01", "0e9b3a8e-3c5e-4f7e-9b61-0a0a0a0a0a02"

	first, err := New(WithDir(dir), WithMaxPendingRuns(1))
	if err != nil {
		t.Fatal(err)
	}
	// A second run evicts the first, whose stage then lives in its journal.
	if err := first.ExportSpans(ctx, []sdktrace.ReadOnlySpan{resumeSpan(runA, 2, 1, "extract"), resumeSpan(runB, 9, 8, "other")}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, runA+JournalSuffix)); err != nil {
		t.Fatalf("no journal for the evicted run: %v", err)
	}
	if err := first.Detach(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, runA+".json")); !os.IsNotExist(err) {
		t.Fatalf("Detach wrote a run file for an open run with a journal: %v", err)
	}

	second, err := New(WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := second.Resume(ctx)
	if err != nil || len(ids) != 1 || ids[0] != runA {
		t.Fatalf("Resume = %v, %v; want [%s]", ids, err, runA)
	}
	// Taken over: a concurrent Recover must leave it alone.
	if paths, err := second.Recover(ctx); err != nil || len(paths) != 0 {
		t.Fatalf("Recover = %v, %v; want nothing", paths, err)
	}
	if err := second.ExportSpans(ctx, []sdktrace.ReadOnlySpan{resumeSpan(runA, 3, 1, "load"), resumeSpan(runA, 1, 0, "")}); err != nil {
		t.Fatal(err)
	}
	run, err := ReadFile(filepath.Join(dir, runA+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := run.Stages.Get("extract"); !ok {
		t.Errorf("the stage from before the restart is lost: %+v", run.Stages)
	}
	if _, ok := run.Stages.Get("load"); !ok {
		t.Errorf("the stage from after the restart is lost: %+v", run.Stages)
	}
	if _, err := os.Stat(filepath.Join(dir, runA+JournalSuffix)); !os.IsNotExist(err) {
		t.Errorf("journal left after the run was written: %v", err)
	}
	if err := second.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// Resume leaves alone a journal a live process holds and one whose run span
// started in a process (that process's death is a crash, for Recover).
func TestResumeTakesOnlyDeadReceiversJournals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const runA, runB = "0e9b3a8e-3c5e-4f7e-9b61-0a0a0a0a0a03", "0e9b3a8e-3c5e-4f7e-9b61-0a0a0a0a0a04"
	live, err := New(WithDir(dir), WithMaxPendingRuns(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := live.ExportSpans(ctx, []sdktrace.ReadOnlySpan{resumeSpan(runA, 2, 1, "a"), resumeSpan(runB, 9, 8, "b")}); err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, "0e9b3a8e-3c5e-4f7e-9b61-0a0a0a0a0a05"+JournalSuffix)
	if err := os.WriteFile(crashed, []byte(`{"e":"run","t":1,"run_id":"0e9b3a8e-3c5e-4f7e-9b61-0a0a0a0a0a05","span_id":"0000000000000001","pid":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other, err := New(WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := other.Resume(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("Resume = %v, %v; want nothing", ids, err)
	}
	if err := errors.Join(live.Shutdown(ctx), other.Shutdown(ctx)); err != nil {
		t.Fatal(err)
	}
}

// With every run journaled and a late-stage wait, the stages in a resumed
// journal count towards the root's stage count: the file is written when the
// root arrives, not a wait later; and Detach writes a run whose root waits.
func TestResumeCountsJournaledStages(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const runA, runB = "0e9b3a8e-3c5e-4f7e-9b61-0a0a0a0a0a06", "0e9b3a8e-3c5e-4f7e-9b61-0a0a0a0a0a07"
	opts := []Option{WithDir(dir), WithJournalAllRuns(), WithLateStageWait(time.Hour)}
	first, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	rootB := tracetest.SpanStubFromReadOnlySpan(resumeSpan(runB, 21, 0, ""))
	rootB.Attributes = append(rootB.Attributes, attribute.Int(keys.RunStageCount, 5))
	if err := first.ExportSpans(ctx, []sdktrace.ReadOnlySpan{resumeSpan(runA, 2, 1, "extract"), rootB.Snapshot()}); err != nil {
		t.Fatal(err)
	}
	if err := first.Detach(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, runB+".json")); err != nil {
		t.Errorf("Detach kept a run whose root had arrived instead of writing it: %v", err)
	}
	second, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := second.Resume(ctx); err != nil || len(ids) != 1 {
		t.Fatalf("Resume = %v, %v", ids, err)
	}
	root := tracetest.SpanStubFromReadOnlySpan(resumeSpan(runA, 1, 0, ""))
	root.Attributes = append(root.Attributes, attribute.Int(keys.RunStageCount, 2))
	if err := second.ExportSpans(ctx, []sdktrace.ReadOnlySpan{resumeSpan(runA, 3, 1, "load"), root.Snapshot()}); err != nil {
		t.Fatal(err)
	}
	run, err := ReadFile(filepath.Join(dir, runA+".json"))
	if err != nil {
		t.Fatalf("run file not written when its last stage arrived: %v", err)
	}
	if len(run.Stages) != 2 || run.MissingStages != 0 {
		t.Errorf("stages %d, missing %d; want 2, 0", len(run.Stages), run.MissingStages)
	}
	if err := second.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

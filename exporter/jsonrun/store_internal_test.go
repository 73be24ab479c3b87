package jsonrun

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestStoreRewritesFileLostBeforeSync: a run file is written without its
// syncs while the store keeps the run; a crash before the batch sync may
// leave the file empty. The next exporter writes it again from the store.
func TestStoreRewritesFileLostBeforeSync(t *testing.T) {
	const id = "00000001-0000-4000-8000-000000000001"
	dir := t.TempDir()
	open := func() *Exporter {
		e, err := New(WithDir(dir), WithRunFilesInDirOnly(), WithJournalAllRuns(), WithRunStore())
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	span := func(sid byte, attrs ...attribute.KeyValue) tracetest.SpanStub {
		t0 := time.Unix(1764666000, 0)
		s := tracetest.SpanStub{
			Name:        "s",
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{15: 1}, SpanID: trace.SpanID{7: sid}, TraceFlags: trace.FlagsSampled}),
			StartTime:   t0.Add(time.Duration(sid) * time.Second), EndTime: t0.Add(time.Duration(sid)*time.Second + time.Second),
			Attributes: append([]attribute.KeyValue{attribute.String(keys.RunID, id)}, attrs...),
		}
		if sid != 1 {
			s.Parent = trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{15: 1}, SpanID: trace.SpanID{7: 1}, TraceFlags: trace.FlagsSampled})
		}
		return s
	}
	e1 := open()
	gate := make(chan struct{})
	e1.store.mu.Lock()
	e1.store.syncGate = gate
	e1.store.mu.Unlock()
	spans := tracetest.SpanStubs{span(2, attribute.String(keys.StageName, "build")), span(1, attribute.Int(keys.RunStageCount, 1))}
	if err := e1.ExportSpans(t.Context(), spans.Snapshots()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, id+".json")
	if _, err := runfile.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	// The crash: the file's data never reached the disk; the process is
	// gone without a word to the store.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	e1.store.mu.Lock()
	e1.store.closed = true
	e1.store.mu.Unlock()
	e1.store.closeFiles()
	close(gate)
	e1.store.mu.Lock()
	for e1.store.syncing {
		e1.store.cond.Wait()
	}
	e1.store.mu.Unlock()

	e2 := open()
	t.Cleanup(func() { e2.Shutdown(t.Context()) })
	if _, err := e2.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	run, err := runfile.ReadFile(path)
	if err != nil {
		t.Fatalf("run file not written again: %v", err)
	}
	if run.Status != runfile.StatusOK || len(run.Stages) != 1 {
		t.Errorf("rewritten run: status %s, %d stages; want ok with 1", run.Status, len(run.Stages))
	}
}

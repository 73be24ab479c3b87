package receiver_test

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/receiver"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// TestSameSpanTwiceIsOneStage: stagetrack run's pipeline in one process
// (a tracker with a feed, the receiver handing spans to it, as run.go
// wires them). A span a child's SDK delivers twice (its retry after a lost
// answer, or the same batch sent again) is one stage of the run file.
func TestSameSpanTwiceIsOneStage(t *testing.T) {
	// Fails until exporter/jsonrun merges stage records by span id (issue
	// 19); the branch that brings the merge deletes this line.
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	t.Setenv("OTEL_METRICS_EXPORTER", "none")
	for _, tc := range []struct {
		name  string
		sends func(extract, download tracetest.SpanStub) []tracetest.SpanStubs
	}{
		{"the same request twice", func(e, d tracetest.SpanStub) []tracetest.SpanStubs {
			return []tracetest.SpanStubs{{e, d}, {e, d}}
		}},
		{"twice in one request", func(e, d tracetest.SpanStub) []tracetest.SpanStubs {
			return []tracetest.SpanStubs{{e, e, d}}
		}},
		{"a parent again after its child", func(e, d tracetest.SpanStub) []tracetest.SpanStubs {
			return []tracetest.SpanStubs{{e}, {d}, {e}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			feed := setup.NewFeed()
			tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(dir), setup.WithFeed(feed))
			if err != nil {
				t.Fatal(err)
			}
			ctx, run := tr.Start(t.Context(), nil, tracker.WithRunName("dedup"))
			r, err := receiver.Start(ctx, feed.End)
			if err != nil {
				t.Fatal(err)
			}
			extract, download := childStubs(trace.SpanContextFromContext(ctx))
			for _, stubs := range tc.sends(extract, download) {
				if err := exportSDK(t, r, stubs); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := run.Finalize(ctx); err != nil {
				t.Fatal(err)
			}
			if err := shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			rf, err := runfile.ReadFile(run.File())
			if err != nil {
				t.Fatal(err)
			}
			e, ok := rf.Stages.Get("extract")
			if len(rf.Stages) != 1 || !ok || e.Attempt > 1 || e.SpanID != extract.SpanContext.SpanID().String() {
				t.Fatalf("top-level stages %+v; want extract alone, once, attempt 1", rf.Stages)
			}
			if d, ok := e.Stages.Get("download"); len(e.Stages) != 1 || !ok || d.Attempt > 1 {
				t.Errorf("extract's stages %+v; want download alone, once", e.Stages)
			}
			if rf.Status != runfile.StatusOK {
				t.Errorf("run %s (%q); want ok", rf.Status, rf.Error)
			}
		})
	}
}

// childStubs are two spans of another process under the run span: extract,
// and download in it.
func childStubs(run trace.SpanContext) (extract, download tracetest.SpanStub) {
	t0 := time.Now().Add(-time.Second)
	sc := func(id byte) trace.SpanContext {
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: run.TraceID(), SpanID: trace.SpanID{7: id}, TraceFlags: trace.FlagsSampled})
	}
	extract = tracetest.SpanStub{Name: "extract", SpanContext: sc(1), Parent: run, StartTime: t0, EndTime: t0.Add(300 * time.Millisecond)}
	download = tracetest.SpanStub{Name: "download", SpanContext: sc(2), Parent: sc(1), StartTime: t0.Add(time.Millisecond), EndTime: t0.Add(200 * time.Millisecond)}
	return extract, download
}

package setup_test

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
)

// TestFeed: a span handed to a Feed reaches the run file and the other
// exporters as it is, without the provider recording it again, except that
// a span of a process with its own Tracker skips the run file; after
// shutdown it is dropped.
func TestFeed(t *testing.T) {
	setEnv(t, nil)
	dir := t.TempDir()
	mem := tracetest.NewInMemoryExporter()
	feed := setup.NewFeed()
	feed.End(nil) // before Tracker: nothing to hand to, no crash
	tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(dir), setup.WithExporters(mem), setup.WithFeed(feed))
	if err != nil {
		t.Fatal(err)
	}
	ctx, run := tr.Start(t.Context(), nil)
	parent := trace.SpanContextFromContext(ctx)
	stage := tracetest.SpanStub{
		Name: "received",
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: parent.TraceID(), SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled,
		}),
		Parent:    parent,
		StartTime: time.Now(),
		EndTime:   time.Now(),
		Attributes: []attribute.KeyValue{
			attribute.String(keys.RunID, run.ID()), attribute.String(keys.StageName, "received"),
			attribute.String(keys.StageData, `{"rows":3}`),
		},
		Status:               sdktrace.Status{Code: codes.Error, Description: "disk full"},
		InstrumentationScope: instrumentation.Scope{Name: keys.ScopeName},
	}
	unsampled := stage
	unsampled.Name = "unsampled"
	unsampled.SpanContext = unsampled.SpanContext.WithTraceFlags(0)
	// From a process with a Tracker of its own, which journaled it itself.
	joined := stage
	joined.Name = "joined"
	joined.SpanContext = joined.SpanContext.WithSpanID(trace.SpanID{9, 9, 9, 9, 9, 9, 9, 9})
	joined.Resource = resource.NewSchemaless(setup.VersionKey.String("v0"))
	feed.End(tracetest.SpanStubs{stage, unsampled, joined}.Snapshots())
	if err := run.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	exported := mem.GetSpans() // Finalize flushed; shutdown resets mem
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	feed.End(tracetest.SpanStubs{stage}.Snapshots()) // after shutdown: dropped

	rf, err := runfile.ReadFile(run.File())
	if err != nil {
		t.Fatal(err)
	}
	if len(rf.Stages) != 1 || rf.Stages[0].Key != "received" || rf.Stages[0].Error != "disk full" || string(rf.Stages[0].Data) != `{"rows":3}` {
		t.Fatalf("run file stages %+v; want the received stage", rf.Stages)
	}
	var names []string
	for _, s := range exported {
		names = append(names, s.Name)
		if s.Name == "received" && s.SpanContext.SpanID() != stage.SpanContext.SpanID() {
			t.Errorf("the exporter got span %s; want the received one, %s", s.SpanContext.SpanID(), stage.SpanContext.SpanID())
		}
	}
	if len(names) != 3 || names[0] != "received" || names[1] != "joined" {
		t.Errorf("exporter got %v; want the received spans once, then the run span", names)
	}
}

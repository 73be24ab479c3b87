package jsonrun_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// recordOnlyNamed samples every span but those named name, which it
// records without sampling: the SDK still hands them to span processors.
type recordOnlyNamed struct{ name string }

func (s recordOnlyNamed) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	d := sdktrace.RecordAndSample
	if p.Name == s.name {
		d = sdktrace.RecordOnly
	}
	return sdktrace.SamplingResult{Decision: d, Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState()}
}

func (recordOnlyNamed) Description() string { return "recordOnlyNamed" }

// The Processor sees spans that are recorded but not sampled; none of them
// may reach a run file, whether it names its run (a stage of the tracker)
// or is found by its trace (a span of another process under a stage, as
// setup.Feed hands them over).
func TestProcessorDropsUnsampledSpans(t *testing.T) {
	exp, dir := newExporter(t)
	proc := jsonrun.NewProcessor(exp)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(recordOnlyNamed{"unsampled"}),
		sdktrace.WithSpanProcessor(proc),
	)
	defer tp.Shutdown(context.Background())
	other := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(recordOnlyNamed{"unsampled"}),
		sdktrace.WithSpanProcessor(proc),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "worker"))),
	)
	tr := tracker.New(tracker.WithTracerProvider(tp))
	lib := other.Tracer("example.com/worker")

	ctx, run := tr.Start(t.Context(), "pipeline")
	sctx, s := run.StartStage(ctx, "kept")
	_, kept := lib.Start(sctx, "query")
	kept.End()
	_, dropped := lib.Start(sctx, "unsampled")
	dropped.End()
	s.End(nil, nil)
	_, u := run.StartStage(ctx, "unsampled")
	u.End(nil, nil)
	if err := run.Finalize(t.Context()); err != nil {
		t.Fatal(err)
	}

	r := readRun(t, filepath.Join(dir, run.ID()+".json"))
	var names []string
	var walk func(prefix string, stages []jsonrun.Stage)
	walk = func(prefix string, stages []jsonrun.Stage) {
		for _, st := range stages {
			names = append(names, prefix+st.Name)
			walk(prefix+st.Name+"/", st.Stages)
		}
	}
	walk("", r.Stages)
	if got := strings.Join(names, ","); got != "kept,kept/query" {
		t.Errorf("stages %s, want kept,kept/query: the unsampled spans must not be recorded", got)
	}
}

// classify passes over attribute keys by their length first. Keys of 64
// bytes and more, and keys as long as the convention's but not the same,
// must change nothing: the span is still a run's root.
func TestClassifyIgnoresOtherKeysOfAnyLength(t *testing.T) {
	exp, dir := newExporter(t)
	id := "0b5a3b0e-6f0d-4e61-9e44-1f6a2f5c7d10"
	attrs := []attribute.KeyValue{
		attribute.String(strings.Repeat("k", 63), "x"),
		attribute.String(strings.Repeat("k", 64), "x"),
		attribute.String(strings.Repeat("k", 200), "x"),
		attribute.String(strings.Repeat("s", len(keys.RunID)), "x"),
		attribute.String(strings.Repeat("s", len(keys.StageName)), "x"),
		attribute.String(keys.RunID, id),
	}
	stub := tracetest.SpanStub{
		Name:        "pipeline",
		SpanContext: sc(traceID(0x42), spanID(1)),
		StartTime:   t0,
		EndTime:     t0.Add(time.Second),
		Attributes:  attrs,
	}
	if err := exp.ExportSpans(t.Context(), tracetest.SpanStubs{stub}.Snapshots()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, id+".json")); err != nil {
		t.Fatalf("the span with %s among long and look-alike keys made no run file: %v", keys.RunID, err)
	}
}

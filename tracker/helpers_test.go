package tracker_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pipeline is a tracer provider wired to a jsonrun exporter writing into a
// temporary directory, with a span recorder beside it, as setup.Tracker
// wires it but with the parts visible to the test.
type pipeline struct {
	dir string
	exp *jsonrun.Exporter
	rec *tracetest.SpanRecorder
	tp  *sdktrace.TracerProvider
	tr  *tracker.Tracker
}

type pipelineOpt struct {
	batch    bool
	sampler  sdktrace.Sampler
	trOpts   []tracker.Option
	expOpts  []jsonrun.Option
	provOpts []sdktrace.TracerProviderOption
}

func newPipeline(t *testing.T, o pipelineOpt) *pipeline {
	t.Helper()
	p := &pipeline{dir: t.TempDir(), rec: tracetest.NewSpanRecorder()}
	exp, err := jsonrun.New(append([]jsonrun.Option{jsonrun.WithDir(p.dir)}, o.expOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	p.exp = exp
	var proc sdktrace.SpanProcessor = sdktrace.NewSimpleSpanProcessor(exp)
	if o.batch {
		proc = sdktrace.NewBatchSpanProcessor(exp, sdktrace.WithBlocking())
	}
	popts := []sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(proc), sdktrace.WithSpanProcessor(p.rec)}
	if o.sampler != nil {
		popts = append(popts, sdktrace.WithSampler(o.sampler))
	}
	p.tp = sdktrace.NewTracerProvider(append(popts, o.provOpts...)...)
	t.Cleanup(func() { _ = p.tp.Shutdown(context.Background()) })
	p.tr = tracker.New(append([]tracker.Option{tracker.WithTracerProvider(p.tp)}, o.trOpts...)...)
	return p
}

// finalize finalises run and reads its run file back.
func (p *pipeline) finalize(t *testing.T, run *tracker.Run) *runfile.Run {
	t.Helper()
	if err := run.Finalize(t.Context()); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	if want := filepath.Join(p.dir, run.ID()+".json"); run.File() != want {
		t.Fatalf("File() = %q, want %q", run.File(), want)
	}
	rf, err := runfile.ReadFile(run.File())
	if err != nil {
		t.Fatal(err)
	}
	return rf
}

// fixedClock returns a clock that advances by step on every call.
func fixedClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := time.Date(2025, 5, 5, 23, 14, 10, 235518000, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(step)
		return now
	}
}

func stageKeys(s runfile.Stages) []string {
	var ks []string
	for _, st := range s {
		ks = append(ks, st.Key)
	}
	return ks
}

package tracker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/runresult"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// standardTracker wires a jsonrun exporter the way the OpenTelemetry
// documentation wires any exporter, and the tracker with nothing but the
// provider: no option tells the tracker about the exporter.
func standardTracker(t *testing.T, batch bool, expOpts ...jsonrun.Option) (*tracker.Tracker, string) {
	t.Helper()
	dir := t.TempDir()
	exp, err := jsonrun.New(append([]jsonrun.Option{jsonrun.WithDir(dir)}, expOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	reg := sdktrace.WithSyncer(exp)
	if batch {
		reg = sdktrace.WithBatcher(exp)
	}
	tp := sdktrace.NewTracerProvider(reg)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tracker.New(tracker.WithTracerProvider(tp)), dir
}

func TestStandardCompositionFinalizeIsHonest(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	regular := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(regular, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	aDir := t.TempDir()
	failures := []struct {
		name    string
		expOpts []jsonrun.Option
		runOpts []tracker.RunOption
		want    string
	}{
		{name: "directory under a regular file", runOpts: []tracker.RunOption{tracker.WithOutputFile(filepath.Join(regular, "run.json"))}, want: "plain"},
		{name: "output file is a directory", runOpts: []tracker.RunOption{tracker.WithOutputFile(aDir)}, want: aDir},
		{name: "full disk", expOpts: []jsonrun.Option{jsonrun.WithHistory("/dev/full")}, want: "no space left on device"},
	}
	for _, reg := range []struct {
		name  string
		batch bool
	}{{"syncer", false}, {"batcher", true}} {
		for _, tc := range failures {
			t.Run(reg.name+"/"+tc.name, func(t *testing.T) {
				tr, _ := standardTracker(t, reg.batch, tc.expOpts...)
				ctx, run := tr.Start(t.Context(), "args", tc.runOpts...)
				run.Stage(ctx, "s", func(context.Context) (any, error) { return 1, nil })
				err := run.Finalize(t.Context())
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Finalize = %v, want an error naming %q", err, tc.want)
				}
				if f := run.File(); f != "" {
					t.Errorf("File() = %q after a failed write, want \"\"", f)
				}
				if n := runresult.Waiting(); n != 0 {
					t.Errorf("%d run-result waiters left after Finalize", n)
				}
			})
		}
		t.Run(reg.name+"/written", func(t *testing.T) {
			tr, dir := standardTracker(t, reg.batch)
			ctx, run := tr.Start(t.Context(), "args")
			run.Stage(ctx, "s", func(context.Context) (any, error) { return 1, nil })
			if err := run.Finalize(t.Context()); err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(dir, run.ID()+".json")
			if run.File() != want {
				t.Fatalf("File() = %q, want %q", run.File(), want)
			}
			if rf, err := runfile.ReadFile(want); err != nil || len(rf.Stages) != 1 {
				t.Fatalf("run file %v, %v: want one stage", rf, err)
			}
		})
	}
}

// A provider that records spans but has no run-file exporter, as a service
// wires one for its own traces.
func spansOnlyProvider(t *testing.T, batch bool) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	reg := sdktrace.WithSyncer(mem)
	if batch {
		reg = sdktrace.WithBatcher(mem)
	}
	tp := sdktrace.NewTracerProvider(reg)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, mem
}

// With no run-file exporter in the pipeline, Finalize says so, at once,
// instead of returning nil with no file.
func TestFinalizeWithoutRunFileExporter(t *testing.T) {
	tests := []struct {
		name  string
		batch bool
		none  bool // no exporter at all
	}{
		{name: "no exporter", none: true},
		{name: "another exporter as a syncer"},
		{name: "another exporter as a batcher", batch: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tp *sdktrace.TracerProvider
			if tc.none {
				tp = sdktrace.NewTracerProvider()
				t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			} else {
				tp, _ = spansOnlyProvider(t, tc.batch)
			}
			ctx, run := tracker.New(tracker.WithTracerProvider(tp)).Start(t.Context(), "args")
			run.Stage(ctx, "s", func(context.Context) (any, error) { return nil, nil })
			err := run.Finalize(t.Context())
			if !errors.Is(err, tracker.ErrNoRunFile) || !strings.Contains(err.Error(), "tracker.WithoutRunFile") {
				t.Errorf("Finalize = %v; want ErrNoRunFile naming tracker.WithoutRunFile", err)
			}
			if run.File() != "" {
				t.Errorf("File() = %q; want \"\"", run.File())
			}
			if n := runresult.Waiting(); n != 0 {
				t.Errorf("%d run-result waiters left after Finalize", n)
			}
		})
	}
}

// blockingFlush is a span processor whose ForceFlush waits for its context:
// a Finalize that flushed, or waited for a file, would hang on it.
type blockingFlush struct{ sdktrace.SpanProcessor }

func (blockingFlush) ForceFlush(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// A run recorded as spans only ends at once, with its spans exported and no
// error, under a provider with no run-file exporter; WithoutRunFile works
// for one run (Start) and for every run of a tracker (New).
func TestWithoutRunFile(t *testing.T) {
	tests := []struct {
		name    string
		trOpts  []tracker.Option
		runOpts []tracker.RunOption
		sampler sdktrace.Sampler
		want    int // spans exported
	}{
		{name: "run option", runOpts: []tracker.RunOption{tracker.WithoutRunFile()}, want: 2},
		{name: "tracker option", trOpts: []tracker.Option{tracker.WithoutRunFile()}, want: 2},
		{name: "not sampled is no error", runOpts: []tracker.RunOption{tracker.WithoutRunFile()}, sampler: sdktrace.NeverSample()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := tracetest.NewInMemoryExporter()
			popts := []sdktrace.TracerProviderOption{
				sdktrace.WithSyncer(mem),
				sdktrace.WithSpanProcessor(blockingFlush{tracetest.NewSpanRecorder()}),
			}
			if tc.sampler != nil {
				popts = append(popts, sdktrace.WithSampler(tc.sampler))
			}
			tp := sdktrace.NewTracerProvider(popts...)
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			tr := tracker.New(append([]tracker.Option{tracker.WithTracerProvider(tp)}, tc.trOpts...)...)
			ctx, run := tr.Start(t.Context(), "request", tc.runOpts...)
			run.Stage(ctx, "handle", func(context.Context) (any, error) { return 1, nil })
			if err := run.Finalize(t.Context()); err != nil {
				t.Fatalf("Finalize = %v; want nil", err)
			}
			if run.File() != "" {
				t.Errorf("File() = %q; want \"\"", run.File())
			}
			if got := len(mem.GetSpans()); got != tc.want {
				t.Errorf("%d spans exported; want %d (the run and its stage)", got, tc.want)
			}
			if n := runresult.Waiting(); n != 0 {
				t.Errorf("%d run-result waiters left after Finalize", n)
			}
		})
	}
}

// The error of a run the sampler dropped names the sampler that keeps runs.
func TestNotSampledErrorNamesAlwaysSampleRuns(t *testing.T) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	_, run := tracker.New(tracker.WithTracerProvider(tp)).Start(t.Context(), "args")
	err := run.Finalize(t.Context())
	if !errors.Is(err, tracker.ErrNotRecorded) || !strings.Contains(err.Error(), "tracker.AlwaysSampleRuns") {
		t.Fatalf("Finalize = %v; want ErrNotRecorded naming tracker.AlwaysSampleRuns", err)
	}
}

// An exporter that waits for late stages claims the run when its span
// arrives and writes the file later: Finalize waits for that file instead of
// reporting that no run-file exporter took the run.
func TestFinalizeWaitsForAClaimedRun(t *testing.T) {
	dir := t.TempDir()
	exp, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithLateStageWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// One attribute per span: the run span keeps its run id and loses its
	// stage count, so the exporter waits the whole late-stage wait.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithRawSpanLimits(sdktrace.SpanLimits{AttributeCountLimit: 1, AttributeValueLengthLimit: -1, EventCountLimit: -1, LinkCountLimit: -1, AttributePerEventCountLimit: -1, AttributePerLinkCountLimit: -1}))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	_, run := tracker.New(tracker.WithTracerProvider(tp)).Start(t.Context(), "args")
	if err := run.Finalize(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, run.ID()+".json"); run.File() != want {
		t.Fatalf("File() = %q, want %q", run.File(), want)
	}
}

package setup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// No sampling setting costs a run its file: run and stage spans are always
// sampled, other spans follow the sampler the environment names.
func TestTrackerSamplingNeverCostsARun(t *testing.T) {
	unsampledParent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, Remote: true, // flags 00: not sampled
	})
	tests := []struct {
		name, sampler, arg string
		unsampledParent    bool
		wantOther          bool // whether a span outside any run is exported
	}{
		{name: "always_off", sampler: "always_off"},
		{name: "traceidratio 0", sampler: "traceidratio", arg: "0"},
		{name: "parentbased_always_off", sampler: "parentbased_always_off"},
		{name: "parentbased_traceidratio 0", sampler: "parentbased_traceidratio", arg: "0.0"},
		{name: "parentbased_always_on under an unsampled parent", sampler: "parentbased_always_on", unsampledParent: true, wantOther: true},
		{name: "default under an unsampled parent", unsampledParent: true, wantOther: true},
		{name: "always_on", sampler: "always_on", wantOther: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, map[string]string{"OTEL_TRACES_SAMPLER": tc.sampler, "OTEL_TRACES_SAMPLER_ARG": tc.arg})
			dir := t.TempDir()
			mem := tracetest.NewInMemoryExporter()
			tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(dir), setup.WithExporters(mem))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := shutdown(context.Background()); err != nil {
					t.Error(err)
				}
			}()
			ctx := t.Context()
			if tc.unsampledParent {
				ctx = trace.ContextWithRemoteSpanContext(ctx, unsampledParent)
			}
			// A span of other instrumentation, in no run: the sampler's to thin.
			_, other := tr.TracerProvider().Tracer("other").Start(t.Context(), "other")
			other.End()

			ctx, run := tr.Start(ctx, "args", tracker.WithRunName("sampled-run"))
			if err := run.Stage(ctx, "outer", func(ctx context.Context) (any, error) {
				return nil, run.Stage(ctx, "inner", func(context.Context) (any, error) { return 1, nil })
			}); err != nil {
				t.Fatal(err)
			}
			if err := run.Finalize(t.Context()); err != nil {
				t.Fatalf("Finalize = %v, want nil", err)
			}
			rf, err := runfile.ReadFile(filepath.Join(dir, run.ID()+".json"))
			if err != nil {
				t.Fatalf("no run file: %v", err)
			}
			if len(rf.Stages) != 1 || len(rf.Stages[0].Stages) != 1 {
				t.Errorf("run file stages = %+v, want outer holding inner", rf.Stages)
			}
			names := map[string]bool{}
			for _, s := range mem.GetSpans() {
				names[s.Name] = true
			}
			for _, n := range []string{"sampled-run", "outer", "inner"} {
				if !names[n] {
					t.Errorf("span %q did not reach the other exporter (got %v)", n, names)
				}
			}
			if names["other"] != tc.wantOther {
				t.Errorf("span outside the run exported = %v, want %v", names["other"], tc.wantOther)
			}
		})
	}
}

func TestTrackerSamplerEnvErrors(t *testing.T) {
	tests := []struct {
		name, sampler, arg, wantVar string
	}{
		{name: "unknown sampler", sampler: "sometimes", wantVar: "OTEL_TRACES_SAMPLER"},
		{name: "ratio not a number", sampler: "traceidratio", arg: "half", wantVar: "OTEL_TRACES_SAMPLER_ARG"},
		{name: "ratio above 1", sampler: "parentbased_traceidratio", arg: "2", wantVar: "OTEL_TRACES_SAMPLER_ARG"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, map[string]string{"OTEL_TRACES_SAMPLER": tc.sampler, "OTEL_TRACES_SAMPLER_ARG": tc.arg})
			_, _, err := setup.Tracker(t.Context(), setup.WithDir(t.TempDir()))
			var envErr *setup.EnvError
			if !errors.As(err, &envErr) || envErr.Var != tc.wantVar {
				t.Fatalf("Tracker = %v, want an *EnvError for %s", err, tc.wantVar)
			}
		})
	}
}

// A plain tracker under a sampler that drops the run still says so.
func TestPlainTrackerDroppedRunIsNotRecorded(t *testing.T) {
	exp, err := jsonrun.New(jsonrun.WithDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	_, run := tracker.New(tracker.WithTracerProvider(tp)).Start(t.Context(), "args")
	if err := run.Finalize(t.Context()); !errors.Is(err, tracker.ErrNotRecorded) {
		t.Fatalf("Finalize = %v, want ErrNotRecorded", err)
	}
	if entries, _ := os.ReadDir(exp.Dir()); len(entries) != 0 {
		t.Errorf("files written for a dropped run: %v", entries)
	}
}

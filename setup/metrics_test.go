package setup_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/setup"
)

// TestMetricsFromEnv: OTEL_METRICS_EXPORTER=console wires a metrics
// pipeline that the tracker's histograms reach; an unknown exporter is an
// EnvError naming the variable.
func TestMetricsFromEnv(t *testing.T) {
	t.Run("console", func(t *testing.T) {
		t.Setenv("OTEL_TRACES_EXPORTER", "none")
		t.Setenv("OTEL_METRICS_EXPORTER", "console")
		var out bytes.Buffer
		tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(t.TempDir()), setup.WithConsoleWriter(&out))
		if err != nil {
			t.Fatal(err)
		}
		ctx, run := tr.Start(t.Context(), "nightly")
		_ = run.Stage(ctx, "fetch", func(context.Context) (any, error) { return nil, nil })
		if err := run.Finalize(ctx); err != nil {
			t.Fatal(err)
		}
		if err := shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"cicd.pipeline.run.duration", "stage_tracker.stage.duration", `"fetch"`} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("console metrics lack %s:\n%.2000s", want, out.String())
			}
		}
	})
	t.Run("unknown exporter", func(t *testing.T) {
		t.Setenv("OTEL_METRICS_EXPORTER", "prometheus")
		_, _, err := setup.Tracker(t.Context(), setup.WithDir(t.TempDir()))
		var ee *setup.EnvError
		if !errors.As(err, &ee) || ee.Var != "OTEL_METRICS_EXPORTER" {
			t.Fatalf("err %v; want an EnvError for OTEL_METRICS_EXPORTER", err)
		}
	})
	t.Run("unknown propagator", func(t *testing.T) {
		t.Setenv("OTEL_PROPAGATORS", "tracecontext,b4")
		_, _, err := setup.Tracker(t.Context(), setup.WithDir(t.TempDir()))
		var ee *setup.EnvError
		if !errors.As(err, &ee) || ee.Var != "OTEL_PROPAGATORS" {
			t.Fatalf("err %v; want an EnvError for OTEL_PROPAGATORS", err)
		}
	})
}

// TestResourceHasHostAndProcess: the resource says which host and process
// made the spans.
func TestResourceHasHostAndProcess(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	var out bytes.Buffer
	tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(t.TempDir()), setup.WithConsoleWriter(&out))
	if err != nil {
		t.Fatal(err)
	}
	_, run := tr.Start(t.Context(), "r")
	_ = run.Finalize(t.Context())
	_ = shutdown(t.Context())
	for _, want := range []string{"host.name", "process.pid", "process.executable.name", "process.runtime.name"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("resource lacks %s", want)
		}
	}
}

package tracker_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

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

// With no run-file exporter in the pipeline, Finalize succeeds as it always
// did and names no file.
func TestFinalizeWithoutRunFileExporter(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	_, run := tracker.New(tracker.WithTracerProvider(tp)).Start(t.Context(), "args")
	if err := run.Finalize(t.Context()); err != nil || run.File() != "" {
		t.Fatalf("Finalize = %v, File() = %q; want nil and \"\"", err, run.File())
	}
}

//go:build unix

package jsonrun_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// A provider with a Processor recovers its directory's orphaned journals by
// itself, with no setup.Tracker and no call to Recover, unless the exporter
// was made WithoutRecovery.
func TestProcessorRecoversOrphanedJournals(t *testing.T) {
	host, _ := os.Hostname()
	tests := []struct {
		name      string
		opts      []jsonrun.Option
		recovered bool
	}{
		{name: "by default", recovered: true},
		{name: "WithoutRecovery", opts: []jsonrun.Option{jsonrun.WithoutRecovery()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			journal := filepath.Join(dir, id1+jsonrun.JournalSuffix)
			writeJournal(t, journal, id1, deadPID(t), host, "")
			exp, err := jsonrun.New(append([]jsonrun.Option{jsonrun.WithDir(dir)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)))
			// Shutdown waits for the recovery: no sleep, no poll.
			if err := tp.Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			rf, err := runfile.ReadFile(filepath.Join(dir, id1+".json"))
			_, jerr := os.Stat(journal)
			switch {
			case tc.recovered && (err != nil || rf.Status != runfile.StatusCrashed || rf.Name != "train"):
				t.Fatalf("recovered run file: %+v, %v; want the crashed run train", rf, err)
			case tc.recovered && !errors.Is(jerr, os.ErrNotExist):
				t.Errorf("journal after recovery: %v; want it removed", jerr)
			case !tc.recovered && !errors.Is(err, os.ErrNotExist):
				t.Errorf("run file with recovery off: %v; want none", err)
			case !tc.recovered && jerr != nil:
				t.Errorf("journal with recovery off: %v; want it kept", jerr)
			}
		})
	}
}

// Runs recorded while the Processor recovers the directory keep their own
// journals: the recovery takes only the dead process's.
func TestProcessorRecoveryLeavesLiveRunsConcurrentSafe(t *testing.T) {
	host, _ := os.Hostname()
	dir := t.TempDir()
	writeJournal(t, filepath.Join(dir, id1+jsonrun.JournalSuffix), id1, deadPID(t), host, "")
	exp, err := jsonrun.New(jsonrun.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)))
	tr := tracker.New(tracker.WithTracerProvider(tp))
	const runs = 8
	errs := make(chan error, runs)
	files := make(chan string, runs)
	for range runs {
		go func() {
			ctx, run := tr.Start(t.Context(), "live")
			run.Stage(ctx, "s", func(context.Context) (any, error) { return 1, nil })
			errs <- run.Finalize(t.Context())
			files <- run.File()
		}()
	}
	for range runs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
		rf, err := runfile.ReadFile(<-files)
		if err != nil || rf.Status != runfile.StatusOK || len(rf.Stages) != 1 {
			t.Errorf("live run's file: %+v, %v; want ok with one stage", rf, err)
		}
	}
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rf, err := runfile.ReadFile(filepath.Join(dir, id1+".json")); err != nil || rf.Status != runfile.StatusCrashed {
		t.Fatalf("the dead process's run: %+v, %v; want it recovered as crashed", rf, err)
	}
}

// Shutdown with a context that has ended still waits for the recovery to
// stop, so no goroutine outlives the provider.
func TestProcessorShutdownWithEndedContext(t *testing.T) {
	exp, _ := newExporter(t)
	p := jsonrun.NewProcessor(exp)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := p.Shutdown(ctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v; want nil or context.Canceled", err)
	}
}

package tracker_test

import (
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/benchcpu"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/gitrepo"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// BenchmarkRunStartCapture measures what capture adds to a run's start in
// a git repository of 10,000 committed files, one of them modified: a new
// Tracker each iteration, so that every start captures (a Tracker captures
// the process's part once), beside the same start without capture.
// start-ns/op is the time Start takes, the figure issue 22's target is
// about: the git commands, nvidia-smi and tool versions run while the run
// goes on, and Finalize adds their result to the run span. ns/op is the
// whole run, Start to Finalize, which then waits for them. It also reports
// the CPU time of this process (cpu-ns/op) and of the commands capture
// runs (child-cpu-ns/op, git): on a shared machine the wall time counts
// the time others had the CPU.
//
//	go test -run '^$' -bench RunStartCapture -benchtime 50x ./tracker
func BenchmarkRunStartCapture(b *testing.B) {
	repo := gitrepo.Large(b, 10_000)
	b.Chdir(repo)
	tp := sdktrace.NewTracerProvider() // no processor: the start alone
	b.Cleanup(func() { _ = tp.Shutdown(b.Context()) })
	for _, c := range []struct {
		name   string
		opts   []tracker.Option
		shared bool // one Tracker for every run: the process's part captured once
	}{
		{"without capture", []tracker.Option{tracker.WithoutProvenance()}, false},
		{"capture", nil, false},
		{"capture without code", []tracker.Option{tracker.WithCapture(tracker.CaptureAll &^ tracker.CaptureCode)}, false},
		{"one tracker/without capture", []tracker.Option{tracker.WithoutProvenance()}, true},
		{"one tracker/capture", nil, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			newTracker := func() *tracker.Tracker {
				return tracker.New(append([]tracker.Option{tracker.WithTracerProvider(tp), tracker.WithoutRunFile()}, c.opts...)...)
			}
			shared := newTracker()
			if c.shared { // its capture, once, before the loop
				ctx, run := shared.Start(b.Context(), nil)
				if err := run.Finalize(ctx); err != nil {
					b.Fatal(err)
				}
			}
			cpu := benchcpu.StartWithChildren()
			var starting time.Duration
			for b.Loop() {
				tr := shared
				if !c.shared {
					tr = newTracker()
				}
				t0 := time.Now()
				ctx, run := tr.Start(b.Context(), nil)
				starting += time.Since(t0)
				if err := run.Finalize(ctx); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b)
			b.ReportMetric(float64(starting.Nanoseconds())/float64(b.N), "start-ns/op")
		})
	}
}

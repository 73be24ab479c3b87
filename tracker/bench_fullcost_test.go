package tracker_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/benchcpu"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// Cases of BenchmarkStage added for issue 12: what a user's stage costs
// through setup.Tracker, and the full cost of a stage once its run's
// Finalize and run file are counted.

// perfFullCostSizes are the run sizes of the full-cost case: the target is
// read at 1,000; the others show whether the cost per stage stays flat as
// runs grow (100,000 needs -benchtime of at least 100000x to finish one
// run).
var perfFullCostSizes = []int{10, 1_000, 100_000}

// perfBenchSetupTracker times stages of one long run of a tracker built by
// setup.Tracker, as a program gets it: the jsonrun exporter behind its
// journaling processor, recovery at start, no exporter from the
// environment (OTEL_TRACES_EXPORTER=none for the benchmark).
func perfBenchSetupTracker(b *testing.B) {
	b.Setenv("OTEL_TRACES_EXPORTER", "none")
	b.Setenv("OTEL_METRICS_EXPORTER", "none")
	tr, shutdown, err := setup.Tracker(b.Context(), setup.WithDir(b.TempDir()), setup.WithConsoleWriter(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = shutdown(context.Background()) })
	perfBenchStages(b, tr)
}

// perfBenchFullCost times stages of runs of size stages each, journal off,
// into dir: every op is one stage, and every size-th op also starts the
// next run after finalising the last one, which writes its run file
// (fsync included: to tmpfs it costs nothing, on disk what the device
// takes). The last, partial run is finalised inside the timed loop too, so
// that ns/op is the whole cost of a stage.
func perfBenchFullCost(b *testing.B, dir string, size int) {
	tr, _ := perfTracker(b, dir, false)
	b.ReportAllocs()
	cpu := benchcpu.Start()
	var (
		ctx context.Context
		run *tracker.Run
		n   int
	)
	i := 0
	for b.Loop() {
		if run == nil {
			ctx, run = tr.Start(b.Context(), "bench")
		}
		_, s := run.StartStage(ctx, "batch")
		s.End(perfData(i), nil)
		i++
		if n++; n == size {
			if err := run.Finalize(ctx); err != nil {
				b.Fatal(err)
			}
			run, n = nil, 0
		}
	}
	if run != nil {
		if err := run.Finalize(ctx); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
}

// perfBenchFullCosts adds the full-cost cases, one per run size, on tmpfs
// and on disk (b.TempDir).
func perfBenchFullCosts(b *testing.B) {
	for _, size := range perfFullCostSizes {
		b.Run(fmt.Sprintf("full/stages=%d/tmpfs", size), func(b *testing.B) {
			perfBenchFullCost(b, perfTmpfsDir(b), size)
		})
		b.Run(fmt.Sprintf("full/stages=%d/disk", size), func(b *testing.B) {
			perfBenchFullCost(b, b.TempDir(), size)
		})
	}
}

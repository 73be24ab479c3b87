package tracker_test

import (
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/benchcpu"
	"github.com/stage-tracker/stage-tracker/setup"
)

// BenchmarkStageJournal measures one stage (StartStage, then End with the
// 4 data keys of BenchmarkStage) through setup.Tracker, which is what users
// get: the jsonrun exporter behind jsonrun.NewProcessor, keeping a journal
// of the open run that every ended stage is in before End returns (its
// owner's events go into a memory-mapped chunk of the file: no system call
// a stage). Beside it, the same stage through the exporter with and
// without its journal processor and nothing else of setup (the journal's
// share is their difference), and the bare SDK span with the same 4
// attributes, the baseline. The environment selects
// no other exporter.
//
// Target (issue 12): at most 2.5× the baseline through setup.Tracker.
func BenchmarkStageJournal(b *testing.B) {
	for _, fs := range []struct {
		name string
		dir  func(testing.TB) string
	}{
		{"tmpdir", func(tb testing.TB) string { return tb.TempDir() }},
		{"tmpfs", perfTmpfsDir},
	} {
		b.Run("setup.Tracker/journal=mmap/dir="+fs.name, func(b *testing.B) {
			b.Setenv("OTEL_TRACES_EXPORTER", "none")
			b.Setenv("OTEL_METRICS_EXPORTER", "none")
			tr, shutdown, err := setup.Tracker(b.Context(), setup.WithDir(fs.dir(b)))
			if err != nil {
				b.Fatal(err)
			}
			// The run is left open: shutdown makes its stages an
			// incomplete run file, after timing.
			b.Cleanup(func() { _ = shutdown(b.Context()) })
			perfBenchStages(b, tr)
		})
	}
	b.Run("jsonrun/journal=mmap", func(b *testing.B) {
		// The exporter behind jsonrun.NewProcessor without the rest of
		// setup (resource, sampler, metrics): the journal's own share is
		// its difference from journal=off.
		tr, _ := perfTracker(b, b.TempDir(), true)
		perfBenchStages(b, tr)
	})
	b.Run("jsonrun/journal=off", func(b *testing.B) {
		tr, _ := perfTracker(b, b.TempDir(), false)
		perfBenchStages(b, tr)
	})
	b.Run("baseline=sdk", func(b *testing.B) {
		tracer := perfSDK()
		ctx, root := tracer.Start(b.Context(), "run")
		defer root.End()
		b.ReportAllocs()
		cpu := benchcpu.Start()
		i := 0
		for b.Loop() {
			_, span := tracer.Start(ctx, "stage", perfAttrs(i))
			span.End()
			i++
		}
		cpu.Report(b)
	})
}

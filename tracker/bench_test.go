package tracker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/benchcpu"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// Benchmarks put each path beside its baseline as sibling sub-benchmarks:
// a sub-benchmark whose last name element starts with "baseline=" is the
// baseline of every sibling (and of their sub-benchmarks), so
// scripts/benchratio can read a ratio from one run on a noisy machine.
// docs/performance.md explains the method and records the figures.

// perfDiscard is the baseline exporter: it takes spans and does nothing.
type perfDiscard struct{}

func (perfDiscard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (perfDiscard) Shutdown(context.Context) error                             { return nil }

// perfTracker wires a tracker to a jsonrun exporter writing into dir. With
// journal, the exporter sits behind jsonrun.NewProcessor, which keeps a
// journal of every open run (no fsync): what setup.Tracker wires. Without,
// it sits behind the SDK's simple span processor: the exporter alone, as
// setup wired it before the journal existed. Exporters setup may add from
// the environment are left out, so the figures do not depend on it.
func perfTracker(tb testing.TB, dir string, journal bool, opts ...jsonrun.Option) (*tracker.Tracker, *jsonrun.Exporter) {
	tb.Helper()
	exp, err := jsonrun.New(append([]jsonrun.Option{jsonrun.WithDir(dir)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	var proc sdktrace.SpanProcessor = sdktrace.NewSimpleSpanProcessor(exp)
	if journal {
		proc = jsonrun.NewProcessor(exp)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(proc))
	return tracker.New(tracker.WithTracerProvider(tp)), exp
}

// perfSDK is the baseline: an SDK provider with a simple span processor and
// an exporter that discards every span.
func perfSDK() trace.Tracer {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(perfDiscard{})))
	return tp.Tracer("baseline")
}

// perfData is a stage's data: 4 top-level keys, each a scalar, so the
// tracker records the JSON and 4 searchable attributes.
func perfData(i int) map[string]any {
	return map[string]any{"rows": i, "loss": 0.25, "status": "ok", "cached": false}
}

// perfAttrs is the baseline's equivalent of perfData: 4 attributes.
func perfAttrs(i int) trace.SpanStartEventOption {
	return trace.WithAttributes(
		attribute.Int("rows", i),
		attribute.Float64("loss", 0.25),
		attribute.String("status", "ok"),
		attribute.Bool("cached", false),
	)
}

// BenchmarkStage measures one stage, StartStage then End with 4 data keys,
// through the tracker and the jsonrun exporter, with its journal (behind
// jsonrun.NewProcessor, as setup wires it; no fsync) and without (behind
// the SDK's simple span processor), beside a child span with 4 attributes made directly through
// the SDK with a discarding exporter. Each path runs stages of one long run
// that stays open across iterations, so the run's own cost is not in the
// figure. The exporter therefore buffers every stage until the run ends,
// which is its real behaviour for a long run: the sub-benchmark reports
// the heap it retains per buffered stage (retained-B/stage, data included).
//
// Targets: at most 1.3× the baseline with the journal off, 1.6× with it on.
func BenchmarkStage(b *testing.B) {
	b.Run("jsonrun/journal=off", func(b *testing.B) {
		tr, _ := perfTracker(b, b.TempDir(), false)
		perfBenchStages(b, tr)
	})
	b.Run("jsonrun/journal=on", func(b *testing.B) {
		tr, _ := perfTracker(b, b.TempDir(), true)
		perfBenchStages(b, tr)
	})
	b.Run("setup.Tracker", perfBenchSetupTracker) // bench_fullcost_test.go
	perfBenchFullCosts(b)                         // bench_fullcost_test.go
	b.Run("ref=tracker-discard", func(b *testing.B) {
		// Not a path of ours: the tracker's stages with an exporter that
		// discards them. Between it and ref=sdk-same-attributes is the
		// tracker's own share (its data attributes, the user's map); between
		// it and jsonrun/journal=off the exporter's.
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(perfDiscard{})))
		perfBenchStages(b, tracker.New(tracker.WithTracerProvider(tp)))
	})
	b.Run("ref=sdk-same-attributes", func(b *testing.B) {
		// Not a path of ours: the SDK alone making the span the tracker
		// makes, with its 10 attributes (run id and stage name at start;
		// the typed data's size, the 4 keys, and the 3 cicd.* names at
		// end). Its ratio to the baseline is the floor the attribute design
		// sets; the tracker's ratio to it is our own code's share.
		tracer := perfSDK()
		ctx, root := tracer.Start(b.Context(), "run")
		defer root.End()
		const runID = "3f2c1e9a-8d4b-4c55-9a57-2f1d0c3b4a5e"
		b.ReportAllocs()
		cpu := benchcpu.Start()
		i := 0
		for b.Loop() {
			_, span := tracer.Start(ctx, "batch", trace.WithAttributes(
				attribute.String(keys.StageName, "batch"),
				attribute.String(keys.RunID, runID),
			))
			span.SetAttributes(
				attribute.Int(keys.StageDataTypedSize, 55),
				attribute.Bool(keys.DataPrefix+"cached", false),
				attribute.Float64(keys.DataPrefix+"loss", 0.25),
				attribute.Int(keys.DataPrefix+"rows", i),
				attribute.String(keys.DataPrefix+"status", "ok"),
				attribute.String("cicd.pipeline.task.name", "batch"),
				attribute.String("cicd.pipeline.task.run.id", span.SpanContext().SpanID().String()),
				attribute.String("cicd.pipeline.task.run.result", "success"),
			)
			span.End()
			i++
		}
		cpu.Report(b)
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

// perfBenchStages times stages of one run of tr. It does not finalise the
// run: that would write a run file of b.N stages after the timed loop, which
// is not what is measured. The provider holds no goroutine, so nothing is
// left behind but the run's journal, in a temporary directory.
func perfBenchStages(b *testing.B, tr *tracker.Tracker) {
	ctx, run := tr.Start(b.Context(), "bench")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	cpu := benchcpu.Start()
	i := 0
	for b.Loop() {
		_, s := run.StartStage(ctx, "batch")
		s.End(perfData(i), nil)
		i++
	}
	cpu.Report(b)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(i), "retained-B/stage")
	runtime.KeepAlive(run)
}

// BenchmarkConcurrentRuns measures 64 runs in flight at once, from
// b.RunParallel with enough goroutines per CPU to make 64, through the
// tracker and jsonrun wired as setup wires them (journal on).
//
//   - stage/*: each goroutine holds one open run and an op is one stage
//     (StartStage, End with 4 data keys), beside the SDK baseline; this
//     shows contention in the stage path (the exporter's lock is shared by
//     every run).
//   - run/*: an op is a whole run of 4 stages, from Start to Finalize
//     returning with the file on disk (tmpfs when the machine has
//     /dev/shm, so the storage device is left out; each goroutine
//     overwrites its own output file), beside the same spans through the
//     SDK. No target: it shows what a run costs beyond its stages.
func BenchmarkConcurrentRuns(b *testing.B) {
	const runs = 64
	parallelism := (runs + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)

	b.Run("stage", func(b *testing.B) {
		b.Run("jsonrun", func(b *testing.B) {
			tr, _ := perfTracker(b, b.TempDir(), true)
			b.SetParallelism(parallelism)
			b.ReportAllocs()
			cpu := benchcpu.Start()
			defer cpu.Report(b)
			b.RunParallel(func(pb *testing.PB) {
				ctx, run := tr.Start(context.Background(), "bench")
				i := 0
				for pb.Next() {
					_, s := run.StartStage(ctx, "batch")
					s.End(perfData(i), nil)
					i++
				}
			})
		})
		b.Run("baseline=sdk", func(b *testing.B) {
			tracer := perfSDK()
			b.SetParallelism(parallelism)
			b.ReportAllocs()
			cpu := benchcpu.Start()
			defer cpu.Report(b)
			b.RunParallel(func(pb *testing.PB) {
				ctx, root := tracer.Start(context.Background(), "run")
				defer root.End()
				i := 0
				for pb.Next() {
					_, span := tracer.Start(ctx, "stage", perfAttrs(i))
					span.End()
					i++
				}
			})
		})
	})

	b.Run("run", func(b *testing.B) {
		const stages = 4
		b.Run("jsonrun", func(b *testing.B) {
			dir := perfTmpfsDir(b)
			tr, _ := perfTracker(b, dir, true)
			var next atomic.Int64
			b.SetParallelism(parallelism)
			b.ReportAllocs()
			cpu := benchcpu.Start()
			defer cpu.Report(b)
			b.RunParallel(func(pb *testing.PB) {
				out := tracker.WithOutputFile(filepath.Join(dir, fmt.Sprintf("g%d.json", next.Add(1))))
				for pb.Next() {
					ctx, run := tr.Start(context.Background(), "bench", out)
					for i := range stages {
						_, s := run.StartStage(ctx, "batch")
						s.End(perfData(i), nil)
					}
					if err := run.Finalize(context.Background()); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("baseline=sdk", func(b *testing.B) {
			tracer := perfSDK()
			b.SetParallelism(parallelism)
			b.ReportAllocs()
			cpu := benchcpu.Start()
			defer cpu.Report(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ctx, root := tracer.Start(context.Background(), "run")
					for i := range stages {
						_, span := tracer.Start(ctx, "stage", perfAttrs(i))
						span.End()
					}
					root.End()
				}
			})
		})
	})
}

// perfTmpfsDir returns a fresh directory on /dev/shm (memory-backed, so
// fsync costs nothing), removed at cleanup, or tb.TempDir when the machine
// has no /dev/shm.
func perfTmpfsDir(tb testing.TB) string {
	tb.Helper()
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		return tb.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "stage-tracker-perf-*")
	if err != nil {
		return tb.TempDir()
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

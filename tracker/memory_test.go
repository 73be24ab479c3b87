package tracker_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// Memory checks: they run with go test (they are not benchmarks) and
// measure the live heap after garbage collection, end to end: tracker, SDK
// and jsonrun exporter wired as setup.Tracker wires them.
// docs/performance.md records their figures.

// perfHeap returns the live heap after a full collection. It collects
// twice: objects in a sync.Pool survive one collection.
func perfHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestHeapAfterManyFinishedRuns finishes 100,000 runs of 3 stages (20,000
// under -race: see perfFinishedRuns) one after another in one process, each
// writing its run file (on /dev/shm when the machine has it: a disk's fsync
// would make this take minutes), and checks that the heap ends within 1 MiB
// of where it was after a warm-up.
func TestHeapAfterManyFinishedRuns(t *testing.T) {
	const (
		warmup = 1_000
		runs   = perfFinishedRuns
	)
	dir := perfTmpfsDir(t)
	tr, _ := perfTracker(t, dir)
	ctx := context.Background()
	finish := func() {
		rctx, run := tr.Start(ctx, "memory")
		for i := range 3 {
			_, s := run.StartStage(rctx, "stage")
			s.End(perfData(i), nil)
		}
		if err := run.Finalize(ctx); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(run.File()); err != nil {
			t.Fatal(err)
		}
	}
	for range warmup {
		finish()
	}
	before := perfHeap()
	start := time.Now()
	for range runs {
		finish()
	}
	elapsed := time.Since(start)
	after := perfHeap()
	t.Logf("%d runs in %v (%v per run); heap %+d bytes", runs, elapsed.Round(time.Millisecond), (elapsed / runs).Round(time.Microsecond), after-before)
	if after-before > 1<<20 {
		t.Errorf("heap grew by %d bytes over %d finished runs; want at most 1 MiB", after-before, runs)
	}
}

// TestAbandonedRunsBounded starts 10,000 runs of 3 stages and drops them
// without Finalize, with the exporter bounded to 100 pending runs: every
// run beyond the bound is written as incomplete as soon as a newer run
// arrives, so exactly 9,900 files exist at the end and Shutdown writes the
// last 100.
//
// Memory: once the exporter's bounded tables are full, abandoned runs must
// not make the heap grow: it is measured after 5,000 runs and after 10,000.
// The total growth is also bounded, but not by 1 MiB: besides the pending
// runs, the exporter remembers the result of up to 4,096 runs nobody called
// WaitRunFile for (every evicted run here), about 250 bytes each.
func TestAbandonedRunsBounded(t *testing.T) {
	const (
		runs  = 10_000
		bound = 100
	)
	dir := perfTmpfsDir(t)
	tr, exp := perfTracker(t, dir, jsonrun.WithMaxPendingRuns(bound))
	ctx := context.Background()
	abandon := func(n int) {
		for range n {
			rctx, run := tr.Start(ctx, "abandoned")
			for i := range 3 {
				_, s := run.StartStage(rctx, "stage")
				s.End(perfData(i), nil)
			}
		}
	}
	before := perfHeap()
	abandon(runs / 2)
	mid := perfHeap()
	abandon(runs / 2)
	after := perfHeap()
	t.Logf("heap after %d abandoned runs (bound %d): %+d bytes; over the last %d: %+d bytes", runs, bound, after-before, runs/2, after-mid)
	if after-mid > 256<<10 {
		t.Errorf("heap grew by %d bytes over the last %d abandoned runs; want no growth (at most 256 KiB of noise) once the bounded tables are full", after-mid, runs/2)
	}
	if after-before > 2<<20 {
		t.Errorf("heap grew by %d bytes over %d abandoned runs with at most %d pending; want at most 2 MiB", after-before, runs, bound)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(entries), runs-bound; got != want {
		t.Errorf("%d run files written on eviction; want %d (all but the %d newest runs)", got, want, bound)
	}
	for i, e := range entries {
		if i%1000 != 0 {
			continue
		}
		run, err := jsonrun.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != jsonrun.StatusIncomplete || run.StageCount != 3 {
			t.Errorf("%s: status %q with %d stages; want %q with 3", e.Name(), run.Status, run.StageCount, jsonrun.StatusIncomplete)
		}
	}

	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if entries, err = os.ReadDir(dir); err != nil {
		t.Fatal(err)
	}
	if len(entries) != runs {
		t.Errorf("%d run files after Shutdown; want %d", len(entries), runs)
	}
}

// TestMemoryPerBufferedStageEndToEnd measures the heap held for each ended
// stage of an open run: what the exporter buffers plus whatever the tracker
// and the SDK keep, less the stage's data (its JSON encoding). Target:
// under 512 bytes.
func TestMemoryPerBufferedStageEndToEnd(t *testing.T) {
	const n = 20_000
	tr, _ := perfTracker(t, perfTmpfsDir(t))
	ctx, run := tr.Start(context.Background(), "buffered")
	dataBytes := 0
	for i := range n {
		b, err := json.Marshal(perfData(i))
		if err != nil {
			t.Fatal(err)
		}
		dataBytes += len(b)
	}
	before := perfHeap()
	for i := range n {
		_, s := run.StartStage(ctx, "batch")
		s.End(perfData(i), nil)
	}
	after := perfHeap()
	runtime.KeepAlive(run)
	perStage := float64(after-before-int64(dataBytes)) / n
	t.Logf("%.0f bytes held per buffered stage beyond its %d bytes of data (%d stages)", perStage, dataBytes/n, n)
	if perStage >= 512 {
		t.Errorf("%.0f bytes held per buffered stage beyond its data; want under 512", perStage)
	}
}

package tracker_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// Memory checks: they run with go test (they are not benchmarks) and
// measure the live heap after garbage collection, end to end: tracker, SDK
// and jsonrun exporter wired as setup.Tracker wires them (behind
// jsonrun.NewProcessor, journal on).
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

// TestHeapAfterManyFinishedRuns finishes runs of 3 stages one after
// another in one process, each writing its run file (on /dev/shm when the
// machine has it: a disk's fsync would make this take minutes), and checks
// that the heap ends within 1 MiB of where it was after a warm-up.
//
// Without the journal it finishes 100,000 runs; with it (setup's wiring),
// whose open, write, close and removal of a journal file per run make each
// run 1.5 to 3.5 times slower, 10,000. Under -race, fewer: see
// perfFinishedRuns.
func TestHeapAfterManyFinishedRuns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		journal bool
		runs    int
	}{
		{"journal=off", false, perfFinishedRuns},
		{"journal=on", true, perfFinishedRunsJournal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const warmup = 1_000
			dir := perfTmpfsDir(t)
			tr, _ := perfTracker(t, dir, tc.journal)
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
			for range tc.runs {
				finish()
			}
			elapsed := time.Since(start)
			after := perfHeap()
			t.Logf("%d runs in %v (%v per run); heap %+d bytes", tc.runs, elapsed.Round(time.Millisecond), (elapsed / time.Duration(tc.runs)).Round(time.Microsecond), after-before)
			if after-before > 1<<20 {
				t.Errorf("heap grew by %d bytes over %d finished runs; want at most 1 MiB", after-before, tc.runs)
			}
			if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
				t.Errorf("%d files left in the run directory, want none (err %v)", len(entries), err)
			}
		})
	}
}

// TestAbandonedRunsBounded starts 10,000 runs (5,300 by default, see
// below) of 3 stages and drops them
// without Finalize, with the exporter bounded to 100 pending runs: every
// run beyond the bound is written as incomplete as soon as a newer run
// arrives, so all but 100 run files exist at the end, and Shutdown writes
// the last 100. With the journal, an evicted run's journal must be closed
// and removed too: the run file replaces it.
//
// Memory: once the exporter's bounded tables are full, abandoned runs must
// not make the heap grow: it is measured after the warm-up and at the end.
// The total growth is also bounded, but not by 1 MiB: besides the pending
// runs, the exporter remembers the result of up to 4,096 runs nobody called
// WaitRunFile for (every evicted run here), about 250 bytes each.
//
// Under STAGE_TRACKER_STRESS=1 it abandons 5,000 runs and then measures
// 5,000 more (32 s under -race on the 2-core machine). By default it
// abandons 4,300, enough to fill the 4,096 remembered results and the 100
// pending runs, and measures 1,000 more: a leak of 263 bytes a run still
// exceeds the 256 KiB noise bound.
func TestAbandonedRunsBounded(t *testing.T) {
	const bound = 100
	warm, measured := stressSize(4_300, 5_000), stressSize(1_000, 5_000)
	runs := warm + measured
	for _, tc := range []struct {
		name    string
		journal bool
	}{
		{"journal=off", false},
		{"journal=on", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := perfTmpfsDir(t)
			tr, exp := perfTracker(t, dir, tc.journal, jsonrun.WithMaxPendingRuns(bound))
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
			abandon(warm)
			mid := perfHeap()
			abandon(measured)
			after := perfHeap()
			t.Logf("heap after %d abandoned runs (bound %d): %+d bytes; over the last %d: %+d bytes", runs, bound, after-before, measured, after-mid)
			if after-mid > 256<<10 {
				t.Errorf("heap grew by %d bytes over the last %d abandoned runs; want no growth (at most 256 KiB of noise) once the bounded tables are full", after-mid, measured)
			}
			if after-before > 2<<20 {
				t.Errorf("heap grew by %d bytes over %d abandoned runs with at most %d pending; want at most 2 MiB", after-before, runs, bound)
			}

			files, journals := perfRunFiles(t, dir)
			if got, want := len(files), runs-bound; got != want {
				t.Errorf("%d run files written on eviction; want %d (all but the %d newest runs)", got, want, bound)
			}
			if len(journals) > bound {
				t.Errorf("%d journals left in the run directory; want at most %d (one per pending run)", len(journals), bound)
			}
			for i, name := range files {
				if i%1000 != 0 {
					continue
				}
				run, err := jsonrun.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if run.Status != jsonrun.StatusIncomplete || run.StageCount != 3 {
					t.Errorf("%s: status %q with %d stages; want %q with 3", name, run.Status, run.StageCount, jsonrun.StatusIncomplete)
				}
			}

			if err := exp.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if files, _ = perfRunFiles(t, dir); len(files) != runs {
				t.Errorf("%d run files after Shutdown; want %d", len(files), runs)
			}
		})
	}
}

// perfRunFiles lists the run files and the journals in dir.
func perfRunFiles(t *testing.T, dir string) (files, journals []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch {
		case strings.HasSuffix(e.Name(), jsonrun.JournalSuffix):
			journals = append(journals, e.Name())
		case strings.HasSuffix(e.Name(), ".json"):
			files = append(files, e.Name())
		}
	}
	return files, journals
}

// TestMemoryPerBufferedStageEndToEnd measures the heap held for each ended
// stage of an open run: what the exporter buffers plus whatever the tracker
// and the SDK keep, less the stage's data (its JSON encoding). Target:
// under 512 bytes.
func TestMemoryPerBufferedStageEndToEnd(t *testing.T) {
	const n = 20_000
	tr, _ := perfTracker(t, perfTmpfsDir(t), true)
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

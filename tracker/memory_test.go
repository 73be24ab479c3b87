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
	"github.com/stage-tracker/stage-tracker/runfile"
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
// perfFinishedRuns. Those are the STAGE_TRACKER_STRESS=1 sizes; by default
// 1,500 and 300 runs after 300 of warm-up, which still catch a leak of a
// few hundred bytes a run, in a second or two.
func TestHeapAfterManyFinishedRuns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		journal bool
		runs    int
	}{
		{"journal=off", false, stressSize(1_500, perfFinishedRuns)},
		{"journal=on", true, stressSize(300, perfFinishedRunsJournal)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warmup := stressSize(300, 1_000)
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

// TestAbandonedRunsBounded starts 2,000 runs of 3 stages and drops them
// without Finalize, with the exporter bounded to 100 runs in memory: runs
// beyond the bound spill their stages to their journal, so none is written
// early and none loses a stage, and each costs the heap only a small stub.
// Shutdown writes every one as incomplete with its 3 stages and leaves no
// journal. Those are the STAGE_TRACKER_STRESS=1 sizes (6.8 s under -race);
// by default 500 runs bounded to 25, the same share held whole.
func TestAbandonedRunsBounded(t *testing.T) {
	var (
		runs  = stressSize(500, 2_000)
		bound = stressSize(25, 100)
	)
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
			before := perfHeap()
			for range runs {
				rctx, run := tr.Start(ctx, "abandoned")
				for i := range 3 {
					_, s := run.StartStage(rctx, "stage")
					s.End(perfData(i), nil)
				}
			}
			after := perfHeap()
			perRun := float64(after-before) / float64(runs)
			t.Logf("heap after %d abandoned runs (bound %d): %+d bytes, %.0f a run", runs, bound, after-before, perRun)
			if perRun > 2048 {
				t.Errorf("heap grew by %.0f bytes per abandoned run; want at most 2 KiB once runs beyond the bound are spilled", perRun)
			}
			if files, _ := perfRunFiles(t, dir); len(files) != 0 {
				t.Errorf("%d run files written before Shutdown; want none: evicted runs spill, they are not written", len(files))
			}

			if err := exp.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			files, journals := perfRunFiles(t, dir)
			if len(files) != runs || len(journals) != 0 {
				t.Errorf("after Shutdown: %d run files, %d journals; want %d and 0", len(files), len(journals), runs)
			}
			for i, name := range files {
				if i%(runs/10) != 0 {
					continue
				}
				run, err := runfile.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if run.Status != runfile.StatusIncomplete || run.StageCount != 3 {
					t.Errorf("%s: status %q with %d stages; want %q with 3", name, run.Status, run.StageCount, runfile.StatusIncomplete)
				}
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

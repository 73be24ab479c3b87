//go:build unix

package reliability_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/reliability"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func TestMain(m *testing.M) {
	if ran, code := reliability.RunChild(os.Stdout); ran {
		os.Exit(code)
	}
	goleak.VerifyTestMain(m)
}

func exe(t *testing.T) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCrashRecovery is the in-test share of the crash trials; the
// crashstress program runs many more.
func TestCrashRecovery(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 4))
	for i := range 5 {
		t.Run(fmt.Sprint("trial", i), func(t *testing.T) {
			if err := reliability.CrashTrial(t.Context(), exe(t), t.TempDir(), 60, rng); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestKillTrials is the in-test share of crashstress's other trials: a
// SIGKILL during Finalize, during a joined child's journal writes, and
// during recovery itself; each leaves whole files, no temporary file or
// journal, every ended stage and a consistent history. On main the joined
// and recovery kills could leave .tmp files and torn history lines that no
// recovery repaired.
func TestKillTrials(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 5))
	trials := []struct {
		name  string
		trial func(context.Context, string, string, int, *rand.Rand) error
	}{
		{"kill during Finalize", reliability.FinalizeKillTrial},
		{"kill a joined child", reliability.JoinedKillTrial},
		{"kill during recovery", reliability.RecoverKillTrial},
	}
	for _, tc := range trials {
		t.Run(tc.name, func(t *testing.T) {
			for range 3 {
				if err := tc.trial(t.Context(), exe(t), t.TempDir(), 20, rng); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestSIGTERMGivesInterruptedRun(t *testing.T) {
	if err := reliability.SignalTrial(t.Context(), exe(t), t.TempDir(), 5); err != nil {
		t.Fatal(err)
	}
}

// TestManyProcessesAppendOneHistory has processes append runs to one
// history at once: every line whole, every run once. 16 processes of 50
// runs under STAGE_TRACKER_STRESS=1 (5.1 s under -race on an idle 2-core
// machine); by default 8 of 25, still four processes to a core.
func TestManyProcessesAppendOneHistory(t *testing.T) {
	procs, runs := 8, 25
	if os.Getenv("STAGE_TRACKER_STRESS") == "1" {
		procs, runs = 16, 50
	}
	dir := t.TempDir()
	hist := filepath.Join(dir, "history.jsonl")
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for range procs {
		wg.Go(func() {
			cmd, sc, err := reliability.Child(t.Context(), exe(t), reliability.ModeHistory,
				reliability.EnvDir+"="+dir, reliability.EnvHist+"="+hist, reliability.EnvRuns+"="+strconv.Itoa(runs))
			if err != nil {
				errs <- err
				return
			}
			var last string
			for sc.Scan() {
				last = sc.Text()
			}
			if err := cmd.Wait(); err != nil || last != "done" {
				errs <- fmt.Errorf("child: %v, last line %q", err, last)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := runfile.ReadHistory(hist)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range got {
		ids[r.RunID] = true
		if len(r.Stages) != 3 || r.Status != runfile.StatusOK {
			t.Errorf("run %s: %d stages, status %s", r.RunID, len(r.Stages), r.Status)
		}
	}
	lines := countLines(t, hist)
	if len(got) != procs*runs || len(ids) != procs*runs || lines != procs*runs {
		t.Errorf("%d runs read, %d distinct, %d lines; want %d of each", len(got), len(ids), lines, procs*runs)
	}
}

func countLines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	return n
}

func TestFileSizeLimit(t *testing.T) {
	dir := t.TempDir()
	cmd, sc, err := reliability.Child(context.Background(), exe(t), reliability.ModeFileSize, reliability.EnvDir+"="+dir)
	if err != nil {
		t.Fatal(err)
	}
	report := map[string]string{}
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		report[k] = v
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v (%v)", err, report)
	}
	if !strings.Contains(report["finalize"], "file too large") {
		t.Errorf("Finalize over RLIMIT_FSIZE = %q, want an EFBIG error", report["finalize"])
	}
	// The earlier run file is intact, no temporary file is left, and the
	// big run's journal stays for recovery (its stages up to the limit).
	if rf, err := runfile.ReadFile(filepath.Join(dir, report["first"]+".json")); err != nil || rf.Status != runfile.StatusOK {
		t.Errorf("earlier run file: %v, %v", rf, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, report["second"]+".json")); err == nil {
		t.Error("a run file was written past the file size limit")
	}
	exp, _ := jsonrun.New(jsonrun.WithDir(dir))
	defer exp.Shutdown(context.Background())
	paths, err := exp.Recover(t.Context())
	if err != nil || len(paths) != 1 {
		t.Fatalf("recover: %v %v", paths, err)
	}
	rf, err := runfile.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := rf.Stages.Get("small-stage"); !ok || string(st.Data) != `"ok"` {
		t.Errorf("stage ended before the limit was lost: %+v", rf.Stages)
	}
}

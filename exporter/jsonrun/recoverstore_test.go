package jsonrun_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// stageNames returns the names of ss and their nested stages, sorted.
func stageNames(ss runfile.Stages) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
		out = append(out, stageNames(s.Stages)...)
	}
	slices.Sort(out)
	return out
}

// TestRecoverStoreWritesOpenRunsOnce: the store of open runs that an
// exporter left when it was killed or stopped becomes run files: run 1,
// whose root waits in the store for a late stage, finished with its root
// and every stage; run 2, rootless, incomplete with a warning that says
// why; run 3, rootless, whose file a root wrote elsewhere meanwhile,
// merged into that file. A second recovery finds nothing and changes no
// file.
func TestRecoverStoreWritesOpenRunsOnce(t *testing.T) {
	if dir := os.Getenv("JSONRUN_RECOVER_STORE_DIR"); dir != "" {
		recoverStoreChild(t, dir)
		return
	}
	cases := []struct {
		name  string
		leave func(t *testing.T, dir string)
		// rootWritten: run 1's file is written before recovery (a stop
		// writes a run whose root waits).
		rootWritten bool
	}{
		{name: "killed with SIGKILL", leave: func(t *testing.T, dir string) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestRecoverStoreWritesOpenRunsOnce$")
			cmd.Env = append(os.Environ(), "JSONRUN_RECOVER_STORE_DIR="+dir)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			acked := false
			for sc.Scan() {
				if sc.Text() == "acknowledged" {
					acked = true
					break
				}
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			if !acked {
				t.Fatal("the child did not acknowledge its spans")
			}
		}},
		{name: "stopped (Detach)", rootWritten: true, leave: func(t *testing.T, dir string) {
			exp := storeExporter(t, dir)
			exportOpenRuns(t, exp)
			if err := exp.Detach(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.leave(t, dir)
			path := func(n int) string { return filepath.Join(dir, storeRunID(n)+".json") }
			for n := 1; n <= 3; n++ {
				if _, err := os.Stat(path(n)); err == nil != (n == 1 && tc.rootWritten) {
					t.Fatalf("run %d: file on disk before recovery: %v", n, err == nil)
				}
			}
			// Run 3's root and a stage of its own went to another exporter,
			// which wrote its file here.
			other, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithRunFilesInDirOnly())
			if err != nil {
				t.Fatal(err)
			}
			if err := exportErr(t, other, storeStage(3, 4, "deploy"), storeRoot(3, 1)); err != nil {
				t.Fatal(err)
			}
			other.Shutdown(t.Context())

			paths, err := jsonrun.RecoverStore(t.Context(), dir, jsonrun.WithRunFilesInDirOnly())
			if err != nil {
				t.Fatal(err)
			}
			want := []string{path(2), path(3)}
			if !tc.rootWritten {
				want = []string{path(1), path(2), path(3)}
			}
			slices.Sort(paths)
			if !slices.Equal(paths, want) {
				t.Errorf("recovered %q; want %q", paths, want)
			}
			r1, r2, r3 := readRun(t, path(1)), readRun(t, path(2)), readRun(t, path(3))
			if got := stageNames(r1.Stages); r1.Name != "pipeline" || !slices.Equal(got, []string{"build", "test"}) || r1.MissingStages != 1 {
				t.Errorf("run 1: name %q, stages %q, missing %d; want pipeline, [build test], 1", r1.Name, got, r1.MissingStages)
			}
			if got := stageNames(r2.Stages); r2.Status != jsonrun.StatusIncomplete || !slices.Equal(got, []string{"build", "test"}) ||
				!strings.Contains(strings.Join(r2.Warnings, "\n"), "never reached") {
				t.Errorf("run 2: status %s, stages %q, warnings %q; want incomplete, [build test], saying why", r2.Status, got, r2.Warnings)
			}
			if got := stageNames(r3.Stages); r3.Name != "pipeline" || !slices.Equal(got, []string{"deploy", "lint"}) {
				t.Errorf("run 3: name %q, stages %q; want pipeline, [deploy lint]", r3.Name, got)
			}

			before := map[string][]byte{}
			for n := 1; n <= 3; n++ {
				before[path(n)], _ = os.ReadFile(path(n))
			}
			paths, err = jsonrun.RecoverStore(t.Context(), dir)
			if err != nil || len(paths) != 0 {
				t.Errorf("second recovery: %q, %v; want nothing", paths, err)
			}
			for p, b := range before {
				if now, _ := os.ReadFile(p); string(now) != string(b) {
					t.Errorf("%s changed by the second recovery", p)
				}
			}
		})
	}
}

// exportOpenRuns acknowledges run 1's two stages and its root, which
// waits for a third, and the stages of runs 2 and 3, without roots.
func exportOpenRuns(t *testing.T, exp *jsonrun.Exporter) {
	t.Helper()
	if err := exportErr(t, exp, storeStage(1, 2, "build"), storeStage(2, 2, "build"), storeStage(3, 2, "lint")); err != nil {
		t.Fatal(err)
	}
	if err := exportErr(t, exp, storeStage(1, 3, "test"), storeStage(2, 3, "test"), storeRoot(1, 3)); err != nil {
		t.Fatal(err)
	}
}

// recoverStoreChild leaves open runs in the store, says so, and waits to
// be killed.
func recoverStoreChild(t *testing.T, dir string) {
	exportOpenRuns(t, storeExporter(t, dir))
	fmt.Println("acknowledged")
	<-t.Context().Done() // killed before
}

// TestRecoverStoreRefusesHeldStore: a store that a live exporter holds is
// not touched; the error says, in one line, to stop its process first.
func TestRecoverStoreRefusesHeldStore(t *testing.T) {
	dir := t.TempDir()
	exp := storeExporter(t, dir)
	t.Cleanup(func() { exp.Shutdown(t.Context()) })
	if err := exportErr(t, exp, storeStage(2, 2, "build")); err != nil {
		t.Fatal(err)
	}
	paths, err := jsonrun.RecoverStore(t.Context(), dir)
	if !errors.Is(err, jsonrun.ErrStoreInUse) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "stop it first") {
		t.Errorf("held store: %v; want one line wrapping ErrStoreInUse that says to stop it first", err)
	}
	if len(paths) != 0 {
		t.Errorf("held store: wrote %q", paths)
	}
	if _, err := os.Stat(filepath.Join(dir, storeRunID(2)+".json")); err == nil {
		t.Error("held store: a run file was written")
	}
}

// TestRecoverStoreWithoutStore: a directory without a store of open runs
// is nothing to do.
func TestRecoverStoreWithoutStore(t *testing.T) {
	paths, err := jsonrun.RecoverStore(t.Context(), t.TempDir())
	if err != nil || len(paths) != 0 {
		t.Errorf("no store: %q, %v; want nothing", paths, err)
	}
}

// TestRecoverStoreKeepsWhatItCannotWrite: a run whose file cannot be
// written (a directory in its place) stays in the store and the error
// says so; once the obstacle is gone, a second recovery writes it with
// every stage.
func TestRecoverStoreKeepsWhatItCannotWrite(t *testing.T) {
	dir := t.TempDir()
	exp := storeExporter(t, dir)
	if err := exportErr(t, exp, storeStage(2, 2, "build"), storeStage(2, 3, "test")); err != nil {
		t.Fatal(err)
	}
	if err := exp.Detach(t.Context()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, storeRunID(2)+".json")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	paths, err := jsonrun.RecoverStore(t.Context(), dir)
	if err == nil || !strings.Contains(err.Error(), "1 run(s) could not be written and stay in the store") || len(paths) != 0 {
		t.Fatalf("blocked run file: %q, %v; want an error saying the run stays in the store", paths, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	paths, err = jsonrun.RecoverStore(t.Context(), dir)
	if err != nil || len(paths) != 1 {
		t.Fatalf("second recovery: %q, %v; want the run's file", paths, err)
	}
	if got := stageNames(readRun(t, path).Stages); !slices.Equal(got, []string{"build", "test"}) {
		t.Errorf("stages %q; want [build test]", got)
	}
}

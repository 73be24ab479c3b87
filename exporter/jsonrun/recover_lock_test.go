//go:build unix

package jsonrun_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/uuid"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// Modes of TestHelperProcess, a child that re-runs this test binary.
const (
	envHelper   = "JSONRUN_TEST_HELPER"
	helperHold  = "hold"    // hold a shared lock on JSONRUN_TEST_PATH until stdin closes
	helperRecov = "recover" // Recover JSONRUN_TEST_PATH (a dir) and print the paths
)

// TestHelperProcess is not a test: it is the child process of the tests
// below, and does nothing unless envHelper is set.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv("JSONRUN_TEST_PATH")
	switch os.Getenv(envHelper) {
	case helperHold:
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		}
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
		os.Exit(0)
	case helperRecov:
		exp, err := jsonrun.New(jsonrun.WithDir(path), jsonrun.WithHistory(filepath.Join(path, "history.jsonl")))
		if err != nil {
			os.Exit(1)
		}
		paths, err := exp.Recover(t.Context())
		for _, p := range paths {
			fmt.Println(p)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

func helper(t *testing.T, mode, path string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), envHelper+"="+mode, "JSONRUN_TEST_PATH="+path)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestRecoverLeavesJournalHeldByLiveProcess: a journal whose pid is long
// dead but that another live process holds locked (a joined child still
// writing) is left alone by Recover and refused by RecoverJournal; once the
// holder dies, it is recovered. On main the dead pid made it recoverable,
// and the child's stage was lost.
func TestRecoverLeavesJournalHeldByLiveProcess(t *testing.T) {
	exp, dir := newExporter(t)
	journal := filepath.Join(dir, id1+jsonrun.JournalSuffix)
	host, _ := os.Hostname()
	writeJournal(t, journal, id1, deadPID(t), host, "")
	cmd := helper(t, helperHold, journal)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper said %q", line)
	}
	paths, err := exp.Recover(t.Context())
	if err != nil || len(paths) != 0 {
		t.Fatalf("Recover with a live holder = %v, %v; want nothing recovered", paths, err)
	}
	if _, err := exp.RecoverJournal(t.Context(), journal); err == nil {
		t.Fatal("RecoverJournal took a journal a live process holds")
	}
	if _, err := os.Stat(journal); err != nil {
		t.Fatalf("journal of a live holder: %v", err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if paths, err := exp.Recover(t.Context()); err != nil || len(paths) != 1 {
		t.Fatalf("Recover once the holder died = %v, %v; want the run", paths, err)
	}
}

// TestConcurrentRecoveryConcurrentSafe: several goroutines and several
// processes recover one directory at once: every run is recovered exactly
// once, with one run file and one history line. On main two recoveries
// could both read a journal and both write and append it.
func TestConcurrentRecoveryConcurrentSafe(t *testing.T) {
	const journals, goroutines, processes = 24, 4, 3
	dir := t.TempDir()
	hist := filepath.Join(dir, "history.jsonl")
	dead := deadPID(t)
	host, _ := os.Hostname()
	var ids []string
	for range journals {
		id := uuid.NewString()
		ids = append(ids, id)
		writeJournal(t, filepath.Join(dir, id+jsonrun.JournalSuffix), id, dead, host, "")
	}
	var (
		mu  sync.Mutex
		got []string
		wg  sync.WaitGroup
	)
	record := func(paths ...string) {
		mu.Lock()
		got = append(got, paths...)
		mu.Unlock()
	}
	for range processes {
		cmd := helper(t, helperRecov, dir)
		wg.Go(func() {
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("recovering child: %v", err)
			}
			record(strings.Fields(string(out))...)
		})
	}
	for range goroutines {
		wg.Go(func() {
			exp, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithHistory(hist))
			if err != nil {
				t.Error(err)
				return
			}
			paths, err := exp.Recover(t.Context())
			if err != nil {
				t.Error(err)
			}
			record(paths...)
		})
	}
	wg.Wait()

	slices.Sort(got)
	var want []string
	for _, id := range ids {
		want = append(want, filepath.Join(dir, id+".json"))
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("recovered %d paths (%d distinct); want each of the %d runs once", len(got), len(slices.Compact(slices.Clone(got))), journals)
	}
	runs, err := jsonrun.ReadHistory(hist)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range runs {
		seen[r.RunID]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("run %s: %d history lines, want 1", id, seen[id])
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*"+jsonrun.JournalSuffix)); len(left) != 0 {
		t.Errorf("journals left: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

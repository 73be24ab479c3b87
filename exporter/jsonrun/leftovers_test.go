//go:build unix

package jsonrun_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/locktest"
)

// TestRecoverRemovesLeftoverTemporaryFiles: the temporary file of an
// atomic write that was killed (our own .<name>.tmp-<n> pattern, no lock
// held) is removed by the next recovery of the directory; one a live
// writer holds, and files of other names, stay. On main 61 of 350 SIGKILL
// trials left .tmp files that nothing removed.
func TestRecoverRemovesLeftoverTemporaryFiles(t *testing.T) {
	exp, dir := newExporter(t)
	dead := filepath.Join(dir, "."+id1+".json.tmp-123456")
	live := filepath.Join(dir, "."+id2+".json.tmp-654321")
	other := filepath.Join(dir, ".notes.tmp")
	for _, p := range []string{dead, live, other} {
		if err := os.WriteFile(p, []byte(`{"run_id":`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	locktest.HoldShared(t, live)
	if _, err := exp.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{dead: false, live: true, other: true} {
		if _, err := os.Lstat(p); (err == nil) != want {
			t.Errorf("%s there = %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}

// TestRecoverCompletesTornHistory: a process killed after renaming its run
// file into place but during its history append leaves the run file, its
// journal, and a torn history line. Recovery appends the whole record, on
// a line of its own, so history does not miss the run. On main recovery
// removed the journal and the torn line stayed the run's only trace.
func TestRecoverCompletesTornHistory(t *testing.T) {
	dir := t.TempDir()
	hist := filepath.Join(dir, "history.jsonl")
	exp, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithHistory(hist))
	if err != nil {
		t.Fatal(err)
	}
	// A run finished normally, as the dead process wrote it.
	if err := exp.ExportSpans(t.Context(), runStubs(id1, 1, 2).Snapshots()); err != nil {
		t.Fatal(err)
	}
	whole, _ := os.ReadFile(hist)
	if err := os.WriteFile(hist, whole[:len(whole)/2], 0o644); err != nil { // torn by SIGKILL
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	writeJournal(t, filepath.Join(dir, id1+jsonrun.JournalSuffix), id1, deadPID(t), host, "")

	exp2, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithHistory(hist))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exp2.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	runs, err := jsonrun.ReadHistory(hist)
	var le *jsonrun.LineError
	if len(runs) != 1 || runs[0].RunID != id1 || runs[0].StageCount != 2 || !errors.As(err, &le) || le.Line != 1 {
		t.Errorf("history after recovery: %d runs, err %v; want the whole run once and the torn line 1 reported", len(runs), err)
	}
	if _, err := os.Stat(filepath.Join(dir, id1+jsonrun.JournalSuffix)); err == nil {
		t.Error("journal left")
	}
	// A second recovery finds nothing more to do.
	if _, err := exp2.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if again, _ := jsonrun.ReadHistory(hist); len(again) != 1 {
		t.Errorf("history after a second recovery: %d runs, want 1", len(again))
	}
}

// TestRunPathSymlinkIsReplacedNotFollowed: a symlink at a run file's path
// is replaced by the run file itself; the file it pointed to is never
// written or removed.
func TestRunPathSymlinkIsReplacedNotFollowed(t *testing.T) {
	exp, dir := newExporter(t)
	target := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, id1+".json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := exp.ExportSpans(t.Context(), runStubs(id1, 1, 1).Snapshots()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me\n" {
		t.Errorf("the symlink's target was written: %q", b)
	}
	fi, err := os.Lstat(link)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("run path after the write: %v, %v; want the run file itself", fi, err)
	}
	if r := readRun(t, link); r.RunID != id1 {
		t.Errorf("run file holds %s", r.RunID)
	}
}

// TestRecoverSkipsNonRegularFiles: a FIFO named *.journal and a symlink to
// /dev/zero named *.journal are skipped with a *SkippedError each, never
// opened for reading (a FIFO would block, /dev/zero never ends). On main
// recover hung on both.
func TestRecoverSkipsNonRegularFiles(t *testing.T) {
	exp, dir := newExporter(t)
	fifo := filepath.Join(dir, id1+jsonrun.JournalSuffix)
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	zero := filepath.Join(dir, id2+jsonrun.JournalSuffix)
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	writeJournal(t, filepath.Join(dir, "3c0ffee0-0000-4000-8000-000000000003"+jsonrun.JournalSuffix), "3c0ffee0-0000-4000-8000-000000000003", deadPID(t), host, "")
	paths, err := exp.Recover(t.Context())
	if len(paths) != 1 {
		t.Errorf("recovered %v; want the one regular journal", paths)
	}
	var skipped []string
	for _, e := range unwrapAll(err) {
		var se *jsonrun.SkippedError
		if errors.As(e, &se) {
			skipped = append(skipped, filepath.Base(se.Path))
		}
		if strings.Contains(e.Error(), "\n") {
			t.Errorf("note on more than one line: %q", e)
		}
	}
	if len(skipped) != 2 {
		t.Errorf("skipped %v (err %v); want the FIFO and the symlink", skipped, err)
	}
	for _, p := range []string{fifo, zero} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

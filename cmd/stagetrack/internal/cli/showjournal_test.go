//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// TestShowJournal checks that show reads the journal of a run still open
// (its process, this test, is alive): the stages so far, the open one as
// running, and that nothing is written or removed beside it.
func TestShowJournal(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := journalOf(t, dir, "6f1e0a52-8c0e-4f7e-9d55-1f0b7a3c2d11", os.Getpid(), host)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := stagetrack(t, "show", path)
	wantCode(t, r, cli.ExitOK)
	for _, want := range []string{"run 6f1e0a52-8c0e-4f7e-9d55-1f0b7a3c2d11  running  nightly", "fetch", "train", "2 stages"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show of the journal lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "crashed") || strings.Contains(r.stdout, "recovered") {
		t.Errorf("a live run is shown as other than running:\n%s", r.stdout)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("show left %d files in the directory, want only the journal", len(entries))
	}
	after, err := os.ReadFile(path)
	if err != nil || string(after) != string(before) {
		t.Errorf("show changed the journal (err %v)", err)
	}
}

// TestShowJournalFIFO checks that a FIFO named like a journal is refused
// at once, never opened for a read that would wait for a writer.
func TestShowJournalFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.journal")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	r := stagetrack(t, "show", path)
	wantCode(t, r, cli.ExitFailure)
	if !strings.Contains(r.stderr, "not a regular file") {
		t.Errorf("stderr %q does not say why", r.stderr)
	}
}

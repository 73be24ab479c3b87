//go:build unix

package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLateExecRefusesToJoin builds stagetrack and plays a backgrounded
// `stagetrack exec` that starts after its run has finished: it gets the
// run's STAGE_TRACKER_* and TRACEPARENT, but the journal is gone. It must
// exit non-zero with one line on stderr, not run its command, and leave
// the finished run file as it was. On main it exited 0 and replaced the
// run file with an incomplete run holding only its own stage.
func TestLateExecRefusesToJoin(t *testing.T) {
	bin := buildBinaries(t)
	work := t.TempDir()
	r := runAsUser(t, work, userEnv(), bin.stagetrack, "run", "--dir", "runs", "--name", "owner", "--",
		"sh", "-c", `env | grep -E '^(STAGE_TRACKER_|TRACEPARENT=)' > env.txt`)
	if r.code != 0 {
		t.Fatalf("stagetrack run: exit %d, stderr %q", r.code, r.stderr)
	}
	path, _ := onlyRunFile(t, filepath.Join(work, "runs"))
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	handed, err := os.ReadFile(filepath.Join(work, "env.txt"))
	if err != nil {
		t.Fatal(err)
	}
	env := userEnv(strings.Fields(string(handed))...)

	late := runAsUser(t, work, env, bin.stagetrack, "exec", "--stage", "late", "--", "sh", "-c", "echo ran > ran.txt")
	if late.code == 0 || strings.Count(late.stderr, "\n") != 1 || !strings.Contains(late.stderr, "cannot join") || !strings.Contains(late.stderr, "has finished") {
		t.Errorf("late exec: exit %d, stderr %q; want non-zero and one line saying it cannot join a finished run", late.code, late.stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "ran.txt")); err == nil {
		t.Error("the late exec ran its command although it could not be recorded")
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the finished run file changed (err %v)", err)
	}
	onlyRunFile(t, filepath.Join(work, "runs"))
}

// TestRecoverJournalIntoDir: `recover DIR --journal F` writes the run file
// into DIR, as its help says, not beside F. On main it went beside F.
func TestRecoverJournalIntoDir(t *testing.T) {
	const id = "6f1e0a52-8c0e-4f7e-9d55-1f0b7a3c2d11"
	dir, elsewhere := t.TempDir(), t.TempDir()
	j := journalOf(t, elsewhere, id, deadPID(t), "another-machine")
	r := inProcess(t, "recover", dir, "--journal", j)
	want := filepath.Join(dir, id+".json")
	if r.code != 0 || r.stdout != want+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and %s", r.code, r.stdout, r.stderr, want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Error(err)
	}
	if left, _ := filepath.Glob(filepath.Join(elsewhere, "*")); len(left) != 0 {
		t.Errorf("left beside the journal: %v", left)
	}
}

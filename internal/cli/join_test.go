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

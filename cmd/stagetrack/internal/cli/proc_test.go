//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"testing"
)

// TestJoinedStageNamesItsProcess: a stage that a joined process recorded
// says which process ran it; the run says its own host and pid, and a
// stage of the run's own process repeats neither.
func TestJoinedStageNamesItsProcess(t *testing.T) {
	bin := buildBinaries(t)
	work := t.TempDir()
	env := userEnv("PATH=" + filepath.Dir(bin.stagetrack) + string(os.PathListSeparator) + os.Getenv("PATH"))
	r := runAsUser(t, work, env, bin.stagetrack, "run", "-q", "--", "sh", "-c", "stagetrack exec --stage child -- true")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	host, _ := os.Hostname()
	if rf.PID == 0 || rf.Host != host {
		t.Errorf("run host %q pid %d; want %q and the run's pid", rf.Host, rf.PID, host)
	}
	st, ok := rf.Stages.Get("child")
	if !ok {
		t.Fatalf("no stage child in %v", rf.Stages)
	}
	if st.PID == 0 || st.PID == rf.PID {
		t.Errorf("joined stage pid %d, run pid %d; want the exec's own pid", st.PID, rf.PID)
	}
	if st.Host != "" {
		t.Errorf("joined stage host %q; want it left out, the same as the run's", st.Host)
	}
}

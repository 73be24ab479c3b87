package cli_test

import (
	"path/filepath"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// TestReportWriteError checks that a report that cannot be written says so
// in one line naming the file asked for, never the temporary file.
func TestReportWriteError(t *testing.T) {
	out := filepath.Join(t.TempDir(), "no", "such", "dir", "r.html")
	r := stagetrack(t, "report", runFile("train-a"), "-o", out)
	wantCode(t, r, cli.ExitFailure)
	want := "stagetrack: cannot write the report to " + out + ": no such file or directory\n"
	if r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}

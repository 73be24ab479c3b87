package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestMergeSplitRun splits a run file the way two exporters split a run
// (one holds the run span and some stages; the other, which never saw the
// run span, wrote the rest at Shutdown as incomplete) and checks that
// stagetrack merge gives back the file one exporter wrote, whatever the
// order of the parts and however often a part is given.
func TestMergeSplitRun(t *testing.T) {
	whole, err := os.ReadFile(runFile("security"))
	if err != nil {
		t.Fatal(err)
	}
	run, err := runfile.ReadFile(runFile("security"))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Stages) < 2 {
		t.Fatalf("fixture has %d top-level stages; want at least 2", len(run.Stages))
	}
	dir := t.TempDir()
	owner, other := *run, *run
	k := len(run.Stages) / 2
	owner.Stages = run.Stages[:k]
	other.Stages = run.Stages[k:]
	other.SpanID, other.TraceID, other.Name, other.Status, other.Error = "", "", "", runfile.StatusIncomplete, ""
	other.Warnings = []string{"the run was not finalised before the exporter shut down"}
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	for path, r := range map[string]*runfile.Run{a: &owner, b: &other} {
		if err := runfile.WriteFile(path, r, 0o644, false); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		parts []string
	}{
		{"owner first", []string{a, b}},
		{"owner last", []string{b, a}},
		{"a part twice", []string{b, a, b, a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := stagetrack(t, append([]string{"merge"}, tt.parts...)...)
			wantCode(t, r, 0)
			if r.stdout != string(whole) {
				t.Errorf("merged file differs from the whole run's:\n%s\nwant:\n%s", r.stdout, whole)
			}
		})
	}
	t.Run("two runs refused", func(t *testing.T) {
		r := stagetrack(t, "merge", a, runFile("train-a"))
		if r.code == 0 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "not one run") {
			t.Errorf("exit %d, stderr %q; want a one-line error saying they are not one run", r.code, r.stderr)
		}
	})
	t.Run("to a file", func(t *testing.T) {
		out := filepath.Join(dir, "merged.json")
		wantCode(t, stagetrack(t, "merge", a, b, "-o", out), 0)
		got, err := os.ReadFile(out)
		if err != nil || string(got) != string(whole) {
			t.Errorf("%s: %v; want the whole run's file", out, err)
		}
	})
}

//go:build unix

package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// TestPipelineCommands builds stagetrack once and runs the commands that
// CI pipelines use (issue 11) as a user would, in separate processes.
func TestPipelineCommands(t *testing.T) {
	bin := buildBinaries(t)
	t.Run("stage data from flags, a Python script and stage-data", func(t *testing.T) {
		testStageData(t, bin)
	})
}

// stageData decodes a stage's data as a map.
func stageData(t *testing.T, st jsonrun.Stage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(st.Data, &m); err != nil {
		t.Fatalf("stage %s data %s: %v", st.Key, st.Data, err)
	}
	return m
}

func testStageData(t *testing.T, bin binaries) {
	py, err := exec.LookPath("python3")
	tests := []struct {
		name   string
		python bool
		args   []string // after exec
		want   map[string]any
		warn   bool   // exec prints a one-line warning about the data file
	}{
		{
			name: "--data values typed as JSON where they parse",
			args: []string{"--data", "n=3", "--data", "acc=0.93", "--data", "ok=true", "--data", "model=resnet 50", "--data", "empty=", "--", "true"},
			want: map[string]any{"n": 3.0, "acc": 0.93, "ok": true, "model": "resnet 50", "empty": ""},
		},
		{
			name: "stage-data from inside the command, twice, merged",
			args: []string{"--data", "a=1", "--", "sh", "-c", `"$ST" stage-data rows=12 table=orders && "$ST" stage-data rows=13`},
			want: map[string]any{"a": 1.0, "rows": 13.0, "table": "orders"},
		},
		{
			name:   "a Python script writes the data file with the standard library",
			python: true,
			args: []string{"--", py, "-c",
				`import json, os; json.dump({"accuracy": 0.93, "cves": ["CVE-1"]}, open(os.environ["STAGE_TRACKER_DATA_FILE"], "w"))`},
			want: map[string]any{"accuracy": 0.93, "cves": []any{"CVE-1"}},
		},
		{
			name: "a bad data file is a warning; the stage keeps its other data",
			args: []string{"--data", "k=v", "--", "sh", "-c", `echo 'not json' > "$STAGE_TRACKER_DATA_FILE"`},
			want: map[string]any{"k": "v"}, warn: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.python && err != nil {
				t.Skip("python3 is not installed: the Python data-file case needs it")
			}
			work := t.TempDir()
			r := runAsUser(t, work, userEnv("ST="+bin.stagetrack), append([]string{bin.stagetrack, "exec", "--stage", "s"}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
			}
			_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
			got := stageData(t, rf.Stages[0])
			for k, v := range tc.want {
				if g, _ := json.Marshal(got[k]); string(g) != mustJSON(t, v) {
					t.Errorf("data[%q] = %s, want %s (data %s)", k, g, mustJSON(t, v), rf.Stages[0].Data)
				}
			}
			warned := strings.HasPrefix(r.stderr, "stagetrack: data file ") && strings.Count(r.stderr, "\n") == 1
			if warned != tc.warn {
				t.Errorf("stderr %q; want a one-line data-file warning: %v", r.stderr, tc.warn)
			}
			if _, ok := got["exit_code"]; !ok {
				t.Errorf("exec's own exit_code is missing: %s", rf.Stages[0].Data)
			}
		})
	}
	t.Run("the data file given by --data-file is read and left in place", func(t *testing.T) {
		work := t.TempDir()
		f := filepath.Join(work, "out.json")
		r := runAsUser(t, work, userEnv(), bin.stagetrack, "exec", "--data-file", f, "--",
			"sh", "-c", `test "$STAGE_TRACKER_DATA_FILE" = "`+f+`" && echo '{"rows": 7}' > "$STAGE_TRACKER_DATA_FILE"`)
		if r.code != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
		_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
		if got := stageData(t, rf.Stages[0])["rows"]; got != 7.0 {
			t.Errorf("rows = %v, want 7 (data %s)", got, rf.Stages[0].Data)
		}
		if _, err := os.Stat(f); err != nil {
			t.Errorf("the user's data file is gone: %v", err)
		}
	})
	t.Run("stage-data outside exec fails", func(t *testing.T) {
		r := runAsUser(t, t.TempDir(), userEnv(), bin.stagetrack, "stage-data", "a=1")
		if r.code != 1 || r.stderr != "stagetrack: STAGE_TRACKER_DATA_FILE is not set: stage-data runs inside stagetrack exec\n" {
			t.Errorf("exit %d stderr %q", r.code, r.stderr)
		}
	})
}

package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestRunArguments: every command that reads runs takes a unique id
// prefix, latest and a directory, looked for in runs/ or in the directory
// the argument names (on main, show and report refused a directory and
// none took an id or latest).
func TestRunArguments(t *testing.T) {
	t.Chdir(t.TempDir())
	t0 := time.Date(2025, 5, 5, 10, 0, 0, 0, time.UTC)
	const (
		a = "3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f"
		b = "3f9b0c12-0000-4000-8000-000000000000"
		c = "a1b2c3d4-0000-4000-8000-000000000000"
		d = "d0d0d0d0-0000-4000-8000-000000000000"
	)
	writeRuns(t, "runs",
		lsRun{id: a, name: "first", status: runfile.StatusOK, start: t0},
		lsRun{id: b, name: "second", status: runfile.StatusFailed, start: t0.Add(time.Hour)},
		lsRun{id: c, name: "newest", status: runfile.StatusOK, start: t0.Add(2 * time.Hour)},
	)
	writeRuns(t, filepath.Join("elsewhere", "nested"), lsRun{id: d, name: "other", status: runfile.StatusOK, start: t0})

	for _, tc := range []struct {
		name string
		args []string
		want []string // run ids the output names, in order
	}{
		{"show prefix", []string{"show", "3f2c"}, []string{a}},
		{"show prefix upper case", []string{"show", "A1B2"}, []string{c}},
		{"show latest", []string{"show", "latest"}, []string{c}},
		{"show directory", []string{"show", "runs/"}, []string{a, b, c}},
		{"show two arguments, one run twice", []string{"show", "latest", "a1b2c3"}, []string{c}},
		{"show DIR/prefix", []string{"show", "elsewhere/d0d0"}, []string{d}},
		{"show DIR/latest", []string{"show", "elsewhere/latest"}, []string{d}},
		{"report directory", []string{"report", "-o", "-", "runs"}, []string{c, b, a}},
		{"report latest", []string{"report", "-o", "-", "latest"}, []string{c}},
		{"report prefix", []string{"report", "-o", "-", "3f9"}, []string{b}},
		{"validate latest", []string{"validate", "latest"}, []string{c}},
		{"send-free merge of a prefix", []string{"merge", "3f2c"}, []string{a}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := stagetrack(t, tc.args...)
			if r.code != cli.ExitOK {
				t.Fatalf("code %d, stderr %q", r.code, r.stderr)
			}
			out := r.stdout
			if tc.args[0] == "validate" { // it names the file
				out = strings.ReplaceAll(out, ".json", "")
			}
			pos := -1
			for _, id := range tc.want {
				i := strings.Index(out, id)
				if i < 0 || i < pos {
					t.Fatalf("output lacks %s or has it out of order (want %v):\n%s", id, tc.want, out)
				}
				pos = i
			}
			for _, id := range []string{a, b, c, d} {
				if !strings.Contains(strings.Join(tc.want, " "), id) && strings.Contains(out, id) {
					t.Errorf("output names %s, which the arguments do not", id)
				}
			}
		})
	}

	t.Run("stats of a prefix", func(t *testing.T) {
		r := stagetrack(t, "stats", "--json", "3f2c")
		if r.code != cli.ExitOK || !strings.Contains(r.stdout, `"runs": 1,`) {
			t.Errorf("code %d, stdout %s, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ambiguous prefix", []string{"show", "3f"}, "stagetrack: 3f is ambiguous: 2 runs in runs have an id starting with it (3f9b0c12, 3f2c8a1e); give more of the id\n"},
		{"ambiguous in report", []string{"report", "-o", "-", "3"}, "stagetrack: 3 is ambiguous: 2 runs in runs have an id starting with it (3f9b0c12, 3f2c8a1e); give more of the id\n"},
		{"no such id", []string{"stats", "ffff"}, "stagetrack: ffff: no such file, and no run in runs has an id starting with ffff\n"},
		{"no such directory", []string{"show", "gone/latest"}, "stagetrack: gone/latest: no such file or directory, and no directory gone to look for a run id or latest in\n"},
		{"a missing file stays a missing file", []string{"show", "runs/nope.json"}, "stagetrack: runs/nope.json: no such file or directory\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := stagetrack(t, tc.args...)
			if r.code != cli.ExitFailure || r.stderr != tc.want {
				t.Errorf("code %d, stderr %q; want %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

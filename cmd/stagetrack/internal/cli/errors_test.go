package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// TestErrorsAreOneLine runs every command's error paths and checks that
// the message is one line in the user's words: the path and what is wrong,
// no Go time layout or type, no temporary file name, no message said twice,
// no log timestamp. Usage errors add cobra's one "Run ... --help" line.
func TestErrorsAreOneLine(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nope.json")
	garbage := write("garbage.json", "garbage\n")
	badTime := write("badtime.json", `{"run_id":"a","start_time":"2025-05-05 23:14:10"}`)
	array := write("array.json", `[1]`)
	good := runFile("security")

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"show missing", []string{"show", missing}, cli.ExitFailure, missing + ": no such file"},
		{"show empty directory", []string{"show", empty}, cli.ExitFailure, "no run files (*.json) in " + empty},
		{"show not JSON", []string{"show", garbage}, cli.ExitFailure, garbage + ": not valid JSON at byte 1"},
		{"show bad timestamp", []string{"show", badTime}, cli.ExitFailure, `"2025-05-05 23:14:10" is not an ISO 8601 time`},
		{"show array of numbers", []string{"show", array}, cli.ExitFailure, array + "[0]: a JSON number where a run object belongs"},
		{"show bad width", []string{"show", "--width", "-1", good}, cli.ExitUsage, "--width must be positive"},
		{"stats missing", []string{"stats", missing}, cli.ExitFailure, missing + ": no such file"},
		{"stats empty directory", []string{"stats", empty}, cli.ExitFailure, "no run files (*.json) in " + empty},
		{"diff missing", []string{"diff", good, missing}, cli.ExitFailure, missing + ": no such file"},
		{"diff one argument", []string{"diff", good}, cli.ExitUsage, "accepts 2 arg(s)"},
		{"report missing", []string{"report", missing, "-o", filepath.Join(dir, "r.html")}, cli.ExitFailure, missing + ": no such file"},
		{"report unwritable", []string{"report", good, "-o", filepath.Join(dir, "no", "r.html")}, cli.ExitFailure, "cannot write the report to " + filepath.Join(dir, "no", "r.html") + ": no such file or directory"},
		{"validate missing", []string{"validate", missing}, cli.ExitFailure, missing + ": no such file"},
		{"validate empty directory", []string{"validate", empty}, cli.ExitFailure, "no run files (*.json) in " + empty},
		{"show no such id", []string{"show", filepath.Join(dir, "0ddba11")}, cli.ExitFailure, filepath.Join(dir, "0ddba11") + ": no such file, and no run in " + dir + " has an id starting with 0ddba11"},
		{"send missing", []string{"send", missing}, cli.ExitFailure, missing + ": no such file"},
		{"recover missing directory", []string{"recover", filepath.Join(dir, "gone")}, cli.ExitFailure, filepath.Join(dir, "gone") + ": no such file"},
		{"recover a file", []string{"recover", good}, cli.ExitFailure, good + " is not a directory"},
		{"run without a command", []string{"run"}, cli.ExitUsage, "requires at least 1 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := stagetrack(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit code %d, want %d", r.code, tc.code)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if tc.code == cli.ExitUsage && len(lines) == 2 && strings.HasPrefix(lines[1], "Run 'stagetrack ") {
				lines = lines[:1]
			}
			if len(lines) != 1 {
				t.Fatalf("stderr is %d lines, want one:\n%s", len(lines), r.stderr)
			}
			msg := lines[0]
			if !strings.HasPrefix(msg, "stagetrack: ") || !strings.Contains(msg, tc.want) {
				t.Errorf("stderr %q; want %q", msg, tc.want)
			}
			for _, leak := range []string{"2006-01-02", "Z07:00", "Go value", ".tmp-", "jsonrun:", "stat ", "open "} {
				if strings.Contains(msg, leak) {
					t.Errorf("stderr %q has %q", msg, leak)
				}
			}
			if regexp.MustCompile(`\d{4}/\d\d/\d\d \d\d:\d\d:\d\d`).MatchString(msg) {
				t.Errorf("stderr %q has a log timestamp", msg)
			}
			for _, a := range tc.args {
				if strings.HasPrefix(a, "/") && strings.Count(msg, a+": ")+strings.Count(msg, a+" is") > 1 {
					t.Errorf("stderr %q names %s twice", msg, a)
				}
			}
		})
	}
}

// TestRecoverDefaultsToRuns: recover with no argument uses runs/, as the
// other commands and setup do (on main it was a usage error).
func TestRecoverDefaultsToRuns(t *testing.T) {
	t.Chdir(t.TempDir())
	r := stagetrack(t, "recover")
	if r.code != cli.ExitFailure || r.stderr != "stagetrack: runs: no such file or directory\n" {
		t.Errorf("without runs/: code %d, stderr %q", r.code, r.stderr)
	}
	if err := os.Mkdir("runs", 0o755); err != nil {
		t.Fatal(err)
	}
	r = stagetrack(t, "recover")
	if r.code != cli.ExitOK || r.stderr != "stagetrack: no orphaned journals in runs\n" {
		t.Errorf("with an empty runs/: code %d, stderr %q", r.code, r.stderr)
	}
}

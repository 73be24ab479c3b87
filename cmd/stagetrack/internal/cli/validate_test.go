package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// TestValidate checks each problem's line and reason. The broken files
// are the security fixture with one edit each, so the line numbers below
// are those of testdata/runs/security.json.
func TestValidate(t *testing.T) {
	good, err := os.ReadFile(runFile("security"))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string {
		if !strings.Contains(string(good), old) {
			t.Fatalf("security.json has no %q", old)
		}
		return strings.Replace(string(good), old, new, 1)
	}
	cases := []struct {
		name string
		file string
		want []string // lines of output, after "FILE:"
	}{
		{"valid", string(good), []string{" ok"}},
		{
			"duration is a string",
			edit(`"duration_sec": 1.05,`, `"duration_sec": "1.05",`),
			[]string{`41: got string, want number (at /stages/Enrichment/stages/osv/duration_sec)`},
		},
		{
			"unknown stage status",
			edit(`"status": "unfinished"`, `"status": "stuck"`),
			[]string{`60: value must be one of 'ok', 'error', 'unfinished', 'running' (at /stages/Report/status)`},
		},
		{
			"missing run_id",
			edit(`"run_id": "c355abaa-cb8c-4cad-ae67-47bce23be244",`, ``),
			[]string{`1: missing property 'run_id' (at the top level)`},
		},
		{
			"stage start_time not a timestamp",
			edit(`"start_time": "2025-05-06T01:14:10.235518+00:00",
      "duration_sec": 3,`, `"start_time": "yesterday",
      "duration_sec": 3,`),
			[]string{`7: "yesterday" is not a run file timestamp (UTC with microseconds, like 2025-05-05T23:14:10.235518+00:00) (at /stages/Detection/start_time)`},
		},
		{
			"not JSON",
			edit(`"stage_count": 5`, `"stage_count": 5,`),
			[]string{`73: not valid JSON: invalid character '}' looking for beginning of object key string`},
		},
		{
			"trailing data",
			string(good) + "{}\n",
			[]string{`74: not valid JSON: unexpected data after the top-level value`},
		},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".json")
			if err := os.WriteFile(path, []byte(c.file), 0o644); err != nil {
				t.Fatal(err)
			}
			r := stagetrack(t, "validate", path)
			wantCode(t, r, map[bool]int{true: cli.ExitOK, false: cli.ExitFailure}[c.name == "valid"])
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != len(c.want) {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(c.want), r.stdout)
			}
			for i, want := range c.want {
				if !strings.HasPrefix(lines[i], path+":"+want) {
					t.Errorf("line %d:\n got %s\nwant %s:%s", i+1, lines[i], path, want)
				}
			}
			if c.name != "valid" && !strings.Contains(r.stderr, "1 of 1 files are not valid run files") {
				t.Errorf("stderr %q lacks the summary", r.stderr)
			}
		})
	}
}

func TestValidateManyFiles(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"run_id": 7}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		code  int
		lines int
	}{
		{"all valid", []string{"validate", runFile("train-a"), runFile("train-b"), runFile("security")}, cli.ExitOK, 3},
		{"all valid, quiet", []string{"validate", "-q", runFile("train-a"), runFile("train-b")}, cli.ExitOK, 0},
		{"one invalid", []string{"validate", runFile("train-a"), bad}, cli.ExitFailure, 1 + 2},
		{"one invalid, quiet", []string{"validate", "--quiet", runFile("train-a"), bad}, cli.ExitFailure, 2},
		{"missing file", []string{"validate", "nope.json"}, cli.ExitFailure, 0},
		{"no file", []string{"validate"}, cli.ExitUsage, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := stagetrack(t, c.args...)
			wantCode(t, r, c.code)
			if got := strings.Count(r.stdout, "\n"); got != c.lines {
				t.Errorf("%d lines, want %d:\n%s", got, c.lines, r.stdout)
			}
		})
	}
}

package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

func TestReport(t *testing.T) {
	bar := regexp.MustCompile(`<rect class="bar[ "]`)
	dir := t.TempDir()
	cases := []struct {
		name  string
		args  []string
		out   string // the file written; "" for stdout
		runs  int
		stage int
	}{
		{"one run", []string{"report", runFile("train-a"), "-o", filepath.Join(dir, "a.html")}, filepath.Join(dir, "a.html"), 1, 8},
		{"three runs", []string{"report", runFile("security"), runFile("train-a"), runFile("train-b"), "-o", filepath.Join(dir, "all.html")}, filepath.Join(dir, "all.html"), 3, 21},
		{"stdout", []string{"report", "-o", "-", runFile("security")}, "", 1, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := stagetrack(t, c.args...)
			wantCode(t, r, cli.ExitOK)
			html := r.stdout
			if c.out != "" {
				b, err := os.ReadFile(c.out)
				if err != nil {
					t.Fatal(err)
				}
				html = string(b)
				if !strings.Contains(r.stderr, "wrote "+c.out) {
					t.Errorf("stderr %q does not say where the report went", r.stderr)
				}
			}
			if got := len(bar.FindAllString(html, -1)); got != c.stage {
				t.Errorf("%d bars, want %d", got, c.stage)
			}
			if got := strings.Count(html, `<section class="run"`); got != c.runs {
				t.Errorf("%d runs, want %d", got, c.runs)
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestReportErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"no run file", []string{"report", "-o", "x.html"}, cli.ExitUsage},
		{"empty output", []string{"report", "-o", "", runFile("train-a")}, cli.ExitUsage},
		{"missing run file", []string{"report", "-o", filepath.Join(t.TempDir(), "x.html"), "nope.json"}, cli.ExitFailure},
		{"unwritable output", []string{"report", "-o", filepath.Join(t.TempDir(), "no", "such", "dir", "x.html"), runFile("train-a")}, cli.ExitFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, stagetrack(t, c.args...), c.code)
		})
	}
}

package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

func TestShowGolden(t *testing.T) {
	cases := []struct {
		name string
		in   invocation
		args []string
	}{
		{"train-a", invocation{}, []string{"show", runFile("train-a")}},
		{"train-b", invocation{}, []string{"show", runFile("train-b")}},
		{"security", invocation{}, []string{"show", runFile("security")}},
		{"security-width-60", invocation{}, []string{"show", "--width", "60", runFile("security")}},
		{"train-a-columns-140", invocation{env: map[string]string{"COLUMNS": "140"}}, []string{"show", runFile("train-a")}},
		{"two-files", invocation{}, []string{"show", "-w", "80", runFile("train-a"), runFile("train-b")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.in.run(t, c.args...)
			wantCode(t, r, cli.ExitOK)
			golden(t, filepath.Join("show", c.name+".golden"), r.stdout)
		})
	}
}

// TestShowWidth checks that every row fits the width asked for, however
// it is asked for.
func TestShowWidth(t *testing.T) {
	cases := []struct {
		name  string
		in    invocation
		flags []string
		want  int
	}{
		{"default when not a terminal", invocation{}, nil, 100},
		{"flag", invocation{}, []string{"--width", "72"}, 72},
		{"flag beats COLUMNS", invocation{env: map[string]string{"COLUMNS": "150"}}, []string{"-w", "64"}, 64},
		{"COLUMNS", invocation{env: map[string]string{"COLUMNS": "90"}}, nil, 90},
		{"COLUMNS not a number", invocation{env: map[string]string{"COLUMNS": "wide"}}, nil, 100},
		{"terminal width", invocation{terminal: true, termW: 84}, nil, 84},
		{"COLUMNS beats terminal", invocation{terminal: true, termW: 84, env: map[string]string{"COLUMNS": "120"}}, nil, 120},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.in.run(t, append(append([]string{"show"}, c.flags...), runFile("security"))...)
			wantCode(t, r, cli.ExitOK)
			widest := 0
			for line := range strings.Lines(r.stdout) {
				widest = max(widest, len([]rune(strings.TrimRight(line, "\n"))))
			}
			if widest > c.want {
				t.Errorf("widest line %d columns, want at most %d:\n%s", widest, c.want, r.stdout)
			}
			if widest < c.want-30 {
				t.Errorf("widest line %d columns: the table does not use the %d available:\n%s", widest, c.want, r.stdout)
			}
		})
	}
}

// TestColor checks that colour appears only on a terminal without NO_COLOR,
// for every command that prints tables.
func TestColor(t *testing.T) {
	commands := map[string][]string{
		"show":  {"show", runFile("train-b")},
		"diff":  {"diff", runFile("train-a"), runFile("train-b")},
		"stats": {"stats", filepath.Join("testdata", "runs")},
	}
	cases := []struct {
		name      string
		in        invocation
		wantColor bool
	}{
		{"terminal", invocation{terminal: true, termW: 100, env: map[string]string{"NO_COLOR": ""}}, true},
		{"terminal with NO_COLOR", invocation{terminal: true, termW: 100, env: map[string]string{"NO_COLOR": "1"}}, false},
		{"terminal with TERM=dumb", invocation{terminal: true, termW: 100, env: map[string]string{"NO_COLOR": "", "TERM": "dumb"}}, false},
		{"pipe", invocation{env: map[string]string{"NO_COLOR": ""}}, false},
	}
	for cmd, args := range commands {
		for _, c := range cases {
			t.Run(cmd+"/"+c.name, func(t *testing.T) {
				r := c.in.run(t, args...)
				wantCode(t, r, cli.ExitOK)
				if got := strings.Contains(r.stdout, "\x1b["); got != c.wantColor {
					t.Errorf("coloured = %v, want %v:\n%q", got, c.wantColor, r.stdout)
				}
			})
		}
	}
}

func TestShowErrors(t *testing.T) {
	dir := t.TempDir()
	notRun := filepath.Join(dir, "config.json")
	if err := os.WriteFile(notRun, []byte(`{"name": "not a run"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"run_id": `), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		args       []string
		code       int
		wantStderr string
	}{
		{"no file", []string{"show"}, cli.ExitUsage, "requires at least 1 arg"},
		{"missing file", []string{"show", filepath.Join(dir, "nope.json")}, cli.ExitFailure, "no such file"},
		{"not a run file", []string{"show", notRun}, cli.ExitFailure, "not a run file"},
		{"broken JSON", []string{"show", broken}, cli.ExitFailure, "broken.json"},
		{"negative width", []string{"show", "--width", "-3", runFile("train-a")}, cli.ExitUsage, "--width must be positive"},
		{"unknown flag", []string{"show", "--colour", runFile("train-a")}, cli.ExitUsage, "unknown flag"},
		{"unknown command", []string{"shwo"}, cli.ExitUsage, "unknown command"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := stagetrack(t, c.args...)
			wantCode(t, r, c.code)
			if !strings.Contains(r.stderr, c.wantStderr) {
				t.Errorf("stderr %q does not say %q", r.stderr, c.wantStderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty on error: %q", r.stdout)
			}
		})
	}
}

// TestHelp checks that every command has --help with an example.
func TestHelp(t *testing.T) {
	root := cli.NewRootCommand(&cli.Env{})
	for _, cmd := range root.Commands() {
		if cmd.Name() == "help" || cmd.Name() == "completion" {
			continue
		}
		t.Run(cmd.Name(), func(t *testing.T) {
			if cmd.Example == "" {
				t.Errorf("%s has no example", cmd.Name())
			}
			r := stagetrack(t, cmd.Name(), "--help")
			wantCode(t, r, cli.ExitOK)
			if !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "stagetrack "+cmd.Name()) {
				t.Errorf("help does not show examples:\n%s", r.stdout)
			}
		})
	}
}

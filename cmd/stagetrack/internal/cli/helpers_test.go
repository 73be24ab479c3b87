package cli_test

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fixture run files in testdata")

// result is what one stagetrack invocation did.
type result struct {
	stdout, stderr string
	code           int
}

// invocation describes the world a command runs in.
type invocation struct {
	env      map[string]string // environment; NO_COLOR=1 unless set
	terminal bool              // stdout is a terminal
	termW    int               // its width
}

// stagetrack runs the command line args through cli.Main with buffers for
// stdout and stderr, NO_COLOR=1 and no terminal.
func stagetrack(t *testing.T, args ...string) result {
	t.Helper()
	return invocation{}.run(t, args...)
}

func (in invocation) run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	// The test run's spool (TestMain), unless the test names its own.
	env := map[string]string{"NO_COLOR": "1", cli.EnvSpool: os.Getenv(cli.EnvSpool)}
	for k, v := range in.env {
		env[k] = v
	}
	code := cli.Main(t.Context(), args, &cli.Env{
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
		Terminal: func(w io.Writer) (bool, int) {
			if w == &stdout && in.terminal {
				return true, in.termW
			}
			return false, 0
		},
	})
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// golden compares got with testdata/<name>, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update to accept it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// runFile is the path of a committed fixture run file.
func runFile(name string) string { return filepath.Join("testdata", "runs", name+".json") }

func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

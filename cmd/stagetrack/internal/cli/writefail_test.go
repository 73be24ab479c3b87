package cli_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// failingWriter fails every write, like stdout on a full disk or a closed
// pipe.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestOutputWriteFailureExitsNonZero: a command whose output cannot be
// written fails, whatever the format (main: stats --json exited 0).
func TestOutputWriteFailureExitsNonZero(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"stats table", []string{"stats", "testdata/runs"}},
		{"stats --json", []string{"stats", "--json", "testdata/runs"}},
		{"show", []string{"show", runFile("security")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := cli.Main(t.Context(), tc.args, &cli.Env{
				Stdout: failingWriter{},
				Stderr: &stderr,
				Getenv: func(k string) string { return map[string]string{"NO_COLOR": "1"}[k] },
			})
			if code == 0 {
				t.Fatalf("exit 0 with stdout failing; stderr %q", stderr.String())
			}
			if !strings.Contains(stderr.String(), "no space left on device") {
				t.Errorf("stderr %q does not say why", stderr.String())
			}
		})
	}
}

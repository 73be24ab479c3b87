//go:build unix

package cli_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// nonRegularDir makes a directory holding a FIFO named pipe.json, a
// symbolic link zero.json to /dev/zero, and one good run file.
func nonRegularDir(t *testing.T) (dir, fifo, zero, good string) {
	t.Helper()
	dir = t.TempDir()
	fifo, zero, good = filepath.Join(dir, "pipe.json"), filepath.Join(dir, "zero.json"), filepath.Join(dir, "good.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(runFile("security"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, fifo, zero, good
}

// TestNonRegularFilesSkipped: a FIFO named *.json and /dev/zero behind a
// symbolic link are skipped with a one-line note each, never read (on
// main, reading the FIFO blocked forever and /dev/zero never ended).
func TestNonRegularFilesSkipped(t *testing.T) {
	dir, fifo, zero, good := nonRegularDir(t)
	out := filepath.Join(t.TempDir(), "r.html")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"show", []string{"show", fifo, zero, good}},
		{"stats directory", []string{"stats", dir}},
		{"stats files", []string{"stats", fifo, zero, good}},
		{"validate", []string{"validate", fifo, zero, good}},
		{"report", []string{"report", fifo, zero, good, "-o", out}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := stagetrack(t, tc.args...)
			wantCode(t, r, cli.ExitOK)
			for _, want := range []string{
				"stagetrack: note: skipped " + fifo + ": not a regular file (a FIFO)\n",
				"stagetrack: note: skipped " + zero + ": not a regular file (a character device)\n",
			} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr %q lacks %q", r.stderr, want)
				}
			}
		})
	}
	t.Run("diff refuses", func(t *testing.T) {
		r := stagetrack(t, "diff", fifo, good)
		if r.code != cli.ExitFailure || r.stderr != "stagetrack: "+fifo+": not a regular file (a FIFO)\n" {
			t.Errorf("code %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("nothing left", func(t *testing.T) {
		r := stagetrack(t, "show", fifo)
		if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "no run files to read: every argument was skipped") {
			t.Errorf("code %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestReadersStopWhenInterrupted: with the context ended (Ctrl-C or
// SIGTERM: the binary's context comes from signal.NotifyContext) each
// reading command stops and fails instead of printing as if whole.
func TestReadersStopWhenInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	good := runFile("security")
	for _, args := range [][]string{
		{"show", good}, {"stats", good}, {"diff", good, good}, {"validate", good},
		{"report", good, "-o", filepath.Join(t.TempDir(), "r.html")}, {"send", good},
	} {
		t.Run(args[0], func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli.Main(ctx, args, &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
			if code != cli.ExitFailure || stdout.Len() != 0 || !strings.Contains(stderr.String(), "context canceled") {
				t.Errorf("code %d, stdout %q, stderr %q; want a failure and no output", code, stdout.String(), stderr.String())
			}
		})
	}
}

// TestStatsBinaryFIFODoesNotHang runs the stagetrack binary on a directory
// holding a FIFO named *.json: it must finish (on main it blocked opening
// the FIFO until killed).
func TestStatsBinaryFIFODoesNotHang(t *testing.T) {
	dir, fifo, _, _ := nonRegularDir(t)
	bin := buildBinaries(t).stagetrack
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "stats", dir)
	cmd.Env = userEnv("NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("stats %s did not finish within a minute: it blocked on the FIFO", dir)
	}
	if err != nil || !strings.Contains(stderr.String(), "skipped "+fifo+": not a regular file (a FIFO)") || !strings.HasPrefix(stdout.String(), "1 run") {
		t.Errorf("err %v\nstdout %q\nstderr %q", err, stdout.String(), stderr.String())
	}
}

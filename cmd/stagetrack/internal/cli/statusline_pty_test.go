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

	"github.com/creack/pty"
)

// TestRunStatusLineOnATerminal runs the built stagetrack run in a
// pseudo-terminal, with a stage that waits for the test: while it waits,
// the run's terminal shows the status line with the stage's elapsed time
// (drawn and erased in place), CMD still sees a terminal, and its output
// and the progress lines come through whole. The stage ends when the test
// has seen the status line, so nothing waits for a clock.
func TestRunStatusLineOnATerminal(t *testing.T) {
	bin := buildBinaries(t)
	work := t.TempDir()
	gate := filepath.Join(work, "gate")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin.stagetrack, "run", "--name", "long", "--",
		"sh", "-c", `"$ST" exec --stage train -- sh -c '[ -t 1 ] && echo "train sees a terminal"; read x < gate; echo "train done"'`)
	cmd.Dir, cmd.Env = work, userEnv("ST="+bin.stagetrack, "NO_COLOR=1", "TERM=xterm")
	term, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()

	var seen bytes.Buffer
	buf := make([]byte, 4096)
	// readUntil reads the terminal until it holds want, or it ends.
	readUntil := func(want string) bool {
		for !strings.Contains(seen.String(), want) {
			n, err := term.Read(buf)
			seen.Write(buf[:n])
			if err != nil {
				return strings.Contains(seen.String(), want)
			}
		}
		return true
	}
	if !readUntil("running: train") {
		t.Fatalf("no status line while the stage ran; the terminal showed:\n%q", seen.String())
	}
	g, err := os.OpenFile(gate, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	g.WriteString("go\n")
	g.Close()
	readUntil("\x00") // to the end: EIO once run has exited
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v; the terminal showed:\n%q", err, seen.String())
	}
	out := seen.String()
	for _, want := range []string{
		"train sees a terminal\r\n",
		"▶ train",
		"\r\x1b[K", // the status line erased in place
		"train done\r\n",
		"running: train 1.00s",
		"✔ train",
		"stagetrack: run ok",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the terminal lacks %q:\n%q", want, out)
		}
	}
	if strings.Contains(out, "\r\r\n") {
		t.Errorf("newlines translated twice, by the relay's terminal and the real one:\n%q", out)
	}
	if strings.Contains(out, "still running") {
		t.Errorf("plain still-running lines on a terminal with a status line:\n%q", out)
	}
	// Everything after the last erase is the run's summary: the status
	// line is gone.
	last := out[strings.LastIndex(out, "\r\x1b[K")+len("\r\x1b[K"):]
	if strings.Contains(last, "running:") {
		t.Errorf("the status line is left on the terminal at the end:\n%q", last)
	}
}

//go:build unix

package cli_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The outputs a user names (report -o, merge -o) are written into a FIFO
// or a device in place, never replaced by a file renamed over them: as
// root, `stagetrack report big.json -o /dev/null` once left a regular file
// where /dev/null was. A FIFO stands in for the device. A second name of
// the FIFO (keep) lets the test release its reader if the command
// replaced the first.
func TestOutputIntoAFIFO(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // the output starts with it
	}{
		{"report", []string{"report", runFile("security")}, "<!DOCTYPE html>"},
		{"merge", []string{"merge", runFile("security")}, "{"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			keep, out := filepath.Join(dir, "keep"), filepath.Join(dir, "out")
			if err := syscall.Mkfifo(keep, 0o600); err != nil {
				t.Skip("no FIFOs here:", err)
			}
			if err := os.Link(keep, out); err != nil {
				t.Fatal(err)
			}
			got := make(chan string, 1)
			go func() {
				b, _ := os.ReadFile(out) // opening waits for a writer
				got <- string(b)
			}()
			r := stagetrack(t, append(tt.args, "-o", out)...)
			fi, err := os.Lstat(out)
			if r.code != 0 || err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
				if f, err := os.OpenFile(keep, os.O_WRONLY, 0); err == nil {
					f.Close() // releases the reader
				}
				<-got
				t.Fatalf("exit %d, stderr %q; %s is now %v (%v), want the FIFO written in place", r.code, r.stderr, out, fi, err)
			}
			if b := <-got; !strings.HasPrefix(b, tt.want) {
				t.Errorf("read %.40q from the FIFO; want it to start with %q", b, tt.want)
			}
		})
	}
}

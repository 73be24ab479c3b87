//go:build unix

package fsutil_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

// A whole-or-absent write never renames over what is not a regular file.
// A stress run as root once wrote a report to /dev/null through a
// temporary file renamed over it, and left a regular file where the
// device was: every later `> /dev/null` of the machine wrote to disk. A
// FIFO stands in for the device here (the test must not touch /dev/null).
func TestWriteAtomicNeverReplacesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, link, sub} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			before, _ := os.Lstat(path)
			err := fsutil.WriteAtomic(path, 0o644, true, func(w io.Writer) error {
				_, err := io.WriteString(w, "x")
				return err
			})
			if !errors.Is(err, fsutil.ErrNotRegular) {
				t.Errorf("WriteAtomic over %s: %v, want ErrNotRegular", path, err)
			}
			after, err := os.Lstat(path)
			if err != nil || after.Mode() != before.Mode() {
				t.Errorf("%s was %v, is %v (%v)", path, before.Mode(), after, err)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// WriteOutput writes a person's named output: into a FIFO (as into a
// device) in place, through a symlink to its target, and a regular file
// whole.
func TestWriteOutput(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}

	t.Run("FIFO written in place", func(t *testing.T) {
		fifo := filepath.Join(dir, "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		got := make(chan []byte)
		go func() {
			b, _ := os.ReadFile(fifo) // opening blocks until the writer opens
			got <- b
		}()
		if err := fsutil.WriteOutput(fifo, 0o644, write("report")); err != nil {
			t.Fatal(err)
		}
		if b := <-got; string(b) != "report" {
			t.Errorf("read %q from the FIFO", b)
		}
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("the FIFO is now %v (%v)", fi.Mode(), err)
		}
	})

	t.Run("symlink followed", func(t *testing.T) {
		target := filepath.Join(dir, "target.html")
		if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "report.html")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if err := fsutil.WriteOutput(link, 0o644, write("new")); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("the link is now %v (%v)", fi, err)
		}
		if b, _ := os.ReadFile(target); string(b) != "new" {
			t.Errorf("target holds %q", b)
		}
	})

	t.Run("regular file replaced whole", func(t *testing.T) {
		path := filepath.Join(dir, "plain.html")
		if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := fsutil.WriteOutput(path, 0o644, write("new")); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if b, _ := os.ReadFile(path); err != nil || string(b) != "new" || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %q, %v, %v", path, b, fi.Mode(), err)
		}
	})
}

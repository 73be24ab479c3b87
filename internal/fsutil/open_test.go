package fsutil_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

// TestOpenFileLikeOSOpenFile: fsutil.OpenFile opens as os.OpenFile does, for
// every flag combination the journals, the store, the spool and the
// atomic writes use: the same errors, the same writes landing where they
// land, the same file left behind. On Windows, where it calls CreateFile
// itself, this checks its mapping of the flags.
func TestOpenFileLikeOSOpenFile(t *testing.T) {
	const before = "first line\n"
	cases := []struct {
		name   string
		flag   int
		exists bool
	}{
		{"read-only, present", os.O_RDONLY, true},
		{"read-only, missing", os.O_RDONLY, false},
		{"write-only append, present", os.O_WRONLY | os.O_APPEND, true},
		{"write-only append, missing", os.O_WRONLY | os.O_APPEND, false},
		{"read-write append, present", os.O_RDWR | os.O_APPEND, true},
		{"create excl, missing", os.O_RDWR | os.O_APPEND | os.O_CREATE | os.O_EXCL, false},
		{"create excl, present", os.O_RDWR | os.O_APPEND | os.O_CREATE | os.O_EXCL, true},
		{"create excl read-write, missing", os.O_RDWR | os.O_CREATE | os.O_EXCL, false},
		{"create append, present", os.O_RDWR | os.O_APPEND | os.O_CREATE, true},
		{"create append, missing", os.O_RDWR | os.O_APPEND | os.O_CREATE, false},
		{"create, present", os.O_RDWR | os.O_CREATE, true},
		{"create, missing", os.O_RDWR | os.O_CREATE, false},
		{"create truncate, present", os.O_WRONLY | os.O_CREATE | os.O_TRUNC, true},
		{"create truncate, missing", os.O_WRONLY | os.O_CREATE | os.O_TRUNC, false},
		{"truncate, present", os.O_RDWR | os.O_TRUNC, true},
		{"truncate, missing", os.O_RDWR | os.O_TRUNC, false},
		{"non-blocking read, present", os.O_RDONLY | fsutil.NonBlock, true},
	}
	type outcome struct {
		openErr, writeErr error
		read              string // what the handle reads from its start
		after             string // what the file holds once closed
		exists            bool
	}
	// kind keeps of an error only what the callers test for.
	errOther := errors.New("other error")
	kind := func(err error) error {
		switch {
		case err == nil:
			return nil
		case errors.Is(err, fs.ErrExist):
			return fs.ErrExist
		case errors.Is(err, fs.ErrNotExist):
			return fs.ErrNotExist
		default:
			return errOther
		}
	}
	try := func(t *testing.T, open func(string, int, os.FileMode) (*os.File, error), flag int, exists bool) outcome {
		path := filepath.Join(t.TempDir(), "x.journal")
		if exists {
			if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		var o outcome
		f, err := open(path, flag, 0o600)
		o.openErr = kind(err)
		if err == nil {
			// A write, then a read from the start: where the write landed.
			_, err = f.Write([]byte("new\n"))
			o.writeErr = kind(err)
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(f)
			o.read = string(b)
			if err := f.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
		}
		b, err := os.ReadFile(path)
		o.after, o.exists = string(b), err == nil
		return o
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := try(t, os.OpenFile, c.flag, c.exists)
			got := try(t, fsutil.OpenFile, c.flag, c.exists)
			if got != want {
				t.Errorf("fsutil.OpenFile: %+v\nos.OpenFile:     %+v", got, want)
			}
		})
	}
}

// TestOpenFileMode: a file OpenFile creates has the mode asked for, less
// the umask, as with os.OpenFile.
func TestOpenFileMode(t *testing.T) {
	dir := t.TempDir()
	mode := func(open func(string, int, os.FileMode) (*os.File, error), name string) os.FileMode {
		f, err := open(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode()
	}
	if got, want := mode(fsutil.OpenFile, "a"), mode(os.OpenFile, "b"); got != want {
		t.Errorf("mode %v, os.OpenFile gives %v", got, want)
	}
}

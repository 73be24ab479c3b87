//go:build windows

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

// TestOpenFileRenameRemoveWhileOpen: what finish does to a journal that
// steps hold open. A file opened through fsutil.OpenFile and
// fsutil.OpenNoFollow, locked as a journal is, can be renamed aside and
// removed while both handles are open; the handles go on writing and
// reading the file under its new name. With os.OpenFile's share modes
// (no FILE_SHARE_DELETE) the rename fails with a sharing violation.
func TestOpenFileRenameRemoveWhileOpen(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "run.journal")
	aside := live + ".finishing"
	w, err := fsutil.OpenFile(live, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := fsutil.LockShared(w); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString("run\n"); err != nil {
		t.Fatal(err)
	}
	r, err := fsutil.OpenNoFollow(live, os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	if err := os.Rename(live, aside); err != nil {
		t.Fatalf("rename while open: %v", err)
	}
	if _, err := w.WriteString("stage\n"); err != nil {
		t.Fatalf("write after the rename: %v", err)
	}
	if got, err := os.ReadFile(aside); err != nil || string(got) != "run\nstage\n" {
		t.Fatalf("%s holds %q, %v; want the lines written before and after the rename", aside, got, err)
	}
	if !fsutil.SameFile(r, aside) {
		t.Error("the reader's handle is not the renamed file")
	}

	if err := os.Remove(aside); err != nil {
		t.Fatalf("remove while open: %v", err)
	}
	w.Close()
	r.Close()
	if _, err := os.Lstat(aside); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s after remove and close: %v; want it gone", aside, err)
	}
	// The name is free again: a new run may create it.
	f, err := fsutil.OpenFile(aside, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("create at the removed name: %v", err)
	}
	f.Close()
}

// TestWriteAtomicRenamesHeldTemp: WriteAtomic renames its temporary file
// into place while it holds it open and locked (so that CleanTemps leaves
// it alone), with replace and without (link, then remove).
func TestWriteAtomicRenamesHeldTemp(t *testing.T) {
	for _, replace := range []bool{true, false} {
		name := map[bool]string{true: "replace", false: "link"}[replace]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "run.json")
			if err := fsutil.WriteAtomic(path, 0o644, replace, func(w io.Writer) error {
				_, err := io.WriteString(w, "new")
				return err
			}); err != nil {
				t.Fatalf("WriteAtomic: %v", err)
			}
			if got, err := os.ReadFile(path); err != nil || string(got) != "new" {
				t.Errorf("%s holds %q, %v; want %q", path, got, err, "new")
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*"+fsutil.TempInfix+"*")); len(left) > 0 {
				t.Errorf("temporary files left: %q", left)
			}
		})
	}
}

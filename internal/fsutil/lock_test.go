package fsutil_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

// TestLocksExcludeLocksNotWrites: the locks that serialise journals and
// history files, through flock(2) on unix and LockFileEx on Windows, behave
// alike: shared locks go together, an exclusive one excludes them, and no
// lock keeps another handle (or its holder) from reading and writing the
// file, as Windows' byte-range locks would if they covered its data.
func TestLocksExcludeLocksNotWrites(t *testing.T) {
	if !fsutil.LocksWork {
		t.Skip("no file locks on this system")
	}
	path := filepath.Join(t.TempDir(), "j.journal")
	if err := os.WriteFile(path, []byte("first\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b, c := open(), open(), open()
	if err := fsutil.LockShared(a); err != nil {
		t.Fatalf("first shared lock: %v", err)
	}
	if err := fsutil.LockShared(b); err != nil {
		t.Fatalf("second shared lock: %v", err)
	}
	if ok, err := fsutil.TryLockExclusive(c); ok || err != nil {
		t.Fatalf("exclusive lock beside shared ones: %v, %v; want false, nil", ok, err)
	}
	for _, f := range []*os.File{a, b, c} {
		if _, err := f.WriteString("line\n"); err != nil {
			t.Fatalf("write while locked: %v", err)
		}
	}
	if _, err := os.ReadFile(path); err != nil {
		t.Fatalf("read while locked: %v", err)
	}
	for _, f := range []*os.File{a, b} {
		if err := fsutil.Unlock(f); err != nil {
			t.Fatalf("unlock: %v", err)
		}
	}
	if ok, err := fsutil.TryLockExclusive(c); !ok || err != nil {
		t.Fatalf("exclusive lock once the others let go: %v, %v; want true, nil", ok, err)
	}
	if err := fsutil.LockShared(a); err == nil {
		t.Fatal("shared lock beside an exclusive one: got it")
	}
	if _, err := c.WriteString("last\n"); err != nil {
		t.Fatalf("write under the exclusive lock: %v", err)
	}
	got, _ := os.ReadFile(path)
	if want := "first\n" + "line\nline\nline\n" + "last\n"; string(got) != want {
		t.Errorf("file holds %q, want %q", got, want)
	}
}

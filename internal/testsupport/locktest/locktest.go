// Package locktest holds a journal's lock in tests, as a live process
// writing it does.
package locktest

import (
	"os"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

// HoldShared holds a shared flock on path until the test ends.
func HoldShared(t testing.TB, path string) {
	t.Helper()
	f, err := fsutil.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := fsutil.LockShared(f); err != nil {
		t.Fatal(err)
	}
}

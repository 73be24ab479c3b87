//go:build !unix

package tracker

import (
	"os"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }

// heldByOther reports whether some process holds a lock on f (LockFileEx
// on Windows): every process writing a journal holds a shared one. Where
// there are no locks it trusts that the journal is live, as the exporter's
// recovery on these systems does (it never takes a journal on its own).
func heldByOther(f *os.File) bool {
	if !fsutil.LocksWork {
		return true
	}
	free, err := fsutil.TryLockExclusive(f)
	if free {
		_ = fsutil.Unlock(f)
		return false
	}
	return err == nil
}

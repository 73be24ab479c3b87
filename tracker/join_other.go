//go:build !unix

package tracker

import (
	"os"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

// openNonBlocking opens a journal for reading, with the share modes that
// let its owner rename or remove it meanwhile (fsutil.OpenFile).
func openNonBlocking(path string) (*os.File, error) { return fsutil.OpenFile(path, os.O_RDONLY, 0) }

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

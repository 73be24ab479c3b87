//go:build windows

package fsutil

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// LocksWork: LockFileEx decides who may recover a journal, as flock(2)
// does on unix. Windows drops a process's locks when it ends, so a lock
// held means a live writer.
const LocksWork = true

// Windows locks are mandatory byte-range locks: a locked range cannot be
// written through another handle, and a shared lock keeps even its holder
// from writing it. So the lock is taken on one byte far past any data a
// journal or history file will hold (locking past the end of a file is
// allowed), where it only excludes other locks, as flock(2) does.
const (
	lockOffsetLow  = 0xFFFFFFFE
	lockOffsetHigh = 0x7FFFFFFF
)

func lockFile(f *os.File, flags uint32) error {
	ol := windows.Overlapped{Offset: lockOffsetLow, OffsetHigh: lockOffsetHigh}
	return windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, &ol)
}

// LockShared takes a shared lock on f without waiting. Every process that
// writes a journal holds one while it may write. It fails when a recovery
// holds the journal.
func LockShared(f *os.File) error {
	return lockFile(f, windows.LOCKFILE_FAIL_IMMEDIATELY)
}

// LockSharedWait takes a shared lock on f, waiting while another holds it
// exclusively.
func LockSharedWait(f *os.File) error { return lockFile(f, 0) }

// TryLockExclusive takes an exclusive lock on f without waiting and reports
// whether it got it: false means a live process holds the file.
func TryLockExclusive(f *os.File) (bool, error) {
	err := lockFile(f, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return false, nil
	}
	return err == nil, err
}

// LockExclusiveWait takes an exclusive lock on f, waiting while others
// hold it. Released by Unlock or when f is closed.
func LockExclusiveWait(f *os.File) error { return lockFile(f, windows.LOCKFILE_EXCLUSIVE_LOCK) }

// Unlock drops this file's lock.
func Unlock(f *os.File) error {
	ol := windows.Overlapped{Offset: lockOffsetLow, OffsetHigh: lockOffsetHigh}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}

// NonBlock is 0: opening a named pipe does not block on Windows; the
// caller checks the file is regular.
const NonBlock = 0

// OpenNoFollow opens path, refusing a symlink at its end, with the share
// modes of OpenFile (others may rename or remove it while it is open).
// A symlink put there between the check and the open is opened itself,
// not followed (FILE_FLAG_OPEN_REPARSE_POINT): the caller, which checks
// that the file is regular, refuses it then.
func OpenNoFollow(path string, flag int) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, &os.PathError{Op: "open", Path: path, Err: errors.New("is a symbolic link")}
	}
	return openFile(path, flag, windows.FILE_FLAG_OPEN_REPARSE_POINT)
}

// lockAppend waits for an exclusive lock on a history file, so that
// appenders in several processes check its last byte and write their line
// one at a time. Released when f is closed.
func lockAppend(f *os.File) error { return LockExclusiveWait(f) }

//go:build unix

package fsutil

import (
	"errors"
	"os"
	"syscall"
)

// LocksWork: flock(2) decides who may recover a journal. The kernel drops a
// lock when its holder dies, so a lock held means a live writer, whatever
// its pid or host.
const LocksWork = true

// lockShared takes a shared lock on f without waiting. Every process that
// writes a journal holds one while it may write: the owner and each joined
// child. It fails when a recovery holds the journal.
func LockShared(f *os.File) error {
	return flock(f, syscall.LOCK_SH|syscall.LOCK_NB)
}

// LockSharedWait takes a shared lock on f, waiting while another holds it
// exclusively. For a file this process just created (O_EXCL): the only
// exclusive holder can be a recovery looking at it, which leaves an empty
// journal alone and lets go at once.
func LockSharedWait(f *os.File) error {
	return flock(f, syscall.LOCK_SH)
}

// TryLockExclusive takes an exclusive lock on f without waiting and reports
// whether it got it: false means a live process holds the file.
func TryLockExclusive(f *os.File) (bool, error) {
	err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// LockExclusiveWait takes an exclusive lock on f, waiting while others
// hold it. Released by Unlock or when f is closed.
func LockExclusiveWait(f *os.File) error { return flock(f, syscall.LOCK_EX) }

// Unlock drops this file's lock.
func Unlock(f *os.File) error { return flock(f, syscall.LOCK_UN) }

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// NonBlock is the open flag that keeps an open of a FIFO from blocking
// (O_NONBLOCK); the caller then checks the file is regular.
const NonBlock = syscall.O_NONBLOCK

// OpenNoFollow opens path for reading without following a symlink at its
// end and without blocking on a FIFO; the caller checks it is regular.
func OpenNoFollow(path string, flag int) (*os.File, error) {
	return os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// lockAppend waits for an exclusive lock on a history file, so that
// appenders in several processes check its last byte and write their line
// one at a time. Released when f is closed.
func lockAppend(f *os.File) error { return flock(f, syscall.LOCK_EX) }

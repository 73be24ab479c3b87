//go:build !unix && !windows

package fsutil

import "os"

// LocksWork is false where flock(2) is missing: nothing tells a live writer
// from a dead one, so automatic recovery (Recover) leaves every journal
// alone, and only RecoverJournal, which a person asks for, recovers one.
const LocksWork = false

func LockShared(*os.File) error { return nil }

func LockSharedWait(*os.File) error { return nil }

func LockExclusiveWait(*os.File) error { return nil }

func Unlock(*os.File) error { return nil }

func TryLockExclusive(*os.File) (bool, error) { return true, nil }

const NonBlock = 0

func OpenNoFollow(path string, flag int) (*os.File, error) { return os.OpenFile(path, flag, 0) }

func lockAppend(*os.File) error { return nil }

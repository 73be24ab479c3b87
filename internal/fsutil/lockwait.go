package fsutil

import (
	"context"
	"os"
	"time"
)

// LockExclusiveContext takes an exclusive lock on f, waiting while others
// hold it, until ctx is done; it reports whether it got the lock. flock(2)
// cannot be given a deadline, so it retries a non-blocking lock, at most
// every 50 ms.
func LockExclusiveContext(ctx context.Context, f *os.File) (bool, error) {
	delay := time.Millisecond
	for {
		ok, err := TryLockExclusive(f)
		if ok || err != nil {
			return ok, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, nil
		case <-t.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

//go:build !linux

package fsutil

import (
	"errors"
	"os"
)

// SyncFS makes durable the files at paths, written to dir without their
// syncs (WriteAtomicSync), and dir's entries: where there is no
// syncfs(2), a sync of each.
func SyncFS(dir string, paths []string) error {
	var errs []error
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, f.Sync(), f.Close())
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // some systems refuse to sync a directory
		d.Close()
	}
	return errors.Join(errs...)
}

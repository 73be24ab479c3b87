package fsutil

import (
	"os"

	"golang.org/x/sys/unix"
)

// SyncFS makes durable what was written to the file system that holds dir
// (syncfs(2)): one call for a batch of files written without their syncs
// (WriteAtomicSync). paths are not used here.
func SyncFS(dir string, _ []string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: dir, Err: err}
	}
	return nil
}

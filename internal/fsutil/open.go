//go:build !windows

package fsutil

import "os"

// OpenFile is os.OpenFile, for the files that another handle, this
// process's or another's, may rename or remove while this one is open:
// journals, the Collector store's segments, spool files, the temporary
// files of WriteAtomic. Here that is what os.OpenFile allows; on Windows,
// where os.OpenFile leaves out FILE_SHARE_DELETE, it opens the file with
// every share mode.
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}

//go:build !windows

package fsutil

import (
	"os"
	"syscall"
)

// OpenFile is os.OpenFile, for the files that another handle, this
// process's or another's, may rename or remove while this one is open:
// journals, the Collector store's segments, spool files, the temporary
// files of WriteAtomic. Here that is what os.OpenFile allows; on Windows,
// where os.OpenFile leaves out FILE_SHARE_DELETE, it opens the file with
// every share mode.
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}

// createTemp creates name, which must not exist, for WriteAtomicSync: a
// regular file written once with plain writes, so it is opened without
// the runtime's poller, whose registration os.OpenFile tries and undoes
// on every regular file (five system calls of the Collector's hot path).
func createTemp(name string) (*os.File, error) {
	for {
		fd, err := syscall.Open(name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o600)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}

// renameFile moves the regular file oldpath to newpath, replacing what is
// there, a symlink itself; a directory there makes it fail. It is
// rename(2) without the Lstat of newpath that os.Rename adds to refuse a
// directory, which the kernel refuses for a file anyway.
func renameFile(oldpath, newpath string) error {
	for {
		err := syscall.Rename(oldpath, newpath)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
		}
		return nil
	}
}

//go:build windows

package fsutil

import (
	"os"

	"golang.org/x/sys/windows"
)

// OpenFile is os.OpenFile, for the files that another handle, this
// process's or another's, may rename or remove while this one is open:
// journals, the Collector store's segments, spool files, the temporary
// files of WriteAtomic. os.OpenFile opens files without FILE_SHARE_DELETE,
// so that a rename or remove of an open file fails; OpenFile opens them
// with FILE_SHARE_READ|FILE_SHARE_WRITE|FILE_SHARE_DELETE.
//
// flag maps as os.OpenFile maps it: the access mode; O_APPEND writes only
// at the end (FILE_APPEND_DATA without FILE_WRITE_DATA, unless O_TRUNC
// asks for that too); O_CREATE, O_EXCL and O_TRUNC choose the
// disposition; O_SYNC writes through. Other bits (O_NONBLOCK) do nothing,
// as there. The handle is not inherited by child processes. perm is not
// used: Windows has no mode bits, and a file is created writable.
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	return openFile(name, flag, 0)
}

// openFile is OpenFile with more CreateFile flags (attrs).
func openFile(name string, flag int, attrs uint32) (*os.File, error) {
	if name == "" {
		return nil, &os.PathError{Op: "open", Path: name, Err: windows.ERROR_FILE_NOT_FOUND}
	}
	namep, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	var access uint32
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_RDONLY:
		access = windows.GENERIC_READ
		// Opening a directory for reading needs this, as in os.OpenFile;
		// the callers check that what they opened is a regular file.
		attrs |= windows.FILE_FLAG_BACKUP_SEMANTICS
	case os.O_WRONLY:
		access = windows.GENERIC_WRITE
	case os.O_RDWR:
		access = windows.GENERIC_READ | windows.GENERIC_WRITE
	}
	if flag&os.O_CREATE != 0 {
		access |= windows.GENERIC_WRITE
	}
	if flag&os.O_APPEND != 0 {
		// GENERIC_WRITE holds FILE_WRITE_DATA, which would let writes land
		// anywhere; without it every write goes to the end. Truncating
		// needs it, though.
		if flag&os.O_TRUNC == 0 {
			access &^= windows.GENERIC_WRITE
		}
		access |= windows.FILE_APPEND_DATA | windows.FILE_WRITE_ATTRIBUTES | windows.FILE_WRITE_EA |
			windows.STANDARD_RIGHTS_WRITE | windows.SYNCHRONIZE
	}
	if flag&os.O_SYNC != 0 {
		attrs |= windows.FILE_FLAG_WRITE_THROUGH
	}
	var disposition uint32
	switch {
	case flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL:
		disposition = windows.CREATE_NEW
		attrs |= windows.FILE_FLAG_OPEN_REPARSE_POINT // a symlink there is not followed
	case flag&(os.O_CREATE|os.O_TRUNC) == os.O_CREATE|os.O_TRUNC:
		disposition = windows.CREATE_ALWAYS
	case flag&os.O_CREATE == os.O_CREATE:
		disposition = windows.OPEN_ALWAYS
	case flag&os.O_TRUNC == os.O_TRUNC:
		disposition = windows.TRUNCATE_EXISTING
	default:
		disposition = windows.OPEN_EXISTING
	}
	const share = windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE
	h, err := windows.CreateFile(namep, access, share, nil, disposition, windows.FILE_ATTRIBUTE_NORMAL|attrs, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(h), name), nil
}

// createTemp creates name, which must not exist, for WriteAtomicSync.
func createTemp(name string) (*os.File, error) {
	return OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

// renameFile moves the file oldpath to newpath, replacing what is there.
func renameFile(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

//go:build unix

package provenance

import (
	"io/fs"
	"strconv"
	"syscall"
)

// inode is the device and inode of the file fi describes: a file replaced
// by another of the same size and time is a new cache entry.
func inode(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return strconv.FormatUint(uint64(st.Dev), 10) + ":" + strconv.FormatUint(uint64(st.Ino), 10)
	}
	return ""
}

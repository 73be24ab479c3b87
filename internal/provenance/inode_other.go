//go:build !unix

package provenance

import "io/fs"

// inode is "" where the system gives no inode: the cache is keyed by path,
// size and modification time alone.
func inode(fs.FileInfo) string { return "" }

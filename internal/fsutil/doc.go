// Package fsutil holds the file-system primitives the library packages
// share: whole-or-absent writes (WriteAtomic), single-write appends of
// JSON Lines (AppendLine), the flock(2) locks that tell a live writer of a
// journal from a dead one, and opens that let other handles rename or
// remove a file while it is open, on Windows too (OpenFile).
//
// Everything here is safe for concurrent use, by goroutines and processes.
package fsutil

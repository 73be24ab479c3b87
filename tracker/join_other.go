//go:build !unix

package tracker

import "os"

func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }

// heldByOther cannot tell without flock: it trusts that the journal is
// live, as the exporter's recovery on these systems does (it never takes a
// journal on its own).
func heldByOther(*os.File) bool { return true }

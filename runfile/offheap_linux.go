//go:build linux

package runfile

import (
	"os"
	"syscall"
)

var pageSize = os.Getpagesize()

// mapAnon maps n bytes of private anonymous memory, outside the Go heap.
func mapAnon(n int) ([]byte, bool) {
	m, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	return m, err == nil
}

// unmapAnon unmaps m, which mapAnon returned.
func unmapAnon(m []byte) { _ = syscall.Munmap(m) }

// releasePages gives the pages of p back to the system; reading them
// again would give zeros.
func releasePages(p []byte) { _ = syscall.Madvise(p, syscall.MADV_DONTNEED) }

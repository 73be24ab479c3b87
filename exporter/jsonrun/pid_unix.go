//go:build unix

package jsonrun

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with this pid exists. A process
// we may not signal (EPERM) exists too.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

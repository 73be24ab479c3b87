//go:build unix

package benchcpu

import (
	"syscall"
	"time"
)

const supported = true

// processTime returns the CPU time the process has used so far, every
// thread and the garbage collector's included.
func processTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// childrenTime returns the CPU time of the child processes that have
// ended and been waited for.
func childrenTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

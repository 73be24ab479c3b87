//go:build unix

package tracker_test

import (
	"syscall"
	"testing"
	"time"
)

// childCPU measures the CPU time of a benchmark's loop, this process's
// and that of the commands it ran and waited for.
type childCPU struct{ self, children time.Duration }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(who, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() childCPU {
	return childCPU{self: rusage(syscall.RUSAGE_SELF), children: rusage(syscall.RUSAGE_CHILDREN)}
}

func (c childCPU) report(b *testing.B) {
	if b.N == 0 {
		return
	}
	b.ReportMetric(float64(rusage(syscall.RUSAGE_SELF)-c.self)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(rusage(syscall.RUSAGE_CHILDREN)-c.children)/float64(b.N), "child-cpu-ns/op")
}

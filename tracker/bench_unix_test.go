//go:build unix

package tracker_test

import (
	"syscall"
	"testing"
	"time"
)

// perfCPUTime returns the CPU time the process has used so far, every
// thread and the garbage collector's included.
func perfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perfCPU measures the CPU time of a benchmark's loop. On a shared machine
// it is steadier than the wall time, which also counts the time other
// processes had the CPU.
type perfCPU struct {
	start    time.Duration
	excluded time.Duration
}

func perfStartCPU() *perfCPU { return &perfCPU{start: perfCPUTime()} }

// exclude runs fn and leaves the CPU time it takes out of the measure, as
// b.StopTimer does for the wall time.
func (c *perfCPU) exclude(fn func()) {
	t := perfCPUTime()
	fn()
	c.excluded += perfCPUTime() - t
}

// report adds the CPU time per operation, cpu-ns/op, to b's results.
func (c *perfCPU) report(b *testing.B) {
	if b.N == 0 {
		return
	}
	used := perfCPUTime() - c.start - c.excluded
	b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
}

// Package benchcpu measures the CPU time of a benchmark's loop, reported
// as cpu-ns/op beside Go's wall-time ns/op. On a shared machine it is
// steadier than the wall time, which also counts the time other processes
// had the CPU. Where the process's CPU time cannot be read, it reports
// nothing and the benchmarks show the wall time only.
package benchcpu

import (
	"testing"
	"time"
)

// CPU measures the CPU time of one benchmark's loop. It is not safe for
// concurrent use.
type CPU struct {
	start    time.Duration
	excluded time.Duration
	children time.Duration // with StartWithChildren: the children's CPU time at the start; else -1
}

// Start starts measuring.
func Start() *CPU { return &CPU{start: processTime(), children: -1} }

// StartWithChildren starts measuring, and also measures the CPU time of
// the child processes the loop runs and waits for (git, say), reported as
// child-cpu-ns/op.
func StartWithChildren() *CPU { return &CPU{start: processTime(), children: childrenTime()} }

// Exclude runs fn and leaves the CPU time it takes out of the measure, as
// b.StopTimer does for the wall time.
func (c *CPU) Exclude(fn func()) {
	t := processTime()
	fn()
	c.excluded += processTime() - t
}

// Report adds the CPU time per operation, cpu-ns/op, to b's results.
func (c *CPU) Report(b *testing.B) {
	if b.N == 0 || !supported {
		return
	}
	used := processTime() - c.start - c.excluded
	b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
	if c.children >= 0 {
		b.ReportMetric(float64(childrenTime()-c.children)/float64(b.N), "child-cpu-ns/op")
	}
}

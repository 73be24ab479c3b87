//go:build !unix

package jsonrun_test

import "testing"

// perfCPU measures nothing where getrusage is not available: the
// benchmarks report the wall time only. bench_unix_test.go has the real
// one.
type perfCPU struct{}

func perfStartCPU() *perfCPU           { return &perfCPU{} }
func (c *perfCPU) exclude(fn func())   { fn() }
func (c *perfCPU) report(b *testing.B) {}

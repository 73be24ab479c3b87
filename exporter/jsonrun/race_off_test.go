//go:build !race

package jsonrun_test

// finishBoundLimit is TestFinalizePeakBounded's limit: issue 12's target.
// race_on_test.go explains the other value.
const finishBoundLimit = 1.5

package tracker_test

import "os"

// stress reports whether the heavy variants of the stress tests run:
// STAGE_TRACKER_STRESS=1 (.ci/run sets it in its stress step). Without it
// they run scaled down, asserting the same things, so that the README's
// go test -race ./... stays under three minutes on a 2-core machine.
func stress() bool { return os.Getenv("STAGE_TRACKER_STRESS") == "1" }

// stressSize returns full under STAGE_TRACKER_STRESS=1, else small.
func stressSize(small, full int) int {
	if stress() {
		return full
	}
	return small
}

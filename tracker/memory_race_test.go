//go:build race

package tracker_test

// perfFinishedRuns is how many runs TestHeapAfterManyFinishedRuns finishes.
// The race detector makes each run about 3.5 times slower (100,000 runs
// took 64 s instead of 18 s on the project's 2-core machine), so under
// -race the check finishes 20,000 runs: a leak of 53 bytes per run or more
// still exceeds its 1 MiB bound. Without -race it finishes 100,000.
const perfFinishedRuns = 20_000

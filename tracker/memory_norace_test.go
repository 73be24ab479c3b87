//go:build !race

package tracker_test

// perfFinishedRuns is how many runs TestHeapAfterManyFinishedRuns finishes:
// 100,000, so a leak of 11 bytes per run or more exceeds its 1 MiB bound.
// memory_race_test.go says why -race runs fewer.
const perfFinishedRuns = 100_000

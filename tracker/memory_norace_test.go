//go:build !race

package tracker_test

// How many runs TestHeapAfterManyFinishedRuns finishes: 100,000 without the
// journal, so a leak of 11 bytes per run or more exceeds its 1 MiB bound;
// 10,000 with it (105 bytes per run), whose file operations make each run
// about 3.5 times slower. memory_race_test.go says why -race runs fewer.
const (
	perfFinishedRuns        = 100_000
	perfFinishedRunsJournal = 10_000
)

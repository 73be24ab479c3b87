//go:build !race

package tracker_test

// How many runs TestHeapAfterManyFinishedRuns finishes: 100,000 without the
// journal, so a leak of 11 bytes per run or more exceeds its 1 MiB bound
// (11 s on the project's 2-core machine when quiet, 18 to 40 s when busy);
// 10,000 with it (105 bytes per run), whose file operations make each run
// 1.5 to 3.5 times slower. memory_race_test.go says why -race runs fewer.
const (
	perfFinishedRuns        = 100_000
	perfFinishedRunsJournal = 10_000
)

//go:build race

package tracker_test

// How many runs TestHeapAfterManyFinishedRuns finishes. The race detector
// makes each run about 3 times slower (without the journal: 327 µs a run
// instead of 108 µs on the project's 2-core machine when quiet, 1.3 ms
// when busy: 100,000 runs would take 33 s to 2 min), so under
// -race the check finishes fewer, to keep .ci/run's go test -race short:
// 10,000 without the journal and 2,000 with it, where a leak of 105 and 525
// bytes per run still exceeds its 1 MiB bound. memory_norace_test.go has
// the full counts.
const (
	perfFinishedRuns        = 10_000
	perfFinishedRunsJournal = 2_000
)

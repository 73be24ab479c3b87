package runstats_test

import (
	"fmt"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runstats"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
)

func ExampleAggregator() {
	var a runstats.Aggregator
	for i := range 100 {
		a.Add(runfixture.Synthetic(i))
	}
	s := a.Summary()
	fmt.Printf("%d runs, %.0f%% failed\n", s.Runs, 100*s.Run.FailureRate)
	for _, row := range s.Stages {
		fmt.Printf("%-12s count %3d  failed %2d  p50 %.2fs  p95 %.2fs\n", row.Path, row.Count, row.Failures, row.P50Sec, row.P95Sec)
	}
	// Output:
	// 100 runs, 12% failed
	// fetch        count 100  failed  0  p50 0.88s  p95 1.16s
	// parse        count 100  failed  0  p50 0.31s  p95 0.38s
	// train        count 100  failed  0  p50 5.97s  p95 6.67s
	// train/epoch  count 300  failed  0  p50 2.01s  p95 2.35s
	// evaluate     count 100  failed 10  p50 0.39s  p95 0.54s
	// upload       count 100  failed  4  p50 0.14s  p95 0.27s
}

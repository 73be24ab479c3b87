package cli

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runstats"
)

// TestWriteSummaryJSONIsMarshalIndent: stats --json writes its summary a
// stage at a time (issue 23: peak memory on a large run); the bytes are
// json.MarshalIndent's.
func TestWriteSummaryJSONIsMarshalIndent(t *testing.T) {
	row := func(path string, data ...runstats.Metric) runstats.Row {
		return runstats.Row{Path: path, Depth: 1, Count: 3, Timed: 2, Runs: 2, Failures: 1,
			FailureRate: 1.0 / 3, P50Sec: 0.1, P95Sec: 1e-7, MaxSec: 12345678.9, Data: data}
	}
	cases := []struct {
		name string
		s    runstats.Summary
	}{
		{"no stages", runstats.Summary{Runs: 1, Run: row(""), Stages: []runstats.Row{}}},
		{"nil stages", runstats.Summary{}},
		{"one stage", runstats.Summary{Runs: 2, Run: row(""), Stages: []runstats.Row{row("train")}}},
		{"stages with data and markup", runstats.Summary{Runs: 3, Run: row(""), Stages: []runstats.Row{
			row("<b>&"),
			row("train/epoch", runstats.Metric{Key: "loss", Count: 2, Mean: 0.5, Min: -1, P50: math.SmallestNonzeroFloat64, Max: 1e21, Last: 3}),
			row("ünïcode\u2028", runstats.Metric{Key: "a.b"}, runstats.Metric{Key: "c"}),
		}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := json.MarshalIndent(c.s, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			var got strings.Builder
			if err := writeSummaryJSON(&got, c.s); err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got.String(), want)
			}
		})
	}
}

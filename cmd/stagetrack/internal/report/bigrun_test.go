package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/report"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// bigRun is a run of n top-level stages, stage i lasting i+1 ms, one after
// the other; stage 7 has a nested stage of 1 µs.
func bigRun(n int) *runfile.Run {
	start := time.Date(2025, 5, 5, 12, 0, 0, 0, time.UTC)
	r := &runfile.Run{RunID: "3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f", StartTime: start, Status: runfile.StatusOK, SchemaVersion: 2}
	at := start
	for i := range n {
		d := time.Duration(i+1) * time.Millisecond
		key := fmt.Sprintf("s%05d", i)
		st := runfile.Stage{Key: key, Name: key, Attempt: 1, StartTime: at, EndTime: at.Add(d), DurationSec: d.Seconds(),
			Status: runfile.StageOK, Data: json.RawMessage(`{"v":1}`)}
		if i == 7 {
			st.Stages = runfile.Stages{{Key: "inner", Name: "inner", Attempt: 1, StartTime: at, EndTime: at.Add(time.Microsecond),
				DurationSec: 1e-6, Status: runfile.StageOK}}
		}
		r.Stages = append(r.Stages, st)
		at = at.Add(d)
	}
	r.CompletedAt, r.TotalDurationSec = at, at.Sub(start).Seconds()
	return r
}

// TestBigRunChartsTheLongestStages: a run of more stages than a chart
// draws (issue 23: the report of a 100,000-stage run was a 150 MB page of
// 100,000 bars and 300,000 table rows, 19× the file in memory) draws the
// 1,000 longest and says how many it leaves out; the summary's tables
// list 1,000 rows and count the rest. A run within the bounds is drawn
// whole, as before.
func TestBigRunChartsTheLongestStages(t *testing.T) {
	cases := []struct {
		name           string
		stages         int
		bars           int
		notes          []string
		drawn, omitted []string
	}{
		{"within the bound", 999, 1000, nil, []string{`data-key="s00000"`, `data-key="s00007/inner"`}, nil},
		{"past the bound", 1500, 1000,
			[]string{"… and 501 more stages, not drawn: the chart draws the 1000 longest", "and 501 more stages, not listed", "and 501 more, not listed"},
			[]string{`data-key="s01499"`, `data-key="s00500"`}, []string{`data-key="s00499"`, `data-key="s00007/inner"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Write(&b, []report.Input{{File: "big.json", Run: bigRun(c.stages)}}, report.Options{}); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			if got := strings.Count(page, `<g class="stage"`); got != c.bars {
				t.Errorf("%d bars drawn; want %d", got, c.bars)
			}
			if got := strings.Count(page, "more stages, not drawn"); (got > 0) != (len(c.notes) > 0) {
				t.Errorf("the line on stages not drawn appears %d times", got)
			}
			for _, s := range c.notes {
				if !strings.Contains(page, s) {
					t.Errorf("the page does not say %q", s)
				}
			}
			for _, s := range c.drawn {
				if !strings.Contains(page, s) {
					t.Errorf("%s is not drawn", s)
				}
			}
			for _, s := range c.omitted {
				if strings.Contains(page, s) {
					t.Errorf("%s is drawn; it is among the shortest", s)
				}
			}
		})
	}
}

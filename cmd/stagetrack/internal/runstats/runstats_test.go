package runstats_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runstats"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

var t0 = time.Date(2025, 5, 5, 0, 0, 0, 0, time.UTC)

// stage makes a stage starting at offset from t0 lasting d.
func stage(key, name, status string, offset, d time.Duration, children ...runfile.Stage) runfile.Stage {
	return runfile.Stage{
		Key: key, Name: name, Status: status,
		StartTime: t0.Add(offset), EndTime: t0.Add(offset + d), DurationSec: d.Seconds(),
		Stages: children,
	}
}

func TestPercentiles(t *testing.T) {
	cases := []struct {
		name          string
		durations     []time.Duration
		p50, p95, max time.Duration
	}{
		{"one", []time.Duration{3 * time.Second}, 3 * time.Second, 3 * time.Second, 3 * time.Second},
		{"two", []time.Duration{1 * time.Second, 2 * time.Second}, 1 * time.Second, 2 * time.Second, 2 * time.Second},
		{"twenty", func() (ds []time.Duration) {
			for i := 1; i <= 20; i++ {
				ds = append(ds, time.Duration(i)*time.Second)
			}
			return ds
		}(), 10 * time.Second, 19 * time.Second, 20 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a runstats.Aggregator
			for _, d := range c.durations {
				a.Add(&runfile.Run{RunID: "r", Status: "ok", StartTime: t0, CompletedAt: t0.Add(d), TotalDurationSec: d.Seconds(),
					Stages: runfile.Stages{stage("s", "s", "ok", 0, d)}})
			}
			row := a.Summary().Stages[0]
			got := []float64{row.P50Sec, row.P95Sec, row.MaxSec}
			want := []float64{c.p50.Seconds(), c.p95.Seconds(), c.max.Seconds()}
			if got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
				t.Errorf("p50/p95/max = %v, want %v", got, want)
			}
		})
	}
}

func TestSummaryGroupsAndOrders(t *testing.T) {
	r1 := &runfile.Run{RunID: "1", Status: "ok", StartTime: t0, Stages: runfile.Stages{
		stage("late", "late", "ok", 5*time.Second, time.Second),
		stage("train", "train", "ok", time.Second, 3*time.Second,
			stage("epoch", "epoch", "ok", time.Second, time.Second),
			stage("epoch#2", "epoch", "error", 2*time.Second, time.Second),
		),
		stage("early", "early", "unfinished", 0, time.Second),
	}}
	r2 := &runfile.Run{RunID: "2", Status: "failed", StartTime: t0, Stages: runfile.Stages{
		stage("early", "early", "ok", 0, 2*time.Second),
	}}
	var a runstats.Aggregator
	a.Add(r1)
	a.Add(r2)
	s := a.Summary()
	var got []string
	for _, row := range s.Stages {
		b, _ := json.Marshal([]any{row.Path, row.Depth, row.Count, row.Runs, row.Failures})
		got = append(got, string(b))
	}
	want := []string{
		`["early",0,2,2,1]`,
		`["train",0,1,1,0]`,
		`["train/epoch",1,2,1,1]`,
		`["late",0,1,1,0]`,
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("rows\n got %v\nwant %v", got, want)
	}
	if s.Runs != 2 || s.Run.Failures != 1 || s.Run.FailureRate != 0.5 {
		t.Errorf("run row %+v", s.Run)
	}
}

// TestMerge: aggregating in parts and merging gives what one aggregator
// gives, which is what lets stats read files in parallel.
func TestMerge(t *testing.T) {
	var whole, parts runstats.Aggregator
	var part [3]runstats.Aggregator
	for i := range 90 {
		r := runfixture.Synthetic(i)
		whole.Add(r)
		part[i%3].Add(r)
	}
	for i := range part {
		parts.Merge(&part[i])
	}
	a, _ := json.Marshal(whole.Summary())
	b, _ := json.Marshal(parts.Summary())
	if string(a) != string(b) {
		t.Errorf("merged summary differs\n--- whole\n%s\n--- merged\n%s", a, b)
	}
}

func TestEmpty(t *testing.T) {
	var a runstats.Aggregator
	s := a.Summary()
	if s.Runs != 0 || len(s.Stages) != 0 || s.Stages == nil {
		t.Errorf("empty summary %+v, want no runs and an empty (not null) stage list", s)
	}
}

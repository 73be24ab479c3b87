package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/report"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// metricRuns returns n runs an hour apart whose evaluate stage recorded
// an accuracy of 0.80, 0.81, …, and whose args differ in seed.
func metricRuns(n int) []report.Input {
	t0 := time.Date(2025, 5, 5, 10, 0, 0, 0, time.UTC)
	var in []report.Input
	for i := range n {
		start := t0.Add(time.Duration(i) * time.Hour)
		r := &runfile.Run{
			RunID: fmt.Sprintf("%08x-0000-4000-8000-000000000000", 0xd0000000+i), Name: "exp", Status: runfile.StatusOK,
			StartTime: start, CompletedAt: start.Add(2 * time.Second), TotalDurationSec: 2, SchemaVersion: 2,
			Args: json.RawMessage(fmt.Sprintf(`{"seed":%d,"opt":{"lr":0.1}}`, i)),
			Stages: runfile.Stages{
				{Key: "train", Name: "train", Attempt: 1, StartTime: start, EndTime: start.Add(time.Second), DurationSec: 1,
					Status: runfile.StageOK, Data: json.RawMessage(`{"epochs":3,"note":"text"}`)},
				{Key: "evaluate", Name: "evaluate", Attempt: 1, StartTime: start.Add(time.Second), EndTime: start.Add(2 * time.Second), DurationSec: 1,
					Status: runfile.StageOK, Data: json.RawMessage(fmt.Sprintf(`{"accuracy":%.2f}`, 0.80+float64(i)/100))},
			},
		}
		in = append(in, report.Input{File: r.RunID + ".json", Run: r})
	}
	return in
}

// TestWriteDataChartsAndTables: the report charts each number the stages
// recorded over the runs, summarises it, and shows each drawn run's
// parameters and data as tables, not only on hover; older runs list their
// parameters (on main it charted durations only and showed data on hover).
func TestWriteDataChartsAndTables(t *testing.T) {
	html := write(t, metricRuns(12), report.Options{Charts: 3})
	for _, want := range []string{
		`<h3>Data over time</h3>`,
		`<figure class="datachart" data-stage="evaluate" data-key="accuracy"`,
		`· accuracy · last 0.91 · 12 runs</span>`,
		`<figure class="datachart" data-stage="train" data-key="epochs"`,
		// the summary's data table
		`<tr><td>evaluate</td><td class="mono">accuracy</td><td>12</td><td>0.855</td><td>0.8</td><td>0.85</td><td>0.91</td><td>0.91</td></tr>`,
		// the newest run's tables
		`<tr><td class="mono">seed</td><td class="v">11</td></tr>`,
		`<tr><td class="mono">opt.lr</td><td class="v">0.1</td></tr>`,
		`<tr><td class="mono">evaluate</td><td class="mono">accuracy</td><td class="v">0.91</td></tr>`,
		`<tr><td class="mono">train</td><td class="mono">note</td><td class="v">text</td></tr>`,
		// an older run's parameters in the list
		`<td class="params mono">seed=0 opt.lr=0.1</td>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %s", want)
		}
	}
	if strings.Contains(html, `data-key="note"`) {
		t.Error("a string is charted")
	}
	// One point per run on the accuracy line.
	_, rest, _ := strings.Cut(html, `data-key="accuracy"`)
	_, rest, _ = strings.Cut(rest, `<polyline points="`)
	pts, _, _ := strings.Cut(rest, `"`)
	if n := len(strings.Fields(pts)); n != 12 {
		t.Errorf("the accuracy line has %d points, want 12", n)
	}
}

// TestWriteDataHostile: data keys and values, parameter keys and values
// that hold markup are escaped wherever the new tables and charts show
// them.
func TestWriteDataHostile(t *testing.T) {
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	q, _ := json.Marshal(evil)
	in := metricRuns(3)
	for _, x := range in {
		x.Run.Args = json.RawMessage(fmt.Sprintf(`{%s:%s}`, q, q))
		x.Run.Stages[1].Key, x.Run.Stages[1].Name = evil, evil
		x.Run.Stages[1].Data = json.RawMessage(fmt.Sprintf(`{%s:1.5,"s":%s}`, q, q))
	}
	var b bytes.Buffer
	if err := report.Write(&b, in, report.Options{Charts: 1}); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<script>alert", "<img"} {
		if strings.Contains(html, bad) {
			t.Errorf("report contains %q unescaped", bad)
		}
	}
	if !strings.Contains(html, `data-key="&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"`) {
		t.Error("the hostile data key is not charted, escaped")
	}
}

// TestReportHoldsOnlyTheDrawnRuns: a Report given runs one at a time lets
// go of every run it does not draw, so memory does not grow with the runs'
// size (on main the report held every run: 281 MiB for 10,000 runs).
func TestReportHoldsOnlyTheDrawnRuns(t *testing.T) {
	const n, charts = 200, 5
	rp := report.New(report.Options{Charts: charts})
	var freed atomic.Int64
	for i := range n {
		r := runfixture.Synthetic(i)
		runtime.AddCleanup(r, func(f *atomic.Int64) { f.Add(1) }, &freed)
		rp.Add(report.Input{File: r.RunID + ".json", Run: r})
	}
	for range 50 {
		if freed.Load() >= n-charts {
			break
		}
		runtime.GC()
		runtime.Gosched()
	}
	if got := freed.Load(); got < n-charts {
		t.Errorf("%d of %d runs were let go; want all but the %d drawn", got, n, charts)
	}
	var b bytes.Buffer
	if err := rp.Write(&b); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(b.String(), `<section class="run"`); got != charts {
		t.Errorf("%d runs drawn, want %d", got, charts)
	}
	runtime.KeepAlive(rp)
}

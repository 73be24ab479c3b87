package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// maxFailures bounds the "newest failures" list; the rest are counted.
const maxFailures = 10

// maxTableRows bounds the summary's tables of stages and of data, as
// maxBars bounds a chart: a run of 100,000 distinct stages made tables of
// 300,000 rows, most of the page. The rest are counted under the table;
// stagetrack stats lists every one.
const maxTableRows = 1000

// summary is the top of the page: what a reader of many runs wants first.
type summary struct {
	Runs        int
	Passed      int
	Failed      int
	Other       []statusCount // incomplete, interrupted, ...: neither passed nor failed
	First, Last when
	RunP50      string
	RunP95      string
	Stages      []stageStat
	Trend       *trend
	DataCharts  []dataChart // the numbers stages recorded, over the runs
	Metrics     []metricRow // and their summary, per stage and key
	// MoreStages and MoreMetrics count the rows past maxTableRows that
	// the two tables leave out.
	MoreStages, MoreMetrics int
	Failures                []failure // newest first
	MoreFailures            int
}

// metricRow is a row of the summary's data table.
type metricRow struct {
	Stage, Key                string
	Count                     int
	Mean, Min, P50, Max, Last string
}

type statusCount struct {
	Status, Cls string
	N           int
}

type stageStat struct {
	Path         string
	Depth        int
	Count        int
	Failures     int
	P50, P95     string
	FailureShare string
	Flaky        int
	FlakyShare   string
}

type failure struct {
	Anchor  string
	Name    string
	RunID   string
	Started when
	Reason  string
	Stage   string // key path of the stage that decided the run, "" if none
	Tail    string // that stage's stderr tail, "" if it recorded none
}

// item is one run kept whole, with what the page needs of it more than
// once.
type item struct {
	in     Input
	rows   []runtree.Row
	status string
	anchor string
	dur    time.Duration
	info   *runInfo
}

// summary builds the top of the page from every run, newest first.
func (rp *Report) summary(runs []*runInfo) summary {
	s := summary{Runs: len(runs)}
	other := map[string]int{}
	var order []string
	for _, it := range runs {
		switch it.status {
		case runfile.StatusOK:
			s.Passed++
		case runfile.StatusFailed, runfile.StatusCrashed:
			s.Failed++
		default:
			if other[it.status] == 0 {
				order = append(order, it.status)
			}
			other[it.status]++
		}
	}
	for _, r := range rp.fails {
		f := *r.fail
		f.Anchor = r.anchor
		s.Failures = append(s.Failures, f)
	}
	s.MoreFailures = rp.nFail - len(s.Failures)
	for _, st := range order {
		s.Other = append(s.Other, statusCount{Status: st, Cls: statusClass(st), N: other[st]})
	}
	if len(runs) > 0 {
		s.Last, s.First = newWhen(runs[0].start), newWhen(runs[len(runs)-1].start)
	}
	sum := rp.agg.Summary()
	s.RunP50, s.RunP95 = view.Duration(secs(sum.Run.P50Sec)), view.Duration(secs(sum.Run.P95Sec))
	for _, r := range sum.Stages {
		if len(s.Stages) == maxTableRows {
			s.MoreStages++
			s.MoreMetrics += len(r.Data)
			continue
		}
		s.Stages = append(s.Stages, stageStat{
			Path: lastElem(r.Path), Depth: r.Depth, Count: r.Count, Failures: r.Failures,
			P50: view.Duration(secs(r.P50Sec)), P95: view.Duration(secs(r.P95Sec)),
			FailureShare: strconv.FormatFloat(100*r.FailureRate, 'f', 1, 64) + "%",
			Flaky:        r.Flaky, FlakyShare: strconv.FormatFloat(100*r.FlakeRate, 'f', 1, 64) + "%",
		})
		for _, m := range r.Data {
			if len(s.Metrics) == maxTableRows {
				s.MoreMetrics++
				continue
			}
			s.Metrics = append(s.Metrics, metricRow{Stage: r.Path, Key: m.Key, Count: m.Count,
				Mean: view.Number(m.Mean), Min: view.Number(m.Min), P50: view.Number(m.P50), Max: view.Number(m.Max), Last: view.Number(m.Last)})
		}
	}
	ax := newXAxis(runs)
	s.Trend = rp.newTrend(runs, ax, sum.Stages)
	s.DataCharts = rp.newDataCharts(runs, ax)
	return s
}

// newFailure is run it's entry in the newest failures: why it failed,
// naming the stage that decided it, and that stage's stderr tail.
func newFailure(it item) failure {
	r := it.in.Run
	f := failure{Name: runName(r.Name, r.RunID), RunID: runtree.ShortID(r.RunID), Started: newWhen(r.StartTime), Reason: reason(it)}
	path, st := decidingStage(r.Stages)
	if st == nil {
		return f
	}
	f.Stage, f.Tail = path, StderrTail(st.Data)
	if !strings.HasPrefix(r.Error, "stage ") && r.Status != runfile.StatusInterrupted {
		// A run file that says only what its command exited with
		// ("exit status 1", as files written before run named the stage
		// do): name the stage, as the run's error does today.
		why := st.Error
		if why == "" {
			why = runtree.Status(st)
		}
		f.Reason = firstLine(fmt.Sprintf("stage %q failed: %s", path, why))
	}
	return f
}

// decidingStage returns the stage that failed the run by the status rule
// (internal/runstatus), and its path: the earliest-started stage that did
// not end ok and is, like every stage it is nested in, the last attempt of
// its name (keyed by the plain name, see internal/stagekey). nil when no
// stage fails the run.
func decidingStage(stages runfile.Stages) (string, *runfile.Stage) {
	var (
		best     *runfile.Stage
		bestPath string
	)
	var walk func(s runfile.Stages, prefix string)
	walk = func(s runfile.Stages, prefix string) {
		for i := range s {
			st := &s[i]
			if st.Name != "" && st.Key != st.Name {
				continue // an earlier attempt: it decides nothing
			}
			path := st.Key
			if prefix != "" {
				path = prefix + "/" + st.Key
			}
			if runtree.Failed(runtree.Status(st)) && (best == nil || st.StartTime.Before(best.StartTime)) {
				best, bestPath = st, path
			}
			walk(st.Stages, path)
		}
	}
	walk(stages, "")
	return bestPath, best
}

// reason says in a few words why a run did not pass: its error, else the
// stages that did not end ok.
func reason(it item) string {
	if e := it.in.Run.Error; e != "" {
		return firstLine(e)
	}
	var names []string
	for _, row := range it.rows {
		if runtree.Failed(row.Status) {
			names = append(names, row.KeyPath+" "+row.Status)
		}
		if len(names) == 3 {
			names = append(names, "…")
			break
		}
	}
	return strings.Join(names, ", ")
}

func runName(name, id string) string {
	if name != "" {
		return name
	}
	return runtree.ShortID(id)
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i] + " …"
	}
	if r := []rune(s); len(r) > 200 {
		return string(r[:199]) + "…"
	}
	return s
}

func lastElem(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func secs(f float64) time.Duration {
	const limit = float64(1<<63-1) / float64(time.Second)
	switch {
	case f >= limit:
		return 1<<63 - 1
	case f <= -limit:
		return -(1<<63 - 1)
	}
	return time.Duration(f * float64(time.Second))
}

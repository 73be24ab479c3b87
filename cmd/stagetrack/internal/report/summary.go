package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runstats"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// maxFailures bounds the "newest failures" list; the rest are counted.
const maxFailures = 10

// summary is the top of the page: what a reader of many runs wants first.
type summary struct {
	Runs         int
	Passed       int
	Failed       int
	Other        []statusCount // incomplete, interrupted, ...: neither passed nor failed
	First, Last  when
	RunP50       string
	RunP95       string
	Stages       []stageStat
	Trend        *trend
	Failures     []failure // newest first
	MoreFailures int
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
}

type failure struct {
	Anchor  string
	Name    string
	RunID   string
	Started when
	Reason  string
}

// item is one run, sorted, with what the page needs of it more than once.
type item struct {
	in     Input
	rows   []runtree.Row
	status string
	anchor string
	dur    time.Duration
}

func newSummary(items []item) summary {
	var agg runstats.Aggregator
	s := summary{Runs: len(items)}
	other := map[string]int{}
	var order []string
	for _, it := range items {
		agg.Add(it.in.Run)
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
		if it.status != runfile.StatusOK {
			if len(s.Failures) < maxFailures {
				s.Failures = append(s.Failures, failure{Anchor: it.anchor, Name: runName(it.in.Run), RunID: runtree.ShortID(it.in.Run.RunID), Started: newWhen(it.in.Run.StartTime), Reason: reason(it)})
			} else {
				s.MoreFailures++
			}
		}
	}
	for _, st := range order {
		s.Other = append(s.Other, statusCount{Status: st, Cls: statusClass(st), N: other[st]})
	}
	// items are newest first
	if len(items) > 0 {
		s.Last, s.First = newWhen(items[0].in.Run.StartTime), newWhen(items[len(items)-1].in.Run.StartTime)
	}
	sum := agg.Summary()
	s.RunP50, s.RunP95 = view.Duration(secs(sum.Run.P50Sec)), view.Duration(secs(sum.Run.P95Sec))
	for _, r := range sum.Stages {
		s.Stages = append(s.Stages, stageStat{
			Path: lastElem(r.Path), Depth: r.Depth, Count: r.Count, Failures: r.Failures,
			P50: view.Duration(secs(r.P50Sec)), P95: view.Duration(secs(r.P95Sec)),
			FailureShare: strconv.FormatFloat(100*r.FailureRate, 'f', 1, 64) + "%",
		})
	}
	s.Trend = newTrend(items, sum.Stages)
	return s
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

func runName(r *runfile.Run) string {
	if r.Name != "" {
		return r.Name
	}
	return runtree.ShortID(r.RunID)
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

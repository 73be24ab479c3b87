// Package runstats summarises many runs of a pipeline: per stage, how often
// it ran, how often it failed, how often it was flaky (failed, then passed
// on retry), its median, 95th percentile and maximum duration, and a
// summary of each number its data recorded (count, mean, min, median, max,
// last). Stages are grouped by name path ("train/epoch"), so the
// repeated records of a stage (epoch#1, epoch#2, epoch) count together.
//
// An Aggregator is not safe for concurrent use: give each goroutine its own
// and Merge them, as `stagetrack stats` does.
package runstats

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Aggregator collects runs. The zero Aggregator is ready to use.
type Aggregator struct {
	run    group
	stages map[string]*group
	adds   int // runs added: numbers each Add for group.lastRun
}

// A group is kept for every stage path of every run: a run of 100,000
// distinct stages has as many, so it is kept small (issue 23: peak
// memory).
type group struct {
	depth     int
	parent    string
	durations []float64 // seconds
	offsets   []float64 // seconds from the run's start, to order stages
	failed    int
	runs      int
	records   int // stage records, timed or not
	flaky     int // runs in which the stage failed, then passed on retry
	lastRun   int // the Add (Aggregator.adds) that last counted the stage in runs
	data      keyedValues
}

// Add adds one run. It walks the run's stages without holding their rows
// (runtree.Each).
func (a *Aggregator) Add(r *runfile.Run) {
	start, _ := runtree.BoundsOf(r)
	a.add(r, runtree.DurationOf(r), start, func(fn func(*runtree.Row)) { runtree.Each(r, fn) })
}

// AddRows adds one run whose rows, runtree.Flatten(r), the caller has
// already made.
func (a *Aggregator) AddRows(r *runfile.Run, rows []runtree.Row) {
	start, _ := runtree.Bounds(r, rows)
	a.add(r, runtree.Duration(r, rows), start, func(fn func(*runtree.Row)) {
		for i := range rows {
			fn(&rows[i])
		}
	})
}

// add adds the run r of the given duration and start (runtree.Bounds),
// whose rows each calls its function with.
func (a *Aggregator) add(r *runfile.Run, dur time.Duration, start time.Time, each func(func(*runtree.Row))) {
	a.adds++
	a.run.durations = append(a.run.durations, dur.Seconds())
	a.run.runs++
	a.run.records++
	runFlaky := false
	if runtree.RunStatus(r) != runfile.StatusOK {
		a.run.failed++
	}
	if a.stages == nil {
		a.stages = make(map[string]*group)
	}
	each(func(row *runtree.Row) {
		g := a.stages[row.NamePath]
		if g == nil {
			g = &group{depth: row.Depth, parent: row.Parent}
			a.stages[row.NamePath] = g
		}
		g.records++
		d := row.Stage.DurationSec
		if d == 0 && !row.End.IsZero() {
			d = row.End.Sub(row.Start).Seconds()
		}
		if !row.Stage.DurationUnknown { // unknown is left out, never 0
			g.durations = append(g.durations, d)
		}
		if !row.Start.IsZero() && !start.IsZero() {
			g.offsets = append(g.offsets, row.Start.Sub(start).Seconds())
		}
		if runtree.Failed(row.Status) {
			g.failed++
		}
		if g.lastRun != a.adds {
			g.lastRun = a.adds
			g.runs++
		}
		// Only the deciding record of a name can be flaky (Row.Flaky), so
		// a stage counts once a run.
		if row.Flaky() {
			g.flaky++
			runFlaky = true
		}
		g.addData(row.Stage.Data, r.StartTime, r.RunID)
	})
	if runFlaky {
		a.run.flaky++
	}
}

// Merge adds everything b collected to a. b must not be used afterwards.
func (a *Aggregator) Merge(b *Aggregator) {
	a.run.merge(&b.run)
	if a.stages == nil {
		a.stages = make(map[string]*group, len(b.stages))
	}
	for k, g := range b.stages {
		if mine := a.stages[k]; mine != nil {
			mine.merge(g)
		} else {
			g.lastRun = 0 // b's numbering; a's Adds start at 1
			a.stages[k] = g
		}
	}
}

func (g *group) merge(o *group) {
	g.durations = append(g.durations, o.durations...)
	g.offsets = append(g.offsets, o.offsets...)
	g.failed += o.failed
	g.runs += o.runs
	g.records += o.records
	g.flaky += o.flaky
	g.mergeData(o)
}

// Summary is what `stagetrack stats --json` prints. It is a plain value,
// safe to read from several goroutines.
type Summary struct {
	Runs   int   `json:"runs"`
	Run    Row   `json:"run"`    // the runs themselves: total duration, failed runs
	Stages []Row `json:"stages"` // parents before children, siblings by typical start
}

// Row summarises one stage path, or the runs.
type Row struct {
	Path  string `json:"path"` // name path, "train/epoch"; "" for the run row
	Depth int    `json:"depth"`
	// Count is how many records the stage has: a stage repeated three times
	// in a run counts three.
	Count int `json:"count"`
	// Timed is how many of the Count records have a known duration: the
	// percentiles are over those. A Python tool's stage with duration_sec
	// null and no end_time has none.
	Timed int `json:"timed"`
	// Runs is how many runs have the stage at least once.
	Runs int `json:"runs"`
	// Failures counts records whose status is not ok (error, unfinished,
	// running); for the run row, runs whose status is not ok.
	Failures    int     `json:"failures"`
	FailureRate float64 `json:"failure_rate"` // Failures / Count, 0..1
	P50Sec      float64 `json:"p50_sec"`
	P95Sec      float64 `json:"p95_sec"`
	MaxSec      float64 `json:"max_sec"`
	// Flaky counts the runs in which the stage failed and then passed on
	// retry: its deciding record (the last attempt of its name) ended ok
	// and an earlier attempt did not (runtree.Row.Flaky). For the run row,
	// runs with at least one flaky stage.
	Flaky     int     `json:"flaky"`
	FlakeRate float64 `json:"flake_rate"` // Flaky / Runs, 0..1
	// Data summarises the numbers the stage's data recorded, by key.
	Data []Metric `json:"data,omitempty"`
}

// Summary returns the summary of the runs added so far. Percentiles use the
// nearest-rank method: the p-th percentile of n durations is the
// ceil(p/100·n)-th smallest, always a duration that occurred.
func (a *Aggregator) Summary() Summary {
	s := Summary{Runs: a.run.runs, Run: a.run.row(""), Stages: make([]Row, 0, len(a.stages))}
	children := make(map[string][]string)
	for path, g := range a.stages {
		children[g.parent] = append(children[g.parent], path)
	}
	medians := make(map[string]float64, len(a.stages))
	for path, g := range a.stages {
		medians[path] = percentile(g.offsets, 50)
	}
	var walk func(parent string)
	walk = func(parent string) {
		kids := children[parent]
		slices.SortFunc(kids, func(x, y string) int {
			return cmp.Or(cmp.Compare(medians[x], medians[y]), strings.Compare(x, y))
		})
		for _, path := range kids {
			s.Stages = append(s.Stages, a.stages[path].row(path))
			walk(path)
		}
	}
	walk("")
	return s
}

func (g *group) row(path string) Row {
	slices.Sort(g.durations)
	r := Row{Path: path, Depth: g.depth, Count: g.records, Timed: len(g.durations), Runs: g.runs, Failures: g.failed,
		Flaky: g.flaky, Data: g.metrics()}
	if r.Count > 0 {
		r.FailureRate = float64(g.failed) / float64(r.Count)
	}
	if r.Timed > 0 {
		r.P50Sec = sortedPercentile(g.durations, 50)
		r.P95Sec = sortedPercentile(g.durations, 95)
		r.MaxSec = g.durations[len(g.durations)-1]
	}
	if path == "" {
		r.Runs = r.Count
	}
	if r.Runs > 0 {
		r.FlakeRate = float64(g.flaky) / float64(r.Runs)
	}
	return r
}

// percentile returns the nearest-rank p-th percentile of xs, sorting a copy.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.Inf(1) // stages without times sort last
	}
	c := slices.Clone(xs)
	slices.Sort(c)
	return sortedPercentile(c, p)
}

func sortedPercentile(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

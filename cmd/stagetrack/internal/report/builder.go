package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/flatjson"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runstats"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Report collects runs one at a time and writes their report. Of the runs
// it draws in full (the newest Options.Charts) it keeps the runs; of every
// other run only what the summary, the trend and data charts and the list
// of older runs show: about a kilobyte a run whatever the run's size, so a
// report of ten thousand runs does not hold ten thousand runs.
//
// A Report is not safe for concurrent use. Write may be called more than
// once; Add after Write adds to the next Write.
type Report struct {
	o      Options
	charts int // runs drawn in full; -1 for all
	seq    int

	runs  []*runInfo // every run, in the order added
	full  []item     // the newest runs, kept whole, newest first; at most charts
	fails []*runInfo // the newest runs that did not pass, newest first; at most maxFailures
	nFail int        // runs that did not pass

	agg    runstats.Aggregator
	paths  names // top-level stage name paths, for the trend
	series names // stage name path + data key, for the data charts
}

// runInfo is what the report keeps of every run.
type runInfo struct {
	seq    int // the order added: the last tie-break of the page's order
	file   string
	runID  string
	name   string
	status string
	start  time.Time
	dur    time.Duration
	stages int
	reason string   // why it did not pass; "" when it did
	params []param  // its args, flattened
	top    []point  // seconds per top-level stage name path (index into Report.paths)
	data   []point  // the number per data series (index into Report.series)
	fail   *failure // while it is among the newest failures
	anchor string   // set by Write
}

// point is one value of one series of a run.
type point struct {
	i int32
	v float64
}

// names numbers strings in the order first seen and counts the runs that
// have each; it stops taking new ones at maxNames, so hostile files with a
// million data keys cannot grow it without bound.
type names struct {
	index map[string]int32
	list  []string
	runs  []int
}

const maxNames = 2000

func (n *names) id(s string) (int32, bool) {
	if i, ok := n.index[s]; ok {
		return i, true
	}
	if len(n.list) >= maxNames {
		return 0, false
	}
	if n.index == nil {
		n.index = make(map[string]int32)
	}
	i := int32(len(n.list))
	n.index[s] = i
	n.list = append(n.list, s)
	n.runs = append(n.runs, 0)
	return i, true
}

// New returns an empty report.
func New(o Options) *Report {
	charts := o.Charts
	if charts == 0 {
		charts = DefaultCharts
	}
	return &Report{o: o, charts: charts}
}

// Add adds one run. The report reads in.Run now and keeps it only while it
// is among the newest Options.Charts runs.
func (rp *Report) Add(in Input) {
	r := in.Run
	// The run's stages are walked (runtree.Each), not flattened into rows
	// kept until the report is written: a run of 100,000 stages has 16 MB
	// of rows. Write flattens the runs it draws.
	it := item{in: in, status: runtree.RunStatus(r), dur: runtree.DurationOf(r)}
	info := &runInfo{seq: rp.seq, file: in.File, runID: r.RunID, name: r.Name, status: it.status, start: r.StartTime,
		dur: it.dur, params: flatten(r.Args, "args")}
	rp.seq++
	it.info = info
	if it.status != runfile.StatusOK {
		it.rows = runtree.Flatten(r) // a failure's reason names stages
		info.reason = reason(it)
		rp.nFail++
		rp.fails = keepNewest(rp.fails, info, maxFailures, func(x *runInfo) *runInfo { return x }, func(old *runInfo) { old.fail = nil })
		if slices.Contains(rp.fails, info) {
			f := newFailure(it)
			info.fail = &f
		}
		it.rows = nil
	}
	rp.agg.Add(r)

	// The trend's top-level stage durations and the data charts' numbers.
	var seenSeries []int32
	runtree.Each(r, func(row *runtree.Row) {
		info.stages++
		if row.Depth == 0 && !row.Start.IsZero() {
			if i, ok := rp.paths.id(row.NamePath); ok {
				info.top = addPoint(info.top, i, max(row.End.Sub(row.Start).Seconds(), 0), true)
			}
		}
		flatjson.Walk(row.Stage.Data, func(k string, v []byte) {
			x, ok := flatjson.Number(v)
			if !ok || k == "" {
				return
			}
			i, ok := rp.series.id(row.NamePath + "\x00" + k)
			if !ok {
				return
			}
			n := len(info.data)
			info.data = addPoint(info.data, i, x, false) // the last record of a name is the one that decides it
			if len(info.data) > n {
				seenSeries = append(seenSeries, i)
			}
		})
	})
	for _, p := range info.top {
		rp.paths.runs[p.i]++
	}
	for _, i := range seenSeries {
		rp.series.runs[i]++
	}
	info.top, info.data = slices.Clip(info.top), slices.Clip(info.data)
	rp.runs = append(rp.runs, info)
	if rp.charts < 0 {
		rp.full = append(rp.full, it)
	} else {
		rp.full = keepNewest(rp.full, it, rp.charts, func(x item) *runInfo { return x.info }, nil)
	}
}

// addPoint sets series i to v in ps: added to what it has when sum, else
// replacing it.
func addPoint(ps []point, i int32, v float64, sum bool) []point {
	for j := range ps {
		if ps[j].i == i {
			if sum {
				ps[j].v += v
			} else {
				ps[j].v = v
			}
			return ps
		}
	}
	return append(ps, point{i, v})
}

// keepNewest inserts x into s (newest first) and drops what falls past n,
// calling drop for it.
func keepNewest[T any](s []T, x T, n int, info func(T) *runInfo, drop func(T)) []T {
	at, _ := slices.BinarySearchFunc(s, info(x), func(e T, t *runInfo) int { return newer(info(e), t) })
	if at >= n {
		if drop != nil {
			drop(x)
		}
		return s
	}
	s = slices.Insert(s, at, x)
	if len(s) > n {
		if drop != nil {
			drop(s[n])
		}
		var zero T
		s[n] = zero
		s = s[:n]
	}
	return s
}

// newer orders runs as the page lists them: by start time, newest first,
// runs without a start time last; then by file, then in the order added.
func newer(a, b *runInfo) int {
	switch {
	case a.start.IsZero() != b.start.IsZero():
		if a.start.IsZero() {
			return 1
		}
		return -1
	case !a.start.Equal(b.start):
		return b.start.Compare(a.start)
	case a.file != b.file:
		return strings.Compare(a.file, b.file)
	}
	return a.seq - b.seq
}

// Write writes the report of the runs added so far to w: a summary of all
// of them, then the newest Options.Charts runs in full, then the rest as a
// collapsed list.
func (rp *Report) Write(w io.Writer) error {
	if len(rp.runs) == 0 {
		return fmt.Errorf("report: no runs")
	}
	p := page{Title: rp.o.Title}
	if p.Title == "" {
		p.Title = "stage-tracker report"
	}
	runs := slices.Clone(rp.runs)
	slices.SortFunc(runs, newer)
	for i, r := range runs {
		r.anchor = "run-" + strconv.Itoa(i)
	}
	p.Summary = rp.summary(runs)

	var longest time.Duration
	for i := range rp.full {
		it := &rp.full[i]
		if it.rows == nil {
			it.rows = runtree.Flatten(it.in.Run)
		}
		s, e := runtree.Bounds(it.in.Run, it.rows)
		longest = max(longest, e.Sub(s))
	}
	if longest <= 0 {
		longest = time.Second
	}
	sc := scale{total: longest, pxPerSec: plotW / longest.Seconds()}
	ticks := sc.ticks()
	for _, it := range rp.full {
		it.anchor = it.info.anchor
		p.Runs = append(p.Runs, newChart(it, sc, ticks))
	}
	for _, r := range runs[len(rp.full):] {
		p.More = append(p.More, newListRow(r))
	}
	p.Scale = view.Duration(longest)

	tmpl, err := template.New("report").Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// Written as it is made: the page of large runs need not be held
	// whole. An error leaves w with part of a page (the command writes to
	// a temporary file it then removes).
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := tmpl.Execute(bw, p); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return bw.Flush()
}

// param is one parameter of a run: a key of its args (dotted for nested
// objects) and its value as text.
type param struct{ Key, Value string }

// maxValue bounds a value shown in a table cell; the full value is in the
// stage's details.
const maxValue = 200

// flatten flattens a JSON value (args, data) into dotted keys and their
// values as text; a value that is not an object is one, named whole.
func flatten(raw []byte, whole string) []param {
	var ps []param
	flatjson.Walk(raw, func(k string, v []byte) {
		if k == "" {
			k = whole
		}
		ps = append(ps, param{Key: k, Value: cut(flatjson.Text(v), maxValue)})
	})
	return ps
}

// cut shortens s to n runes, ending in "…" when cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Package report writes the HTML report of one or more runs: one
// self-contained file (inline CSS and SVG, a few lines of inline script, no
// network) with a summary of all the runs (durations and the numbers their
// stages record, charted over the runs and summarised), then, per drawn
// run, its metadata, tables of its parameters and data, and a Gantt chart
// of its stages. Several runs share one time scale, so their charts can be
// compared by eye. Every bar is an SVG rect of class "bar" carrying its
// stage in data-* attributes; hovering shows the stage's error and data (an
// SVG <title>), clicking shows them in full below the chart.
//
// A Report takes runs one at a time and keeps whole only the runs it draws,
// so memory does not grow with the size of the others; Write is New, Add
// and Report.Write in one call.
//
// Everything from the run files goes through html/template, which escapes
// it for the context it lands in.
//
// Write is safe for concurrent use; a Report is not.
package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Input is one run to report on. Write only reads it.
type Input struct {
	File string // where the run was read from, shown in the metadata
	Run  *runfile.Run
}

// Options configure a report.
type Options struct {
	Title string // the page title; default "stage-tracker report"
	// Charts is how many runs, newest first, are drawn in full with their
	// Gantt charts; the others are rows of a list that opens on click.
	// Zero means DefaultCharts; a negative value draws every run.
	Charts int
}

// DefaultCharts is how many runs get a chart when Options.Charts is zero:
// enough to compare the latest runs by eye, few enough that a report of a
// thousand runs stays small.
const DefaultCharts = 10

//go:embed report.html.tmpl
var pageTemplate string

// The page template is parsed when a report is written, not at package
// init: every stagetrack command links this package, and parsing it took
// half a millisecond of each one's start-up.

// Chart geometry, in SVG user units (pixels at 100% zoom).
const (
	labelW  = 260.0 // stage names
	plotW   = 860.0 // the time axis, shared by all charts
	rightW  = 80.0  // room for the duration label after the longest bar
	axisH   = 30.0
	rowH    = 24.0
	barH    = 14.0
	indentW = 14.0
	svgW    = labelW + plotW + rightW
	// maxLabel is how many characters of a stage name fit in the label
	// column at depth 0; the full name is in the tooltip.
	maxLabel = 34
	// maxTooltipData bounds the data shown on hover; a click shows all.
	maxTooltipData = 600
	// maxInlineArgs: longer args get a block of their own.
	maxInlineArgs = 160
)

// Write writes the report of runs to w: a summary of all of them, then the
// newest o.Charts runs in full, then the rest as a collapsed list. Runs are
// ordered by start time, newest first; runs without a start time come last.
// It is New, Add for each run, and Report.Write.
func Write(w io.Writer, runs []Input, o Options) error {
	rp := New(o)
	for _, in := range runs {
		rp.Add(in)
	}
	return rp.Write(w)
}

type page struct {
	Title   string
	Scale   string
	Summary summary
	Runs    []chart
	More    []listRow
}

// listRow is a run past the charted ones: one line of the collapsed list.
type listRow struct {
	ID, RunID, Name  string
	Status, Cls      string
	Started          when
	Duration, Reason string
	Stages           int
	File             string
	Params           []param
}

func newListRow(r *runInfo) listRow {
	return listRow{
		ID: r.anchor, RunID: r.runID, Name: r.name, Status: r.status, Cls: statusClass(r.status),
		Started: newWhen(r.start), Duration: view.Duration(r.dur), Stages: r.stages, File: r.file,
		Reason: r.reason, Params: r.params,
	}
}

type chart struct {
	ID         string
	File       string
	RunID      string
	Name       string
	Status     string
	StatusCls  string
	Started    when
	Completed  when
	Duration   string
	TraceID    string
	SpanID     string
	ParentSpan string
	Schema     int
	StageCount int
	Missing    int
	Args       string // compact, when short enough for the metadata grid
	ArgsLong   string // indented, when not
	Error      string
	Stack      string
	Warnings   []string
	NotOK      string      // "1 error, 1 unfinished": stages by status, ok aside
	Params     []param     // args, flattened: shown as a table, not only on hover
	Data       []stageData // every stage's data, flattened

	Width, Height string
	PlotX, PlotW  string
	AxisY, PlotH  string
	Ticks         []tick
	Bars          []bar
	// Hidden is how many stages the chart does not draw (see maxBars),
	// said on a line at HiddenY.
	Hidden  int
	HiddenY string
}

// maxBars is the most stages a Gantt chart draws. A run of 100,000
// stages drawn whole is a chart nobody can read and a page of 150 MB
// that a browser struggles with: past maxBars the chart draws the longest
// stages, each with the stages it is nested in, in their usual order, and
// a line saying how many are not drawn. The table of data lists the drawn
// stages' data. stagetrack show lists every stage.
const maxBars = 1000

// drawnRows returns the indices in rows of the stages a chart draws, in
// order: every row when there are at most maxBars; else the longest rows,
// ties in row order, each with its ancestors, until maxBars are taken.
func drawnRows(rows []runtree.Row) []int {
	all := make([]int, len(rows))
	for i := range all {
		all[i] = i
	}
	if len(rows) <= maxBars {
		return all
	}
	// parent[i] is the row rows[i] is nested in, -1 at the top: rows are
	// depth first, so it is the nearest row before i one level up.
	parent := make([]int32, len(rows))
	var stack []int32
	for i, row := range rows {
		stack = stack[:min(row.Depth, len(stack))]
		parent[i] = -1
		if len(stack) > 0 {
			parent[i] = stack[len(stack)-1]
		}
		stack = append(stack, int32(i))
	}
	length := func(i int) time.Duration {
		if rows[i].Start.IsZero() {
			return 0
		}
		return rows[i].End.Sub(rows[i].Start)
	}
	slices.SortStableFunc(all, func(a, b int) int { return cmp.Compare(length(b), length(a)) })
	take := make([]bool, len(rows))
	n := 0
	for _, i := range all {
		if n >= maxBars {
			break
		}
		for j := int32(i); j >= 0 && !take[j]; j = parent[j] {
			take[j] = true
			n++
		}
	}
	out := all[:0]
	for i, t := range take {
		if t {
			out = append(out, i)
		}
	}
	return out
}

type tick struct {
	X, Label string
}

type bar struct {
	Index      int
	Key        string
	Path       string
	Label      string
	Status     string
	StatusCls  string
	Depth      int
	RowY       string
	LabelX     string
	TextY      string
	X, Y, W, H string
	DurX       string
	DurAnchor  string
	Duration   string
	Offset     string
	StartMs    string
	DurationMs string
	StartTime  string
	EndTime    string
	Data       string
	DataError  string
	Error      string
	Stack      string
	Tooltip    string
	Stripe     bool
}

type scale struct {
	total    time.Duration
	pxPerSec float64
}

func (s scale) x(d time.Duration) float64 { return labelW + d.Seconds()*s.pxPerSec }

// maxTicks bounds the axis labels whatever the times in the run files.
const maxTicks = 12

// ticks returns axis ticks at a round step giving about eight labels. The
// loop counts ticks rather than adding durations, so a total near the
// largest time.Duration (a run ending in 2262) cannot overflow into an
// endless loop.
func (s scale) ticks() []tick {
	step := niceStep(s.total / 8)
	var ts []tick
	for i := int64(0); i <= maxTicks; i++ {
		if float64(i)*float64(step) > float64(s.total)+float64(step)/1000 {
			break
		}
		t := time.Duration(i) * step
		ts = append(ts, tick{X: num(s.x(t)), Label: tickLabel(t)})
	}
	return ts
}

// niceStep rounds d up to a step people read easily: 1, 2 or 5 times a
// power of ten below a minute, then whole minutes and hours.
func niceStep(d time.Duration) time.Duration {
	steps := []time.Duration{
		15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	}
	if d < 10*time.Second {
		for p := time.Duration(1); p <= 10*time.Second; p *= 10 {
			for _, m := range []time.Duration{1, 2, 5} {
				if m*p >= d {
					return m * p
				}
			}
		}
	}
	for _, s := range steps {
		if s >= d {
			return s
		}
	}
	return time.Duration(math.Ceil(float64(d)/float64(24*time.Hour))) * 24 * time.Hour
}

// tickLabel is view.Duration without trailing zeros: a tick falls on a
// round value ("2s", "1.5s", "250ms").
func tickLabel(d time.Duration) string {
	s := view.Duration(d)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 || !strings.Contains(s[:i], ".") {
		return s
	}
	n := strings.TrimRight(strings.TrimRight(s[:i], "0"), ".")
	return n + s[i:]
}

func newChart(it item, sc scale, ticks []tick) chart {
	in, rows, r, status := it.in, it.rows, it.in.Run, it.status
	start, _ := runtree.Bounds(r, rows)
	c := chart{
		ID:         it.anchor,
		File:       in.File,
		RunID:      r.RunID,
		Name:       r.Name,
		Status:     status,
		StatusCls:  statusClass(status),
		Started:    newWhen(r.StartTime),
		Completed:  newWhen(r.CompletedAt),
		Duration:   view.Duration(it.dur),
		TraceID:    r.TraceID,
		SpanID:     r.SpanID,
		ParentSpan: r.ParentSpanID,
		Schema:     r.SchemaVersion,
		StageCount: len(rows),
		Missing:    r.MissingStages,
		Error:      r.Error,
		Stack:      r.Stack,
		Warnings:   r.Warnings,
		Ticks:      ticks,
		Params:     it.info.params,
	}
	if a := string(r.Args); len(a) <= maxInlineArgs {
		c.Args = a
	} else {
		c.ArgsLong = pretty(r.Args)
	}
	drawn := drawnRows(rows)
	c.Hidden = len(rows) - len(drawn)
	lines := len(drawn)
	if c.Hidden > 0 {
		c.HiddenY = num(axisH + float64(lines)*rowH + rowH/2 + 4)
		lines++ // the line that says what is not drawn
	}
	plotH := axisH + float64(max(lines, 1))*rowH + 8
	c.Width, c.Height = num(svgW), num(plotH)
	c.PlotX, c.PlotW = num(labelW), num(plotW)
	c.AxisY, c.PlotH = num(axisH), num(plotH-4)
	notOK := map[string]int{}
	for _, row := range rows {
		if runtree.Failed(row.Status) {
			notOK[row.Status]++
		}
	}
	c.Bars = make([]bar, 0, len(drawn))
	for k, j := range drawn {
		row := rows[j]
		st := row.Stage
		y := axisH + float64(k)*rowH
		from, to := row.Start.Sub(start), row.End.Sub(start)
		if row.Start.IsZero() {
			from, to = 0, 0
		}
		x0, x1 := sc.x(from), sc.x(to)
		w := math.Max(x1-x0, 2) // a zero-length stage is still visible
		b := bar{
			Index:      j,
			Key:        row.KeyPath,
			Path:       row.NamePath,
			Label:      label(st.Key, maxLabel-2*row.Depth),
			Status:     row.Status,
			StatusCls:  statusClass(row.Status),
			Depth:      row.Depth,
			RowY:       num(y),
			LabelX:     num(8 + float64(row.Depth)*indentW),
			TextY:      num(y + rowH/2 + 4),
			X:          num(x0),
			Y:          num(y + (rowH-barH)/2),
			W:          num(w),
			H:          num(barH),
			Duration:   view.Duration(to - from),
			Offset:     "+" + view.Duration(from),
			StartMs:    strconv.FormatFloat(float64(from)/float64(time.Millisecond), 'f', 3, 64),
			DurationMs: strconv.FormatFloat(float64(to-from)/float64(time.Millisecond), 'f', 3, 64),
			StartTime:  stamp(row.Start),
			EndTime:    stamp(row.End),
			Data:       pretty(st.Data),
			DataError:  st.DataError,
			Error:      st.Error,
			Stack:      st.Stack,
			Stripe:     k%2 == 1,
		}
		if x0+w+rightW <= svgW || x0 < labelW+plotW/2 {
			b.DurX, b.DurAnchor = num(x0+w+5), "start"
		} else {
			b.DurX, b.DurAnchor = num(x0-5), "end"
		}
		b.Tooltip = tooltip(row, b)
		c.Bars = append(c.Bars, b)
	}
	var parts []string
	for _, status := range slices.Sorted(maps.Keys(notOK)) {
		parts = append(parts, strconv.Itoa(notOK[status])+" "+status)
	}
	c.NotOK = strings.Join(parts, ", ")
	c.Data = runData(rows, drawn)
	return c
}

func tooltip(row runtree.Row, b bar) string {
	var t strings.Builder
	fmt.Fprintf(&t, "%s — %s — %s (starts at %s)", row.KeyPath, b.Duration, row.Status, b.Offset)
	if b.Error != "" {
		t.WriteString("\nerror: " + b.Error)
	}
	if b.DataError != "" {
		t.WriteString("\ndata_error: " + b.DataError)
	}
	if tail := StderrTail(row.Stage.Data); tail != "" { // h5: issue 11
		t.WriteString("\nstderr:\n" + tail)
	}
	if b.Data != "" && b.Data != "null" {
		d := b.Data
		if len(d) > maxTooltipData {
			d = d[:maxTooltipData] + "…"
		}
		t.WriteString("\ndata: " + d)
	}
	t.WriteString("\n(click for details)")
	return t.String()
}

// statusClass maps a status to the CSS class that colours it; anything
// unknown gets "other", so a file cannot choose arbitrary classes.
func statusClass(s string) string {
	switch s {
	case runfile.StageOK, runfile.StageError, runfile.StageUnfinished, runfile.StageRunning,
		runfile.StatusFailed, runfile.StatusIncomplete, runfile.StatusInterrupted, runfile.StatusCrashed:
		return s
	}
	return "other"
}

func label(s string, n int) string {
	n = max(n, 8)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(runfile.TimeLayout)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// pretty indents a JSON value for display; "" for none.
func pretty(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

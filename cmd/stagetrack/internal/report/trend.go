package report

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runstats"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
)

// The trend chart: run and stage durations (y) over the runs' start times
// (x), one polyline per series, failed runs marked on the run line.
const (
	trendW      = 1100.0
	trendH      = 260.0
	trendLeft   = 64.0  // y labels
	trendRight  = 170.0 // legend
	trendTop    = 14.0
	trendBottom = 30.0 // x labels
	// maxSeries is how many stages get a line besides the run itself: the
	// top-level stages with the largest median, which make up most of a run.
	maxSeries = 5
)

var seriesColors = []string{"#1f2328", "#2f81f7", "#1a7f37", "#bf8700", "#8250df", "#cf222e"}

type trend struct {
	W, H           string
	X0, X1, Y0, Y1 string
	Series         []series
	Fails          []mark
	YTicks, XTicks []axisTick
	ByIndex        bool // runs are spaced evenly: their start times did not spread
}

type series struct {
	Name, Color, Points         string
	LegendX1, LegendX2, LegendY string
	LegendTextX, LegendTextY    string
	Run                         bool
}

type mark struct{ X, Y, Title string }

type axisTick struct{ Pos, Label, Anchor string }

// xAxis places the runs on the charts' x axis, oldest first: seconds since
// the first start, or the index when start times are missing or all equal.
type xAxis struct {
	xs      []float64 // by run, oldest first
	lo, hi  float64
	byIndex bool
}

// newXAxis lays out runs, given newest first.
func newXAxis(runs []*runInfo) xAxis {
	n := len(runs)
	ax := xAxis{xs: make([]float64, n), lo: math.Inf(1), hi: math.Inf(-1)}
	valid := 0
	for i := range n {
		t := runs[n-1-i].start
		if t.IsZero() {
			continue
		}
		valid++
		ax.xs[i] = float64(t.Unix()) + float64(t.Nanosecond())/1e9
		ax.lo, ax.hi = math.Min(ax.lo, ax.xs[i]), math.Max(ax.hi, ax.xs[i])
	}
	if valid < n || ax.hi-ax.lo <= 0 {
		ax.byIndex = true
		for i := range ax.xs {
			ax.xs[i] = float64(i)
		}
		ax.lo, ax.hi = 0, float64(max(n-1, 1))
	}
	return ax
}

// ticks labels count points of the axis between x0 and x1 (pixels).
func (ax xAxis) ticks(count int, px func(float64) float64) []axisTick {
	var out []axisTick
	for k := range count {
		x := ax.lo + (ax.hi-ax.lo)*float64(k)/float64(count-1)
		label := "run " + strconv.Itoa(int(math.Round(x))+1)
		if !ax.byIndex {
			label = xLabel(x, ax.hi-ax.lo)
		}
		out = append(out, axisTick{Pos: num(px(x)), Label: label})
	}
	return out
}

// newTrend charts the durations of the runs (newest first) and of their
// slowest top-level stages.
func (rp *Report) newTrend(runs []*runInfo, ax xAxis, stages []runstats.Row) *trend {
	if len(runs) < 2 {
		return nil // one point is not a trend
	}
	n := len(runs)
	at := func(i int) *runInfo { return runs[n-1-i] } // oldest first, as a time axis reads

	var paths []string
	var top []runstats.Row
	for _, r := range stages {
		if r.Depth == 0 {
			top = append(top, r)
		}
	}
	// stages are in typical start order; pick the slowest by median.
	for len(paths) < maxSeries && len(top) > 0 {
		best := 0
		for i, r := range top {
			if r.P50Sec > top[best].P50Sec {
				best = i
			}
		}
		paths = append(paths, top[best].Path)
		top = append(top[:best], top[best+1:]...)
	}

	// y: durations in seconds, one value per run and series (NaN: absent).
	vals := make([][]float64, len(paths)+1)
	yMax := 0.0
	for s := range vals {
		vals[s] = make([]float64, n)
	}
	idx := make([]int32, len(paths))
	for s, p := range paths {
		idx[s] = -1
		if i, ok := rp.paths.index[p]; ok {
			idx[s] = i
		}
	}
	for i := range n {
		it := at(i)
		vals[0][i] = math.Max(it.dur.Seconds(), 0)
		for s := range paths {
			vals[s+1][i] = math.NaN()
			for _, p := range it.top {
				if p.i == idx[s] {
					vals[s+1][i] = p.v
				}
			}
		}
		for s := range vals {
			if v := vals[s][i]; !math.IsNaN(v) {
				yMax = math.Max(yMax, v)
			}
		}
	}
	if yMax <= 0 {
		yMax = 1
	}
	step := niceStep(secs(yMax / 4)).Seconds()
	if step <= 0 {
		step = yMax / 4
	}
	yTop := math.Min(step*math.Ceil(yMax/step), 1e300)

	x0, x1 := trendLeft, trendW-trendRight
	y0, y1 := trendTop, trendH-trendBottom
	px := func(x float64) float64 { return x0 + (x-ax.lo)/(ax.hi-ax.lo)*(x1-x0) }
	py := func(v float64) float64 { return y1 - v/yTop*(y1-y0) }
	tr := &trend{ByIndex: ax.byIndex}
	tr.W, tr.H = num(trendW), num(trendH)
	tr.X0, tr.X1, tr.Y0, tr.Y1 = num(x0), num(x1), num(y0), num(y1)

	for k := 0; k <= 8; k++ {
		v := float64(k) * step
		if v > yTop*(1+1e-9) {
			break
		}
		tr.YTicks = append(tr.YTicks, axisTick{Pos: num(py(v)), Label: tickLabel(secs(v))})
	}
	tr.XTicks = ax.ticks(5, px)

	names := append([]string{"run"}, paths...)
	for s, name := range names {
		ly := y0 + 8 + float64(s)*20
		tr.Series = append(tr.Series, series{
			Name: name, Color: seriesColors[s%len(seriesColors)], Points: polyline(ax.xs, vals[s], px, py),
			LegendX1: num(x1 + 16), LegendX2: num(x1 + 36), LegendY: num(ly),
			LegendTextX: num(x1 + 42), LegendTextY: num(ly + 4), Run: s == 0,
		})
	}
	for i := range n {
		it := at(i)
		if it.status == "ok" {
			continue
		}
		tr.Fails = append(tr.Fails, mark{
			X: num1(px(ax.xs[i])), Y: num1(py(vals[0][i])),
			Title: runName(it.name, it.runID) + " " + it.status + " · " + view.Duration(it.dur) + " · " + newWhen(it.start).ISO,
		})
	}
	return tr
}

// polyline is the points attribute of a line through (xs[i], vs[i]),
// skipping NaN values.
func polyline(xs, vs []float64, px, py func(float64) float64) string {
	var pts strings.Builder
	for i, v := range vs {
		if math.IsNaN(v) {
			continue
		}
		if pts.Len() > 0 {
			pts.WriteByte(' ')
		}
		pts.WriteString(num1(px(xs[i])) + "," + num1(py(v)))
	}
	return pts.String()
}

// xLabel formats a point of the time axis (seconds since the epoch) with
// the precision the axis's span needs.
func xLabel(x, span float64) string {
	sec := math.Floor(x)
	t := time.Unix(int64(sec), int64((x-sec)*1e9)).UTC()
	switch {
	case span >= 365*24*3600:
		return t.Format("Jan 2006")
	case span >= 3*24*3600:
		return t.Format("2 Jan")
	case span >= 24*3600:
		return t.Format("2 Jan 15:04")
	case span >= 60:
		return t.Format("15:04")
	}
	return t.Format("15:04:05.000")
}

func num1(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

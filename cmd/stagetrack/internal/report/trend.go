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

type axisTick struct{ Pos, Label string }

func newTrend(items []item, stages []runstats.Row) *trend {
	if len(items) < 2 {
		return nil // one point is not a trend
	}
	// Oldest first, as a time axis reads.
	n := len(items)
	at := func(i int) item { return items[n-1-i] }

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

	// x: seconds since the first start, or the index when times are missing
	// or all equal.
	xs := make([]float64, n)
	lo, hi := math.Inf(1), math.Inf(-1)
	valid := 0
	for i := range n {
		t := at(i).in.Run.StartTime
		if t.IsZero() {
			continue
		}
		valid++
		xs[i] = float64(t.Unix()) + float64(t.Nanosecond())/1e9
		lo, hi = math.Min(lo, xs[i]), math.Max(hi, xs[i])
	}
	tr := &trend{}
	if valid < n || hi-lo <= 0 {
		tr.ByIndex = true
		for i := range xs {
			xs[i] = float64(i)
		}
		lo, hi = 0, float64(n-1)
	}

	// y: durations in seconds, one value per run and series (NaN: absent).
	vals := make([][]float64, len(paths)+1)
	yMax := 0.0
	for s := range vals {
		vals[s] = make([]float64, n)
	}
	for i := range n {
		it := at(i)
		vals[0][i] = math.Max(it.dur.Seconds(), 0)
		for s, p := range paths {
			v, seen := 0.0, false
			for _, row := range it.rows {
				if row.Depth == 0 && row.NamePath == p && !row.Start.IsZero() {
					v += math.Max(row.End.Sub(row.Start).Seconds(), 0)
					seen = true
				}
			}
			vals[s+1][i] = math.NaN()
			if seen {
				vals[s+1][i] = v
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
	px := func(x float64) float64 { return x0 + (x-lo)/(hi-lo)*(x1-x0) }
	py := func(v float64) float64 { return y1 - v/yTop*(y1-y0) }
	tr.W, tr.H = num(trendW), num(trendH)
	tr.X0, tr.X1, tr.Y0, tr.Y1 = num(x0), num(x1), num(y0), num(y1)

	for k := 0; k <= 8; k++ {
		v := float64(k) * step
		if v > yTop*(1+1e-9) {
			break
		}
		tr.YTicks = append(tr.YTicks, axisTick{Pos: num(py(v)), Label: tickLabel(secs(v))})
	}
	const xLabels = 5
	for k := range xLabels {
		x := lo + (hi-lo)*float64(k)/(xLabels-1)
		label := "run " + strconv.Itoa(int(math.Round(x))+1)
		if !tr.ByIndex {
			label = xLabel(x, hi-lo)
		}
		tr.XTicks = append(tr.XTicks, axisTick{Pos: num(px(x)), Label: label})
	}

	names := append([]string{"run"}, paths...)
	for s, name := range names {
		var pts strings.Builder
		for i := range n {
			v := vals[s][i]
			if math.IsNaN(v) {
				continue
			}
			if pts.Len() > 0 {
				pts.WriteByte(' ')
			}
			pts.WriteString(num1(px(xs[i])) + "," + num1(py(v)))
		}
		ly := y0 + 8 + float64(s)*20
		tr.Series = append(tr.Series, series{
			Name: name, Color: seriesColors[s%len(seriesColors)], Points: pts.String(),
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
			X: num1(px(xs[i])), Y: num1(py(vals[0][i])),
			Title: runName(it.in.Run) + " " + it.status + " · " + view.Duration(it.dur) + " · " + newWhen(it.in.Run.StartTime).ISO,
		})
	}
	return tr
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

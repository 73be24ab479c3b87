package report

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
)

// The data charts: one small chart per number that stages record in their
// data (evaluate · accuracy), its value in each run (y) over the runs'
// start times (x), as the trend chart places them.
const (
	dataW      = 360.0
	dataH      = 150.0
	dataLeft   = 66.0
	dataRight  = 12.0
	dataTop    = 10.0
	dataBottom = 24.0
	// maxDataCharts bounds the charts: the series most runs have.
	maxDataCharts = 12
	// maxDots: up to this many runs each get a dot with its value on hover.
	maxDots = 60
)

type dataChart struct {
	Stage, Key     string
	W, H           string
	X0, X1, Y0, Y1 string
	Points         string
	Dots           []mark
	YTicks, XTicks []axisTick
	Runs           int
	Last           string
}

// newDataCharts charts the data series that at least two runs have, the
// ones most runs have first, at most maxDataCharts, in the order they were
// first seen (stage order, then key order, in the first run).
func (rp *Report) newDataCharts(runs []*runInfo, ax xAxis) []dataChart {
	if len(runs) < 2 {
		return nil
	}
	var pick []int32
	for i, n := range rp.series.runs {
		if n >= 2 {
			pick = append(pick, int32(i))
		}
	}
	slices.SortStableFunc(pick, func(a, b int32) int { return cmp.Compare(rp.series.runs[b], rp.series.runs[a]) })
	pick = pick[:min(len(pick), maxDataCharts)]
	slices.Sort(pick)

	n := len(runs)
	var out []dataChart
	for _, si := range pick {
		stage, key, _ := strings.Cut(rp.series.list[si], "\x00")
		vs := make([]float64, n)
		lo, hi := math.Inf(1), math.Inf(-1)
		last, count := math.NaN(), 0
		for i := range n {
			vs[i] = math.NaN()
			for _, p := range runs[n-1-i].data {
				if p.i == si {
					vs[i] = p.v
				}
			}
			if v := vs[i]; !math.IsNaN(v) {
				lo, hi, last = math.Min(lo, v), math.Max(hi, v), v
				count++
			}
		}
		if count == 0 {
			continue
		}
		if hi-lo <= 0 || math.IsInf(hi-lo, 0) {
			pad := math.Max(math.Abs(lo)*0.1, 1)
			if math.IsInf(pad, 0) {
				pad = 0
			}
			lo, hi = lo-pad, hi+pad
		}
		x0, x1 := dataLeft, dataW-dataRight
		y0, y1 := dataTop, dataH-dataBottom
		px := func(x float64) float64 { return x0 + (x-ax.lo)/(ax.hi-ax.lo)*(x1-x0) }
		py := func(v float64) float64 {
			if hi == lo {
				return (y0 + y1) / 2
			}
			return y1 - (v-lo)/(hi-lo)*(y1-y0)
		}
		c := dataChart{
			Stage: stage, Key: key, W: num(dataW), H: num(dataH),
			X0: num(x0), X1: num(x1), Y0: num(y0), Y1: num(y1),
			Points: polyline(ax.xs, vs, px, py), Runs: count, Last: view.Number(last),
		}
		for k := range 3 {
			v := lo + (hi-lo)*float64(k)/2
			c.YTicks = append(c.YTicks, axisTick{Pos: num(py(v)), Label: strconv.FormatFloat(v, 'g', 4, 64)})
		}
		c.XTicks = ax.ticks(2, px)
		c.XTicks[0].Anchor, c.XTicks[1].Anchor = "start", "end" // inside the chart
		if count <= maxDots {
			for i, v := range vs {
				if math.IsNaN(v) {
					continue
				}
				r := runs[n-1-i]
				c.Dots = append(c.Dots, mark{X: num1(px(ax.xs[i])), Y: num1(py(v)),
					Title: runName(r.name, r.runID) + " · " + view.Number(v) + " · " + newWhen(r.start).ISO})
			}
		}
		out = append(out, c)
	}
	return out
}

// stageData is one row of a run's data table: a stage's data key and its
// value, as the run's section shows them without hovering.
type stageData struct {
	Stage, Key, Value string
}

// runData flattens the data of the drawn rows of a run for its table (see
// drawnRows), leaving out
// the stderr tail (shown with the failure) and cutting long values.
func runData(rows []runtree.Row, drawn []int) []stageData {
	var out []stageData
	for _, j := range drawn {
		row := rows[j]
		walkData(row.Stage.Data, func(k, v string) {
			out = append(out, stageData{Stage: row.KeyPath, Key: k, Value: v})
		})
	}
	return out
}

// walkData calls fn with each flattened key of data and its value as text,
// without stderr_tail.
func walkData(data []byte, fn func(k, v string)) {
	for _, p := range flatten(data, "data") {
		if p.Key != "stderr_tail" {
			fn(p.Key, p.Value)
		}
	}
}

package runstats

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/flatjson"
)

// Metric summarises the numbers a stage recorded under one data key
// (nested objects as dotted keys: "eval.accuracy") across the runs.
type Metric struct {
	Key   string  `json:"key"`
	Count int     `json:"count"` // stage records with a number under Key
	Mean  float64 `json:"mean"`
	Min   float64 `json:"min"`
	P50   float64 `json:"p50"` // nearest rank, a value that occurred
	Max   float64 `json:"max"`
	// Last is the value of the newest run (by start time) that has one:
	// its last record of the stage that does.
	Last float64 `json:"last"`
}

// values are the numbers of one data key of one stage path.
type values struct {
	xs     []float64
	last   float64
	lastAt time.Time
	lastID string // breaks ties of lastAt, so that the order runs are added in does not matter
}

// addData adds the numeric leaves of a stage record's data to g. Strings,
// booleans and lists are not metrics and are left out, as are NaN and
// infinities, which JSON cannot hold anyway.
func (g *group) addData(data []byte, at time.Time, runID string) {
	flatjson.Walk(data, func(k string, v []byte) {
		x, ok := flatjson.Number(v)
		if !ok || math.IsInf(x, 0) || math.IsNaN(x) {
			return
		}
		if g.data == nil {
			g.data = make(map[string]*values)
		}
		vs := g.data[k]
		if vs == nil {
			vs = &values{}
			g.data[k] = vs
		}
		vs.xs = append(vs.xs, x)
		if vs.newer(at, runID) || len(vs.xs) == 1 {
			vs.last, vs.lastAt, vs.lastID = x, at, runID
		}
	})
}

// newer reports whether a value of the run (at, id) replaces vs.last: a
// later run, or a later record of the same run.
func (vs *values) newer(at time.Time, id string) bool {
	if c := at.Compare(vs.lastAt); c != 0 {
		return c > 0
	}
	return id >= vs.lastID
}

func (vs *values) merge(o *values) {
	vs.xs = append(vs.xs, o.xs...)
	if o.lastAt.After(vs.lastAt) || (o.lastAt.Equal(vs.lastAt) && o.lastID > vs.lastID) {
		vs.last, vs.lastAt, vs.lastID = o.last, o.lastAt, o.lastID
	}
}

func (g *group) mergeData(o *group) {
	for k, vs := range o.data {
		if g.data == nil {
			g.data = make(map[string]*values)
		}
		if mine := g.data[k]; mine != nil {
			mine.merge(vs)
		} else {
			g.data[k] = vs
		}
	}
}

// metrics returns g's metrics by key. The mean is summed in sorted order,
// so that it does not depend on the order the runs were added in.
func (g *group) metrics() []Metric {
	if len(g.data) == 0 {
		return nil
	}
	out := make([]Metric, 0, len(g.data))
	for k, vs := range g.data {
		slices.Sort(vs.xs)
		sum := 0.0
		for _, x := range vs.xs {
			sum += x
		}
		out = append(out, Metric{
			Key: k, Count: len(vs.xs), Mean: sum / float64(len(vs.xs)),
			Min: vs.xs[0], P50: sortedPercentile(vs.xs, 50), Max: vs.xs[len(vs.xs)-1], Last: vs.last,
		})
	}
	slices.SortFunc(out, func(a, b Metric) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

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
		vs := g.data.get(k)
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
	for i := range o.data.kv {
		kv := &o.data.kv[i]
		if mine := g.data.find(kv.key); mine != nil {
			mine.merge(&kv.values)
		} else {
			g.data.add(kv.key, kv.values)
		}
	}
}

// keyedValues are a stage path's values by data key, in the order first
// seen: a slice searched in order for the few keys a stage records, with
// an index past indexFrom keys (a map for each of 100,000 stage paths
// cost more than the rest of the path's summary).
type keyedValues struct {
	kv    []keyValues
	index map[string]int // into kv, once it has more than indexFrom keys
}

type keyValues struct {
	key string
	values
}

const indexFrom = 8

// find returns the values of key, nil when there are none.
func (d *keyedValues) find(key string) *values {
	if d.index != nil {
		if i, ok := d.index[key]; ok {
			return &d.kv[i].values
		}
		return nil
	}
	for i := range d.kv {
		if d.kv[i].key == key {
			return &d.kv[i].values
		}
	}
	return nil
}

// get returns the values of key, added empty when there are none.
func (d *keyedValues) get(key string) *values {
	if vs := d.find(key); vs != nil {
		return vs
	}
	return d.add(key, values{})
}

// add adds key, which d does not have, with vs, and returns its values.
func (d *keyedValues) add(key string, vs values) *values {
	d.kv = append(d.kv, keyValues{key, vs})
	switch {
	case d.index != nil:
		d.index[key] = len(d.kv) - 1
	case len(d.kv) > indexFrom:
		d.index = make(map[string]int, len(d.kv))
		for i := range d.kv {
			d.index[d.kv[i].key] = i
		}
	}
	return &d.kv[len(d.kv)-1].values
}

// metrics returns g's metrics by key. The mean is summed in sorted order,
// so that it does not depend on the order the runs were added in.
func (g *group) metrics() []Metric {
	if len(g.data.kv) == 0 {
		return nil
	}
	out := make([]Metric, 0, len(g.data.kv))
	for i := range g.data.kv {
		k, vs := g.data.kv[i].key, &g.data.kv[i].values
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

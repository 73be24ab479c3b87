// Package rundiff compares two runs: the values that changed (each stage's
// data, the run's parameters, its provenance), and stage by stage which
// stages got slower or faster, whose status changed and which stages only
// one run has. Compare is a pure function; its result is what `stagetrack
// diff --json` prints.
//
// Compare is safe for concurrent use.
package rundiff

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Presence values of StageDiff.Presence.
const (
	Both  = "both"
	OnlyA = "only_a"
	OnlyB = "only_b"
)

// Diff is the comparison of run A with run B. It is a plain value, safe to
// read from several goroutines.
type Diff struct {
	A RunInfo `json:"a"`
	B RunInfo `json:"b"`
	// Params are the parameters (the run's args, flattened to dotted keys)
	// that differ, in key order; a single one with Key "args" when args
	// is not an object in both runs.
	Params []Value `json:"params,omitempty"`
	// Provenance are the fields of the runs' provenance (commit, dirty,
	// tool versions…, flattened to dotted keys) that differ, in key order.
	Provenance []Value     `json:"provenance,omitempty"`
	Total      Change      `json:"total"` // the runs' total durations
	Stages     []StageDiff `json:"stages"`
}

// RunInfo identifies one side of a comparison.
type RunInfo struct {
	File        string    `json:"file,omitempty"`
	RunID       string    `json:"run_id"`
	Name        string    `json:"name,omitempty"`
	Status      string    `json:"status"`
	StartTime   time.Time `json:"start_time"`
	DurationSec float64   `json:"duration_sec"`
}

// Change is how a duration changed from A to B.
type Change struct {
	ASec     *float64 `json:"a_sec"`     // null when the stage is only in B, or its duration in A is unknown
	BSec     *float64 `json:"b_sec"`     // null when the stage is only in A, or its duration in B is unknown
	DeltaSec *float64 `json:"delta_sec"` // B - A; null unless in both
	// DeltaPct is the change relative to A, in percent rounded to 0.01;
	// null unless in both, and when A's duration is zero.
	DeltaPct *float64 `json:"delta_pct"`
}

// StageDiff is one stage, matched by its key path ("train/epoch#1"): the
// same key at the same place in the tree of both runs. A repeated name's
// last attempt has the plain key, so the attempts that decided a stage are
// matched with each other, however many retries each run took.
type StageDiff struct {
	Key      string `json:"key"` // key path from the top, joined by "/"
	Depth    int    `json:"depth"`
	Presence string `json:"presence"` // Both, OnlyA or OnlyB
	Change
	StatusA       string    `json:"status_a,omitempty"`
	StatusB       string    `json:"status_b,omitempty"`
	StatusChanged bool      `json:"status_changed"`
	ErrorA        string    `json:"error_a,omitempty"`
	ErrorB        string    `json:"error_b,omitempty"`
	Data          *DataDiff `json:"data,omitempty"` // nil when the data is equal or the stage is in one run only
	// Provenance are the stage's inputs, outputs and tool versions that
	// differ: "inputs[data.csv].sha256", "tools.python".
	Provenance []Value `json:"provenance,omitempty"`
}

// DataDiff lists the top-level keys of a stage's data that differ, and the
// values. When the data is not an object (nor null) in both runs (a list,
// a number), ValueChanged says it differs.
type DataDiff struct {
	Added        []string `json:"added,omitempty"`
	Removed      []string `json:"removed,omitempty"`
	Changed      []string `json:"changed,omitempty"`
	ValueChanged bool     `json:"value_changed,omitempty"`
	// Values are the values that differ, flattened to dotted keys
	// ("metrics.top1"), in key order; one with Key "" when the data is not
	// an object in both runs.
	Values []Value `json:"values,omitempty"`
}

// Keys returns how many keys differ (1 for a changed non-object value).
func (d *DataDiff) Keys() int {
	if d == nil {
		return 0
	}
	n := len(d.Added) + len(d.Removed) + len(d.Changed)
	if d.ValueChanged {
		n++
	}
	return n
}

// Compare compares run a with run b. Stages come in a's order; a stage
// only in b comes right after the stage that precedes it in b (or first).
// Its time is linear in the number of stages.
func Compare(a, b *runfile.Run, opts ...Option) Diff {
	var c config
	for _, o := range opts {
		o.apply(&c)
	}
	aRows, bRows := runtree.Flatten(a), runtree.Flatten(b)
	d := Diff{
		A:      info(a, aRows),
		B:      info(b, bRows),
		Params: compareValues(a.Args, b.Args, "args"),
		Total:  change(ptr(runtree.Duration(a, aRows).Seconds()), ptr(runtree.Duration(b, bRows).Seconds())),
	}
	if c.prov {
		d.Provenance = compareValues(c.provA.Run, c.provB.Run, "provenance")
	}

	// Match the rows by key path with one map: first maps each row of a
	// to the first row of a with its key (key paths are unique in a run
	// its writers wrote, but a file may repeat one), bOf each first row of
	// a to the last row of b with its key (-1: none).
	aIndex := make(map[string]int, len(aRows))
	first := make([]int, len(aRows))
	bOf := make([]int, len(aRows))
	for i := range aRows {
		first[i], bOf[i] = i, -1
		if j, dup := aIndex[aRows[i].KeyPath]; dup {
			first[i] = j
			continue
		}
		aIndex[aRows[i].KeyPath] = i
	}
	// A run of b's stages that a lacks goes right after the stage of a
	// that b showed last before it (anchor 0 is before a's first stage).
	// A later run after the same stage goes closer to it than an earlier
	// one, which only a key repeated in b can make happen.
	groups := make([][][]int, len(aRows)+1) // by anchor
	anchor, open, onlyInB := 0, false, 0
	for i := range bRows {
		if ai, shared := aIndex[bRows[i].KeyPath]; shared {
			bOf[ai] = i
			anchor, open = ai+1, false
			continue
		}
		onlyInB++
		g := groups[anchor]
		if !open {
			g, open = append(g, nil), true
		}
		g[len(g)-1] = append(g[len(g)-1], i)
		groups[anchor] = g
	}
	out := make([]StageDiff, 0, len(aRows)+onlyInB)
	var sc scratch
	onlyB := func(anchor int) {
		g := groups[anchor]
		for j := len(g) - 1; j >= 0; j-- {
			for _, bi := range g[j] {
				out = append(out, stageDiff(nil, &bRows[bi], &sc))
			}
		}
	}
	onlyB(0)
	for i := range aRows {
		var br *runtree.Row
		if bi := bOf[first[i]]; bi >= 0 {
			br = &bRows[bi]
		}
		out = append(out, stageDiff(&aRows[i], br, &sc))
		onlyB(i + 1)
	}
	if c.prov && (len(c.provA.Stages) > 0 || len(c.provB.Stages) > 0) {
		for i := range out {
			k := out[i].Key
			if out[i].Presence == Both {
				out[i].Provenance = compareStage(c.provA.Stages[k], c.provB.Stages[k])
			}
		}
	}
	d.Stages = out
	return d
}

func info(r *runfile.Run, rows []runtree.Row) RunInfo {
	return RunInfo{
		RunID:       r.RunID,
		Name:        r.Name,
		Status:      runtree.RunStatus(r),
		StartTime:   r.StartTime,
		DurationSec: runtree.Duration(r, rows).Seconds(),
	}
}

func stageDiff(a, b *runtree.Row, sc *scratch) StageDiff {
	var s StageDiff
	var ad, bd *float64
	switch {
	case a != nil && b != nil:
		s.Presence = Both
	case a != nil:
		s.Presence = OnlyA
	default:
		s.Presence = OnlyB
	}
	if a != nil {
		s.Key, s.Depth = a.KeyPath, a.Depth
		s.StatusA, s.ErrorA = a.Status, a.Stage.Error
		ad = stageSec(a.Stage)
	}
	if b != nil {
		s.Key, s.Depth = b.KeyPath, b.Depth
		s.StatusB, s.ErrorB = b.Status, b.Stage.Error
		bd = stageSec(b.Stage)
	}
	s.Change = change(ad, bd)
	s.StatusChanged = a != nil && b != nil && s.StatusA != s.StatusB
	if a != nil && b != nil {
		s.Data = compareData(a.Stage.Data, b.Stage.Data, sc)
	}
	return s
}

func ptr(f float64) *float64 { return &f }

// stageSec is the stage's duration, nil when it is unknown (the Python
// tool's null duration_sec with no end_time): never 0.
func stageSec(st *runfile.Stage) *float64 {
	if st.DurationUnknown {
		return nil
	}
	return ptr(st.DurationSec)
}

func change(a, b *float64) Change {
	c := Change{ASec: a, BSec: b}
	if a != nil && b != nil {
		// Round to the run file's precision, so 0.3-0.2 prints as 0.1.
		c.DeltaSec = ptr(roundMicro(*b - *a))
		if *a != 0 {
			c.DeltaPct = ptr(math.Round((*b-*a) / *a * 100 * 100) / 100) // to 0.01%
		}
	}
	return c
}

func roundMicro(f float64) float64 {
	return float64(time.Duration(f*float64(time.Second)).Round(time.Microsecond)) / float64(time.Second)
}

// scratch holds what compareData reuses from one stage to the next: the
// leaves and top-level keys it works on are not kept (the Values copy what
// they need), so a comparison of 100,000 stages allocates them once.
type scratch struct {
	a, b         []leaf
	at, bt, tops []string
}

// compareData compares two data values: key by key (flattened to dotted
// keys) when both are objects, or null, as whole values otherwise. Numbers
// compare by value (1.0 equals 1).
func compareData(a, b json.RawMessage, sc *scratch) *DataDiff {
	if bytes.Equal(a, b) {
		return nil
	}
	al, aObj, aok := flattenInto(sc.a, a)
	bl, bObj, bok := flattenInto(sc.b, b)
	sc.a, sc.b = al, bl
	if !aok || !bok || !aObj || !bObj {
		vs := compareValues(a, b, "")
		if len(vs) == 0 {
			return nil
		}
		return &DataDiff{ValueChanged: true, Values: vs}
	}
	vs := diffLeaves(al, bl)
	if len(vs) == 0 {
		return nil
	}
	d := &DataDiff{Values: vs}
	changed := sc.tops[:0]
	for _, v := range vs {
		changed = append(changed, v.top)
	}
	changed = sortedSet(changed)
	at, bt := tops(sc.at, al), tops(sc.bt, bl)
	sc.tops, sc.at, sc.bt = changed, at, bt
	i, j := 0, 0
	for i < len(at) || j < len(bt) {
		switch {
		case j == len(bt) || i < len(at) && at[i] < bt[j]:
			d.Removed = append(d.Removed, at[i])
			i++
		case i == len(at) || bt[j] < at[i]:
			d.Added = append(d.Added, bt[j])
			j++
		default:
			if _, found := slices.BinarySearch(changed, at[i]); found {
				d.Changed = append(d.Changed, at[i])
			}
			i++
			j++
		}
	}
	return d
}

// tops are the top-level keys of leaves, sorted, each once, in dst's room.
func tops(dst []string, leaves []leaf) []string {
	t := dst[:0]
	for _, l := range leaves {
		t = append(t, l.top)
	}
	return sortedSet(t)
}

func sortedSet(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

func decode(b json.RawMessage) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func equal(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		bn, ok := b.(json.Number)
		if !ok {
			return false
		}
		if a == bn {
			return true
		}
		af, aerr := a.Float64()
		bf, berr := bn.Float64()
		return aerr == nil && berr == nil && af == bf
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			bv, ok := bm[k]
			if !ok || !equal(v, bv) {
				return false
			}
		}
		return true
	case []any:
		bs, ok := b.([]any)
		if !ok || len(a) != len(bs) {
			return false
		}
		for i := range a {
			if !equal(a[i], bs[i]) {
				return false
			}
		}
		return true
	default: // string, bool, nil
		return a == b
	}
}

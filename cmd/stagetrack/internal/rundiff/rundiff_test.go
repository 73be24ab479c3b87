package rundiff_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/rundiff"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// run builds a run from "key=seconds" stages; a "/" nests a stage under the
// one before it at the level above.
func run(t *testing.T, stages ...string) *runfile.Run {
	t.Helper()
	r := &runfile.Run{RunID: "r", Status: runfile.StatusOK}
	for _, s := range stages {
		k, sec, _ := strings.Cut(s, "=")
		var d float64
		if err := json.Unmarshal([]byte(sec), &d); err != nil {
			t.Fatal(err)
		}
		st := runfile.Stage{Key: k, DurationSec: d, Status: runfile.StageOK}
		if parent, child, nested := strings.Cut(k, "/"); nested {
			st.Key = child
			for i := range r.Stages {
				if r.Stages[i].Key == parent {
					r.Stages[i].Stages = append(r.Stages[i].Stages, st)
				}
			}
			continue
		}
		r.Stages = append(r.Stages, st)
	}
	return r
}

func keys(d rundiff.Diff) string {
	var ks []string
	for _, s := range d.Stages {
		ks = append(ks, s.Key+":"+s.Presence)
	}
	return strings.Join(ks, " ")
}

func TestCompareOrder(t *testing.T) {
	cases := []struct {
		name string
		a, b []string
		want string
	}{
		{"same", []string{"x=1", "y=1"}, []string{"x=1", "y=1"}, "x:both y:both"},
		{"added at the start", []string{"x=1"}, []string{"w=1", "x=1"}, "w:only_b x:both"},
		{"added in the middle", []string{"x=1", "z=1"}, []string{"x=1", "y=1", "z=1"}, "x:both y:only_b z:both"},
		{"removed", []string{"x=1", "y=1", "z=1"}, []string{"x=1", "z=1"}, "x:both y:only_a z:both"},
		{"replaced", []string{"x=1", "y=1"}, []string{"x=1", "q=1"}, "x:both q:only_b y:only_a"},
		{"nested added", []string{"t=1", "t/e=1"}, []string{"t=1", "t/e=1", "t/e#2=1"}, "t:both t/e:both t/e#2:only_b"},
		// B retried e: its last attempt keeps the key, so it is the one
		// compared with A's e; the failed attempt is B's alone.
		{"retried in B", []string{"t=1", "t/e=1"}, []string{"t=1", "t/e#1=1", "t/e=1"}, "t:both t/e#1:only_b t/e:both"},
		{"nothing in common", []string{"a=1"}, []string{"b=1"}, "b:only_b a:only_a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := keys(rundiff.Compare(run(t, c.a...), run(t, c.b...))); got != c.want {
				t.Errorf("order %q, want %q", got, c.want)
			}
		})
	}
}

func TestCompareDurations(t *testing.T) {
	d := rundiff.Compare(run(t, "x=2", "z=0", "gone=1"), run(t, "x=3", "z=1", "new=1"))
	x, z := d.Stages[0], d.Stages[1]
	if *x.DeltaSec != 1 || *x.DeltaPct != 50 {
		t.Errorf("x: %+v, want +1s, +50%%", x.Change)
	}
	if *z.DeltaSec != 1 || z.DeltaPct != nil {
		t.Errorf("z from 0s: delta_pct %v, want null", z.DeltaPct)
	}
	for _, s := range d.Stages[2:] {
		if s.DeltaSec != nil || s.DeltaPct != nil || (s.ASec == nil) == (s.BSec == nil) {
			t.Errorf("%s (%s): %+v, want one side only and no delta", s.Key, s.Presence, s.Change)
		}
	}
}

func TestCompareData(t *testing.T) {
	cases := []struct {
		name string
		a, b string
		want string // JSON of the DataDiff; "null" for equal
	}{
		{"equal", `{"a":1}`, `{"a":1}`, `null`},
		{"numbers by value", `{"a":1,"b":[1.0]}`, `{"a":1.0,"b":[1]}`, `null`},
		{"key order does not matter", `{"a":1,"b":2}`, `{"b":2,"a":1}`, `null`},
		{"added, removed, changed", `{"keep":1,"gone":1,"chg":{"x":1}}`, `{"keep":1,"new":true,"chg":{"x":2}}`,
			`{"added":["new"],"removed":["gone"],"changed":["chg"],"values":[{"key":"chg.x","a":1,"b":2,"delta":1,"delta_pct":100},{"key":"gone","a":1},{"key":"new","b":true}]}`},
		{"both null", ``, ``, `null`},
		{"null is no keys", ``, `{"a":1}`, `{"added":["a"],"values":[{"key":"a","b":1}]}`},
		{"list changed", `[1,2]`, `[1,3]`, `{"value_changed":true,"values":[{"key":"","a":[1,2],"b":[1,3]}]}`},
		{"string vs number", `{"a":"1"}`, `{"a":1}`, `{"changed":["a"],"values":[{"key":"a","a":"1","b":1}]}`},
		{"accuracy fell", `{"accuracy":0.91}`, `{"accuracy":0.85}`,
			`{"changed":["accuracy"],"values":[{"key":"accuracy","a":0.91,"b":0.85,"delta":-0.06,"delta_pct":-6.59}]}`},
		{"from zero has no percent", `{"n":0}`, `{"n":-2}`, `{"changed":["n"],"values":[{"key":"n","a":0,"b":-2,"delta":-2}]}`},
		{"nested and laid out", "{\n \"m\": {\"top1\": 0.5, \"l\": [1, 2]}}", `{"m":{"l":[1,2],"top1":0.75}}`,
			`{"changed":["m"],"values":[{"key":"m.top1","a":0.5,"b":0.75,"delta":0.25,"delta_pct":50}]}`},
		{"escaped string is the same", `{"s":"\u0041"}`, `{"s":"A"}`, `null`},
		{"empty object to a value", `{"o":{}}`, `{"o":{"x":1}}`, `{"changed":["o"],"values":[{"key":"o","a":{}},{"key":"o.x","b":1}]}`},
		{"hostile key", `{"a\"b":1}`, `{"a\"b":2}`, `{"changed":["a\"b"],"values":[{"key":"a\"b","a":1,"b":2,"delta":1,"delta_pct":100}]}`},
		{"not JSON", `{"a":`, `{"a":1}`, `{"value_changed":true,"values":[{"key":"","a":"{\"a\":","b":{"a":1}}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := run(t, "s=1"), run(t, "s=1")
			a.Stages[0].Data, b.Stages[0].Data = json.RawMessage(c.a), json.RawMessage(c.b)
			got, err := json.Marshal(rundiff.Compare(a, b).Stages[0].Data)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("data diff %s, want %s", got, c.want)
			}
		})
	}
}

func TestCompareStatus(t *testing.T) {
	a, b := run(t, "s=1", "p=1"), run(t, "s=1", "p=1")
	b.Stages[0].Status, b.Stages[0].Error = runfile.StageError, "boom"
	b.Stages[1].Status = "" // a Python file: status from the error
	b.Status = runfile.StatusFailed
	d := rundiff.Compare(a, b)
	s := d.Stages[0]
	if !s.StatusChanged || s.StatusA != "ok" || s.StatusB != "error" || s.ErrorB != "boom" {
		t.Errorf("status change not reported: %+v", s)
	}
	if d.Stages[1].StatusChanged {
		t.Errorf("a stage without status and error read as changed: %+v", d.Stages[1])
	}
	if d.A.Status != "ok" || d.B.Status != "failed" {
		t.Errorf("run statuses %q -> %q", d.A.Status, d.B.Status)
	}
}

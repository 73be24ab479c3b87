package rundiff

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/flatjson"
)

// Value is one value that differs between the runs: a data key of a
// stage, a parameter (a key of the run's args) or a provenance field.
// Nested objects are flattened to dotted keys ("metrics.top1"); a list is
// one value.
type Value struct {
	// Key is the dotted path of the value in its object; "" when the
	// whole value is not an object (a stage's data that is a list).
	Key string `json:"key"`
	// A and B are the values as compact JSON; absent (not null) when the
	// key is in one run only.
	A json.RawMessage `json:"a,omitempty"`
	B json.RawMessage `json:"b,omitempty"`
	// Delta is B - A when both are numbers, rounded to 12 significant
	// digits (so 0.85 - 0.91 is -0.06).
	Delta *float64 `json:"delta,omitempty"`
	// DeltaPct is Delta relative to |A| in percent, rounded to 0.01; absent
	// unless both are numbers and A is not 0.
	DeltaPct *float64 `json:"delta_pct,omitempty"`

	top string // the top-level key Key is under
}

// leaf is one value of a flattened JSON object: its dotted key, its
// top-level key, and its bytes as they are in the run file.
type leaf struct {
	key, top string
	raw      []byte
}

// flatten splits a JSON object into its leaves (flatjson.Scan's: every
// value that is not a non-empty object, under its dotted key), sorted by
// key. isObj is false when b is not an object (nor empty or null, which are
// taken as {}); ok is false when b is not whole JSON as far as flatten
// reads it.
func flatten(b []byte) (leaves []leaf, isObj, ok bool) {
	return flattenInto(nil, b)
}

// flattenInto is flatten appending to dst[:0], whose room it reuses.
func flattenInto(dst []leaf, b []byte) (leaves []leaf, isObj, ok bool) {
	leaves = dst[:0]
	isObj, ok = flatjson.Scan(b, func(key, top string, v []byte) {
		leaves = append(leaves, leaf{key, top, v})
	})
	if !isObj || !ok {
		return leaves[:0], isObj, ok
	}
	if len(leaves) > 1 {
		slices.SortStableFunc(leaves, func(x, y leaf) int { return strings.Compare(x.key, y.key) })
	}
	return leaves, true, true
}

// diffLeaves lists the leaves that differ between two sorted lists, in key
// order.
func diffLeaves(a, b []leaf) []Value {
	var out []Value
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].key < b[j].key:
			out = append(out, Value{Key: a[i].key, A: compact(a[i].raw), top: a[i].top})
			i++
		case i == len(a) || b[j].key < a[i].key:
			out = append(out, Value{Key: b[j].key, B: compact(b[j].raw), top: b[j].top})
			j++
		default:
			if !sameRaw(a[i].raw, b[j].raw) {
				v := valueChange(a[i].key, a[i].raw, b[j].raw)
				v.top = a[i].top
				out = append(out, v)
			}
			i++
			j++
		}
	}
	return out
}

// valueChange is the Value for a key whose value differs, with the
// change when both are numbers.
func valueChange(key string, a, b []byte) Value {
	v := Value{Key: key, A: compact(a), B: compact(b)}
	af, aok := flatjson.Number(a)
	bf, bok := flatjson.Number(b)
	if aok && bok {
		v.Delta = ptr(round12(bf - af))
		if af != 0 {
			v.DeltaPct = ptr(math.Round((bf-af)/math.Abs(af)*100*100) / 100)
		}
	}
	return v
}

func round12(f float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
	if err != nil {
		return f
	}
	return r
}

// sameRaw reports whether two JSON values are equal: the same bytes, or the
// same number (1.0 and 1), or the same decoded value (an escaped string, a
// list laid out differently).
func sameRaw(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	if af, ok := flatjson.Number(a); ok {
		bf, ok := flatjson.Number(b)
		return ok && af == bf
	}
	av, aerr := decode(a)
	bv, berr := decode(b)
	return aerr == nil && berr == nil && equal(av, bv)
}

// compact is raw without insignificant white space; bytes that are not
// JSON become a JSON string of them.
func compact(raw []byte) json.RawMessage {
	if !json.Valid(raw) {
		s, _ := json.Marshal(string(raw))
		return s
	}
	if !bytes.ContainsAny(raw, " \t\r\n") {
		return json.RawMessage(raw)
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return json.RawMessage(raw)
	}
	return buf.Bytes()
}

// compareValues compares two JSON values key by key (flattened) when both
// are objects, else as whole values under the key whole.
func compareValues(a, b []byte, whole string) []Value {
	al, aObj, aok := flatten(a)
	bl, bObj, bok := flatten(b)
	if aok && bok && aObj && bObj {
		return diffLeaves(al, bl)
	}
	if bytes.Equal(a, b) || aok && bok && sameRaw(orNull(a), orNull(b)) {
		return nil
	}
	return []Value{{Key: whole, A: compact(orNull(a)), B: compact(orNull(b))}}
}

func orNull(b []byte) []byte {
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("null")
	}
	return b
}

// Field is one value of a JSON object flattened to dotted keys.
type Field struct {
	Key   string          // dotted path; "" for a value that is not an object
	Value json.RawMessage // compact JSON
}

// Fields flattens a JSON value as Compare does: an object's values under
// dotted keys ("metrics.top1"), sorted by key (an empty object inside is a
// value, a list is one value); a value that is not an object is one field
// with Key ""; null or nothing has none.
func Fields(raw []byte) []Field {
	leaves, isObj, ok := flatten(raw)
	if !ok || !isObj {
		return []Field{{Value: compact(raw)}}
	}
	out := make([]Field, len(leaves))
	for i, l := range leaves {
		out[i] = Field{l.key, compact(l.raw)}
	}
	return out
}

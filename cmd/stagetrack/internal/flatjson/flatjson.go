// Package flatjson flattens a JSON object into dotted keys and their
// values, the way stagetrack shows a stage's data and a run's parameters
// (its args): {"opt":{"lr":0.1},"seed":3} is opt.lr=0.1 and seed=3.
// Objects are walked; every other value (a string, a number, an array,
// true, false, null) is a leaf, kept as the JSON text the file has.
//
// It reads the bytes directly, without decoding into maps, because stats
// and report flatten the data of every stage of thousands of runs.
//
// Its functions are pure and safe for concurrent use.
package flatjson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stage-tracker/stage-tracker/internal/jsonscan"
)

// Field is one leaf of a flattened object.
type Field struct {
	Key   string // the keys from the top, joined by "."
	Value []byte // the leaf's JSON text, whitespace around it removed; shares the input's memory
}

// Flatten returns the leaves of the JSON value raw in file order. A value
// that is not an object is one field with the key "" (a run's args may be
// a list). Empty for no value or null. JSON that is not valid gives the
// leaves read before the fault: callers pass values from files they have
// decoded, so that is a bug elsewhere, not a reason to fail.
func Flatten(raw []byte) []Field {
	var out []Field
	Walk(raw, func(k string, v []byte) { out = append(out, Field{k, v}) })
	return out
}

// Walk calls fn for each leaf of raw, as Flatten returns them, without
// collecting them.
func Walk(raw []byte, fn func(key string, value []byte)) {
	Scan(raw, func(key, _ string, value []byte) { fn(key, value) })
}

// Scan calls fn for each leaf of raw as Walk does, with the top-level key
// the leaf is under (key itself at the top, "opt" for "opt.lr": a key may
// hold dots of its own, so top is not key cut at the first one). It
// returns what Walk leaves unsaid: whether raw is an object (null and
// nothing are taken as an empty one), and whether it is whole as far as
// the walk reads it (an object that ends, nothing after it). A value that
// is not an object is one leaf, key and top "", and ok.
func Scan(raw []byte, fn func(key, top string, value []byte)) (isObject, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return true, true
	}
	if raw[0] != '{' {
		fn("", "", raw)
		return false, true
	}
	w := walker{b: raw}
	if !w.object("", "", fn) {
		return true, false
	}
	return true, w.i == len(w.b)
}

// walker reads b at i. The callback is an argument of object, not a
// field: a field would make it escape to the heap, a closure allocated at
// every call of Walk.
type walker struct {
	b []byte
	i int
}

func (w *walker) ws() { w.i = jsonscan.Space(w.b, w.i) }

// object reads the object at i, calling fn for its leaves under prefix
// (and top, the top-level key prefix is under).
func (w *walker) object(prefix, top string, fn func(key, top string, value []byte)) bool {
	w.i++ // {
	w.ws()
	if w.i < len(w.b) && w.b[w.i] == '}' {
		w.i++
		return true
	}
	for {
		w.ws()
		raw, ok := w.str()
		if !ok {
			return false
		}
		key, t := unquote(raw), top
		if prefix != "" {
			key = prefix + "." + key
		} else {
			t = key
		}
		w.ws()
		if w.i >= len(w.b) || w.b[w.i] != ':' {
			return false
		}
		w.i++
		w.ws()
		if w.i < len(w.b) && w.b[w.i] == '{' && !w.emptyObject() {
			if !w.object(key, t, fn) {
				return false
			}
		} else {
			start := w.i
			if !w.skip() {
				return false
			}
			fn(key, t, w.b[start:w.i])
		}
		w.ws()
		if w.i >= len(w.b) {
			return false
		}
		switch w.b[w.i] {
		case ',':
			w.i++
		case '}':
			w.i++
			return true
		default:
			return false
		}
	}
}

// emptyObject reports whether the object at i is {}: a leaf, shown as it is.
func (w *walker) emptyObject() bool {
	j := jsonscan.Space(w.b, w.i+1)
	return j < len(w.b) && w.b[j] == '}'
}

// str consumes a string at i and returns it with its quotes.
func (w *walker) str() ([]byte, bool) {
	end := jsonscan.StringEnd(w.b, w.i)
	if end < 0 {
		return nil, false
	}
	raw := w.b[w.i:end]
	w.i = end
	return raw, true
}

// skip consumes one value at i.
func (w *walker) skip() bool {
	end := jsonscan.ValueEnd(w.b, w.i)
	if end < 0 {
		return false
	}
	w.i = end
	return true
}

func unquote(raw []byte) string {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body)
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return strings.ToValidUTF8(string(body), "\uFFFD")
	}
	return s
}

// Number returns the leaf v as a number, when it is a JSON number that a
// float64 holds (not a string, however numeric it looks).
func Number(v []byte) (float64, bool) {
	d := v
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || d[0] < '0' || d[0] > '9' { // not Inf or NaN, which ParseFloat takes
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}

// Text returns the leaf v as a person reads it: a string without its
// quotes, anything else as its JSON text.
func Text(v []byte) string {
	if len(v) > 0 && v[0] == '"' {
		return unquote(v)
	}
	return string(v)
}

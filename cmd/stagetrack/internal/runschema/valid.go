package runschema

import (
	"encoding/json"
	"math/big"
	"slices"
	"unicode/utf8"

	"github.com/stage-tracker/stage-tracker/internal/jsonscan"
)

// Valid reports whether the JSON document doc has no problem: Validate
// would return none. It checks the bytes as it reads them, once, building
// no tree of values, so it costs a fraction of Validate; false says only
// that Validate may find something (or that doc holds what Valid leaves to
// Validate, such as a key repeated in an object), and the caller then asks
// Validate what. doc must be valid JSON (json.Valid); for anything else
// Valid's answer means nothing.
func (s *Schema) Valid(doc []byte) bool {
	w := walker{b: doc}
	w.ws()
	if !s.root.validAt(&w) {
		return false
	}
	w.ws()
	return w.i == len(doc)
}

// own reports whether n has keywords of its own besides a $ref.
func (n *node) own() bool {
	return n.types != nil || n.required != nil || n.properties != nil || n.additional != nil || n.items != nil ||
		n.minItems >= 0 || n.pattern != nil || n.enum != nil || n.hasConst || n.minimum != nil
}

// validAt consumes the value at w and reports whether it is valid by n, as
// check with no problem would, stopping at the first problem.
func (n *node) validAt(w *walker) bool {
	if w.i >= len(w.b) {
		return false
	}
	if n.target != nil {
		start := w.i
		if !n.target.validAt(w) {
			return false
		}
		if !n.own() {
			return true
		}
		w.i = start // and again by n's own keywords
	}
	start := w.i
	t := rawType(w.b[w.i])
	switch t {
	case "object":
		return n.validObject(w)
	case "array":
		return n.validArray(w)
	}
	if !w.skip() {
		return false
	}
	raw := w.b[start:w.i]
	if n.types != nil && !slices.Contains(n.types, t) && (t != "number" || !slices.Contains(n.types, "integer") || !rawInteger(raw)) {
		return false
	}
	if (n.hasConst || n.enum != nil) && !n.validValue(raw) {
		return false
	}
	switch t {
	case "string":
		if n.pattern == nil {
			return true
		}
		if body := raw[1 : len(raw)-1]; plain(body) {
			return n.pattern.Match(body)
		}
		var s string
		return json.Unmarshal(raw, &s) == nil && n.pattern.MatchString(s)
	case "number":
		return n.minimum == nil || atLeast(raw, n.minimum)
	}
	return true
}

// validValue checks const and enum. A plain string, what the run file's
// enums hold, is compared as it is; anything else as Validate compares it.
func (n *node) validValue(raw []byte) bool {
	if raw[0] == '"' && plain(raw[1:len(raw)-1]) && !n.hasConst {
		body := raw[1 : len(raw)-1]
		return slices.ContainsFunc(n.enum, func(e any) bool { s, ok := e.(string); return ok && s == string(body) })
	}
	var v any
	if unmarshal(raw, &v) != nil {
		return false
	}
	if n.hasConst && !equal(v, n.constant) {
		return false
	}
	return n.enum == nil || slices.ContainsFunc(n.enum, func(e any) bool { return equal(v, e) })
}

// typeless is what an object or array leaves to Validate: a type, const or
// enum keyword (wrong type, or a value to compare whole).
func (n *node) typeless(t string) bool {
	return (n.types == nil || slices.Contains(n.types, t)) && !n.hasConst && n.enum == nil
}

func (n *node) validObject(w *walker) bool {
	if !n.typeless("object") || len(n.required) > 64 {
		return false
	}
	var have uint64
	w.i++ // {
	if !w.next('}') {
		for {
			w.ws()
			k := w.i
			if !w.str() {
				return false
			}
			key := w.b[k+1 : w.i-1]
			if !w.next(':') || !plain(key) { // an escape or beyond ASCII: Validate decodes it
				return false
			}
			if i := slices.Index(n.required, string(key)); i >= 0 {
				if have&(1<<i) != 0 {
					return false // a repeated key: Validate sees only the last
				}
				have |= 1 << i
			}
			w.ws()
			child := n.additional
			if p, ok := n.properties[string(key)]; ok {
				child = p
			}
			if child == nil {
				if !w.skip() {
					return false
				}
			} else if !child.validAt(w) {
				return false
			}
			if w.next('}') {
				break
			}
			if !w.next(',') {
				return false
			}
		}
	}
	return have == 1<<len(n.required)-1
}

func (n *node) validArray(w *walker) bool {
	if !n.typeless("array") {
		return false
	}
	w.i++ // [
	count := 0
	if !w.next(']') {
		for {
			w.ws()
			count++
			if n.items == nil {
				if !w.skip() {
					return false
				}
			} else if !n.items.validAt(w) {
				return false
			}
			if w.next(']') {
				break
			}
			if !w.next(',') {
				return false
			}
		}
	}
	return n.minItems < 0 || count >= n.minItems
}

// rawType is the JSON type of the valid value that starts with c, as
// typeOf names it.
func rawType(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// rawInteger reports whether the number raw is an integer: digits alone
// are; anything else (1.0, 1e2) as Validate decides it.
func rawInteger(raw []byte) bool {
	if digits(raw) {
		return true
	}
	r, ok := new(big.Rat).SetString(string(raw))
	return ok && r.IsInt()
}

// atLeast reports whether the number raw is at least min, exactly.
func atLeast(raw []byte, min *big.Rat) bool {
	if raw[0] != '-' && min.Sign() <= 0 {
		return true // no sign: not below zero
	}
	r, ok := new(big.Rat).SetString(string(raw))
	return ok && r.Cmp(min) >= 0
}

// digits reports whether raw is an optional minus and decimal digits.
func digits(raw []byte) bool {
	if len(raw) > 0 && raw[0] == '-' {
		raw = raw[1:]
	}
	if len(raw) == 0 {
		return false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// plain reports whether the body of a JSON string is its value as it is:
// printable ASCII without an escape.
func plain(body []byte) bool {
	for _, c := range body {
		if c < 0x20 || c >= utf8.RuneSelf || c == '\\' {
			return false
		}
	}
	return true
}

// walker reads valid JSON from b at i.
type walker struct {
	b []byte
	i int
}

func (w *walker) ws() { w.i = jsonscan.Space(w.b, w.i) }

// next skips white space and consumes c if it comes next.
func (w *walker) next(c byte) bool {
	w.ws()
	if w.i < len(w.b) && w.b[w.i] == c {
		w.i++
		return true
	}
	return false
}

// str consumes a string.
func (w *walker) str() bool {
	end := jsonscan.StringEnd(w.b, w.i)
	if end < 0 {
		return false
	}
	w.i = end
	return true
}

// skip consumes one value.
func (w *walker) skip() bool {
	end := jsonscan.ValueEnd(w.b, w.i)
	if end < 0 {
		return false
	}
	w.i = end
	return true
}

// Package runschema checks JSON documents against the run file's JSON Schema
// (exporter/jsonrun's schema.json), without a general JSON Schema library.
//
// It exists for start-up cost: the library stagetrack validate used
// compiles the meta-schemas of five drafts in its package init, about 4 ms
// of every stagetrack command, though only validate needs a schema. Go runs
// the init of every package linked in, so the library could not stay in
// the program. This package understands the keywords the run file's schema
// uses (type, required, properties, additionalProperties, items, minItems,
// pattern, enum, const, minimum, and $ref to its own $defs) and refuses a
// schema with any other; its problems are the library's error kinds
// (github.com/santhosh-tekuri/jsonschema/v6/kind, a package without init
// work), so messages read as before. A test checks it against the library.
package runschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/message"
)

// Kind is what a Problem found, worded by LocalizedString; the values are
// the kind package's (*kind.Type, *kind.Required, *kind.Pattern, ...).
type Kind interface {
	KeywordPath() []string
	LocalizedString(p *message.Printer) string
}

// Problem is one place where a document breaks the schema.
type Problem struct {
	// Location is the path of the value at fault in the document, as
	// JSON Pointer tokens (unescaped); empty for the top level.
	Location []string
	Kind     Kind
}

// Schema is a compiled schema. It is not modified after Compile and is
// safe for concurrent use.
type Schema struct{ root *node }

type node struct {
	ref        string
	target     *node // what ref names, after Compile
	types      []string
	required   []string
	properties map[string]*node
	additional *node
	items      *node
	minItems   int // -1: none
	pattern    *regexp.Regexp
	enum       []any
	hasConst   bool
	constant   any
	minimum    *big.Rat
}

// annotation tells the keywords that only describe, or that Compile reads
// apart ($defs).
func annotation(k string) bool {
	switch k {
	case "$schema", "$id", "title", "description", "$comment", "$defs":
		return true
	}
	return false
}

// Compile reads a schema. It fails on a keyword this package does not
// implement, and on a $ref other than "#/$defs/NAME".
func Compile(schemaJSON []byte) (*Schema, error) {
	var doc map[string]any
	if err := unmarshal(schemaJSON, &doc); err != nil {
		return nil, fmt.Errorf("runschema: %w", err)
	}
	defs := map[string]*node{}
	var all []*node
	var build func(v any, at string) (*node, error)
	build = func(v any, at string) (*node, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("runschema: %s: a schema must be an object", at)
		}
		n := &node{minItems: -1}
		all = append(all, n)
		for k, kv := range m {
			var err error
			switch k {
			case "$ref":
				n.ref, _ = kv.(string)
			case "type":
				err = n.setTypes(kv)
			case "required":
				for _, r := range asSlice(kv) {
					s, _ := r.(string)
					n.required = append(n.required, s)
				}
			case "properties":
				pm, _ := kv.(map[string]any)
				n.properties = map[string]*node{}
				for name, ps := range pm {
					if n.properties[name], err = build(ps, at+"/properties/"+name); err != nil {
						return nil, err
					}
				}
			case "additionalProperties":
				n.additional, err = build(kv, at+"/additionalProperties")
			case "items":
				n.items, err = build(kv, at+"/items")
			case "minItems":
				var r *big.Rat
				if r, err = number(kv); err == nil {
					n.minItems = int(r.Num().Int64())
				}
			case "pattern":
				s, _ := kv.(string)
				n.pattern, err = regexp.Compile(s)
			case "enum":
				n.enum = asSlice(kv)
			case "const":
				n.hasConst, n.constant = true, kv
			case "minimum":
				n.minimum, err = number(kv)
			default:
				if !annotation(k) {
					err = fmt.Errorf("keyword %q not supported", k)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("runschema: %s: %w", at, err)
			}
		}
		return n, nil
	}
	if dm, ok := doc["$defs"].(map[string]any); ok {
		for name, d := range dm {
			n, err := build(d, "#/$defs/"+name)
			if err != nil {
				return nil, err
			}
			defs[name] = n
		}
	}
	root, err := build(doc, "#")
	if err != nil {
		return nil, err
	}
	for _, n := range all {
		if n.ref == "" {
			continue
		}
		name, ok := strings.CutPrefix(n.ref, "#/$defs/")
		if n.target = defs[name]; !ok || n.target == nil {
			return nil, fmt.Errorf("runschema: $ref %q: not a definition of this schema", n.ref)
		}
	}
	return &Schema{root: root}, nil
}

// canonicalTypes is the order the library lists a type keyword's names in.
func canonicalTypes() []string {
	return []string{"null", "boolean", "number", "integer", "string", "array", "object"}
}

func (n *node) setTypes(v any) error {
	var names []string
	switch t := v.(type) {
	case string:
		names = []string{t}
	case []any:
		for _, x := range t {
			s, _ := x.(string)
			names = append(names, s)
		}
	}
	for _, c := range canonicalTypes() {
		if slices.Contains(names, c) {
			n.types = append(n.types, c)
		}
	}
	if len(n.types) != len(names) {
		return fmt.Errorf("type %v: unknown type name", v)
	}
	return nil
}

// Validate returns the problems of the JSON document doc; none when it is
// valid. The error is for doc that is not JSON.
func (s *Schema) Validate(doc []byte) ([]Problem, error) {
	var v any
	if err := unmarshal(doc, &v); err != nil {
		return nil, err
	}
	var out []Problem
	s.root.check(v, nil, &out)
	return out, nil
}

func (n *node) check(v any, at []string, out *[]Problem) {
	if n.target != nil {
		n.target.check(v, at, out)
	}
	report := func(k Kind) { *out = append(*out, Problem{Location: slices.Clone(at), Kind: k}) }
	t := typeOf(v)
	if n.types != nil && !slices.Contains(n.types, t) && (t != "number" || !slices.Contains(n.types, "integer") || !isInteger(v)) {
		// As the library: a value of the wrong type is not checked further.
		report(&kind.Type{Got: t, Want: n.types})
		return
	}
	if n.hasConst && !equal(v, n.constant) {
		report(&kind.Const{Got: v, Want: n.constant})
	}
	if n.enum != nil && !slices.ContainsFunc(n.enum, func(e any) bool { return equal(v, e) }) {
		report(&kind.Enum{Got: v, Want: n.enum})
	}
	switch v := v.(type) {
	case map[string]any:
		var missing []string
		for _, r := range n.required {
			if _, ok := v[r]; !ok {
				missing = append(missing, r)
			}
		}
		if missing != nil {
			report(&kind.Required{Missing: missing})
		}
		for k, kv := range v {
			switch p, ok := n.properties[k]; {
			case ok:
				p.check(kv, append(at, k), out)
			case n.additional != nil:
				n.additional.check(kv, append(at, k), out)
			}
		}
	case []any:
		if n.minItems >= 0 && len(v) < n.minItems {
			report(&kind.MinItems{Got: len(v), Want: n.minItems})
		}
		if n.items != nil {
			for i, x := range v {
				n.items.check(x, append(at, fmt.Sprint(i)), out)
			}
		}
	case string:
		if n.pattern != nil && !n.pattern.MatchString(v) {
			report(&kind.Pattern{Got: v, Want: n.pattern.String()})
		}
	case json.Number:
		if n.minimum != nil {
			if r, err := number(v); err == nil && r.Cmp(n.minimum) < 0 {
				report(&kind.Minimum{Got: r, Want: n.minimum})
			}
		}
	}
}

func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	default:
		return "object"
	}
}

func isInteger(v any) bool {
	r, err := number(v)
	return err == nil && r.IsInt()
}

func number(v any) (*big.Rat, error) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, errors.New("not a number")
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return nil, fmt.Errorf("number %s out of range", n)
	}
	return r, nil
}

// equal is JSON equality: numbers by value, objects by their members.
func equal(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		ra, err1 := number(a)
		rb, err2 := number(b)
		return err1 == nil && err2 == nil && ra.Cmp(rb) == 0
	case []any:
		bs, ok := b.([]any)
		return ok && slices.EqualFunc(a, bs, equal)
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, av := range a {
			if bv, ok := bm[k]; !ok || !equal(av, bv) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// unmarshal decodes one JSON value keeping numbers exact.
func unmarshal(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err == nil {
		return errors.New("invalid character after top-level value")
	}
	return nil
}

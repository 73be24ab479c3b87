package rundiff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Provenance is what a run was made of, as its run file says: the run's
// "provenance" object (code, command, machine, tools, env) and each
// stage's "inputs", "outputs" and "tools". Compare reads it as plain JSON,
// field by field, so that it needs no type for it and shows any field a
// writer adds. It is a plain value, safe to read from several goroutines.
type Provenance struct {
	Run    json.RawMessage            // the "provenance" object; nil when none
	Stages map[string]StageProvenance // by key path ("train/epoch")
}

// StageProvenance is one stage's part of Provenance.
type StageProvenance struct {
	Inputs, Outputs json.RawMessage // lists of {"path", "size", "mtime", "sha256"}
	Tools           json.RawMessage // {"python": "Python 3.11.2"}
}

// Option changes what Compare compares.
type Option interface{ apply(*config) }

type config struct {
	prov         bool
	provA, provB Provenance
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithProvenance has Compare compare the provenance of the runs too: a's
// and b's, as ParseProvenance reads them from their files.
func WithProvenance(a, b Provenance) Option {
	return optionFunc(func(c *config) { c.prov, c.provA, c.provB = true, a, b })
}

// ParseProvenance reads the provenance of each run in a run file's bytes
// (one run, a JSON array of runs or JSON Lines), in file order. A file that
// names none of the fields is not decoded at all, so a run without
// provenance costs a search of its bytes.
func ParseProvenance(b []byte) ([]Provenance, error) {
	if !MayHoldProvenance(b) {
		return nil, nil
	}
	var raws []rawRun
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &raws); err != nil {
			return nil, fmt.Errorf("read provenance: %w", err)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(b))
		for {
			var r rawRun
			err := dec.Decode(&r)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("read provenance: %w", err)
			}
			raws = append(raws, r)
		}
	}
	out := make([]Provenance, len(raws))
	for i, r := range raws {
		out[i].Run = r.Provenance
		if string(bytes.TrimSpace(r.Provenance)) == "null" {
			out[i].Run = nil
		}
		r.Stages.walk("", func(path string, s *rawStage) {
			if s.Inputs == nil && s.Outputs == nil && s.Tools == nil {
				return
			}
			if out[i].Stages == nil {
				out[i].Stages = map[string]StageProvenance{}
			}
			out[i].Stages[path] = StageProvenance{Inputs: s.Inputs, Outputs: s.Outputs, Tools: s.Tools}
		})
	}
	return out, nil
}

// provenanceKeys are the keys that hold provenance, as they are written.
var provenanceKeys = [][]byte{[]byte(`"provenance"`), []byte(`"inputs"`), []byte(`"outputs"`), []byte(`"tools"`)}

// ProvenanceKeyLen is the length of the longest key MayHoldProvenance
// looks for: a reader that looks at a file in pieces overlaps them by as
// much less one.
const ProvenanceKeyLen = len(`"provenance"`)

// MayHoldProvenance reports whether b, a run file or a piece of one, names
// a key that holds provenance; false means it holds none.
func MayHoldProvenance(b []byte) bool {
	for _, k := range provenanceKeys {
		if bytes.Contains(b, k) {
			return true
		}
	}
	return false
}

type rawRun struct {
	Provenance json.RawMessage `json:"provenance"`
	Stages     rawStages       `json:"stages"`
}

type rawStages map[string]*rawStage

type rawStage struct {
	Inputs  json.RawMessage `json:"inputs"`
	Outputs json.RawMessage `json:"outputs"`
	Tools   json.RawMessage `json:"tools"`
	Stages  rawStages       `json:"stages"`
}

func (s rawStages) walk(prefix string, fn func(path string, s *rawStage)) {
	for k, st := range s {
		if st == nil {
			continue
		}
		path := k
		if prefix != "" {
			path = prefix + "/" + k
		}
		fn(path, st)
		st.Stages.walk(path, fn)
	}
}

// compareStage compares two stages' provenance: tool versions as
// "tools.NAME", files as "inputs[PATH].sha256" and "inputs[PATH].size"
// (a modification time alone is not a change).
func compareStage(a, b StageProvenance) []Value {
	al, bl := stageLeaves(a), stageLeaves(b)
	return diffLeaves(al, bl)
}

func stageLeaves(p StageProvenance) []leaf {
	var out []leaf
	if tl, isObj, ok := flatten(p.Tools); ok && isObj {
		for _, l := range tl {
			out = append(out, leaf{"tools." + l.key, "tools", l.raw})
		}
	} else if len(p.Tools) > 0 {
		out = append(out, leaf{"tools", "tools", p.Tools})
	}
	out = append(out, fileLeaves("inputs", p.Inputs)...)
	out = append(out, fileLeaves("outputs", p.Outputs)...)
	slices.SortStableFunc(out, func(x, y leaf) int { return strings.Compare(x.key, y.key) })
	return out
}

// fileLeaves are a list of files' fields but their path and mtime, each
// under "list[PATH].field".
func fileLeaves(list string, raw json.RawMessage) []leaf {
	if len(raw) == 0 {
		return nil
	}
	var files []map[string]json.RawMessage
	if json.Unmarshal(raw, &files) != nil {
		return []leaf{{list, list, raw}}
	}
	var out []leaf
	for i, f := range files {
		var path string
		if json.Unmarshal(f["path"], &path) != nil {
			path = fmt.Sprint(i)
		}
		for field, v := range f {
			if field == "path" || field == "mtime" {
				continue
			}
			out = append(out, leaf{list + "[" + path + "]." + field, list, v})
		}
	}
	return out
}

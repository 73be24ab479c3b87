package rundiff

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// Provenance is what a run was made of, as its run file says: the run's
// "provenance" object (code, command, machine, tools, env) and each
// stage's "inputs", "outputs" and "tools" (FromRun). Compare reads it as
// plain JSON, field by field, so that it shows any field a writer adds. It is a plain value, safe to read from several goroutines.
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
// and b's, as FromRun gives them.
func WithProvenance(a, b Provenance) Option {
	return optionFunc(func(c *config) { c.prov, c.provA, c.provB = true, a, b })
}

// FromRun is what r was made of, in the form Compare compares: the run's
// provenance object and each stage's inputs, outputs and tools, encoded as
// the run file writes them.
func FromRun(r *runfile.Run) Provenance {
	var p Provenance
	if r.Provenance != nil {
		if b, err := json.Marshal(r.Provenance); err == nil {
			p.Run = b
		}
	}
	var walk func(prefix string, ss runfile.Stages)
	walk = func(prefix string, ss runfile.Stages) {
		for i := range ss {
			st := &ss[i]
			path := st.Key
			if prefix != "" {
				path = prefix + "/" + st.Key
			}
			if len(st.Inputs) > 0 || len(st.Outputs) > 0 || len(st.Tools) > 0 {
				if p.Stages == nil {
					p.Stages = map[string]StageProvenance{}
				}
				p.Stages[path] = StageProvenance{
					Inputs:  marshalIf(len(st.Inputs) > 0, st.Inputs),
					Outputs: marshalIf(len(st.Outputs) > 0, st.Outputs),
					Tools:   marshalIf(len(st.Tools) > 0, st.Tools),
				}
			}
			walk(path, st.Stages)
		}
	}
	walk("", r.Stages)
	return p
}

func marshalIf(ok bool, v any) json.RawMessage {
	if !ok {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
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

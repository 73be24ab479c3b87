package jsonrun

import (
	"encoding/json"
	"errors"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// stageFiles is a stage's inputs, outputs and tools, as a stage record
// and a journal's end event carry them in one JSON object.
type stageFiles struct {
	Inputs  []runfile.File    `json:"inputs,omitempty"`
	Outputs []runfile.File    `json:"outputs,omitempty"`
	Tools   map[string]string `json:"tools,omitempty"`
}

// stageProvenance joins a stage span's inputs, outputs and tools
// attributes (keys.StageInputs …) into one JSON object, "" when it has
// none. An attribute that is not what it should be (cut short by span
// limits, say) is left out: the run file never holds a half list.
func stageProvenance(inputs, outputs, tools string) string {
	if inputs == "" && outputs == "" && tools == "" {
		return ""
	}
	var p stageFiles
	if inputs != "" && json.Unmarshal([]byte(inputs), &p.Inputs) != nil {
		p.Inputs = nil
	}
	if outputs != "" && json.Unmarshal([]byte(outputs), &p.Outputs) != nil {
		p.Outputs = nil
	}
	if tools != "" && json.Unmarshal([]byte(tools), &p.Tools) != nil {
		p.Tools = nil
	}
	if p.Inputs == nil && p.Outputs == nil && p.Tools == nil {
		return ""
	}
	b, err := json.Marshal(p)
	if err != nil {
		return ""
	}
	return string(b)
}

// stageFilesJSON is st's inputs, outputs and tools as a stage record
// holds them.
func stageFilesJSON(st *runfile.Stage) string {
	if len(st.Inputs) == 0 && len(st.Outputs) == 0 && len(st.Tools) == 0 {
		return ""
	}
	b, err := json.Marshal(stageFiles{Inputs: st.Inputs, Outputs: st.Outputs, Tools: st.Tools})
	if err != nil {
		return ""
	}
	return string(b)
}

// errProvenance is the warning of a run whose provenance attribute did not
// arrive whole.
var errProvenance = errors.New("provenance attribute is not a valid provenance object (cut by span attribute limits?); provenance not recorded")

// decodeProvenance reads the run span's provenance attribute.
func decodeProvenance(s string) (*runfile.Provenance, error) {
	var p runfile.Provenance
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return nil, errProvenance
	}
	return &p, nil
}

// provenanceJSON is p as the run span's attribute carries it.
func provenanceJSON(p *runfile.Provenance) string {
	b, _ := p.MarshalJSON() // never fails
	return string(b)
}

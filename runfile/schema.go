package runfile

import "github.com/stage-tracker/stage-tracker/internal/schemajson"

// Schema is the JSON Schema (draft 2020-12) of the run file for
// SchemaVersion 2 and version 1, which differ only in how repeated stage
// names are keyed, for validators: every key the exporter writes, the status
// vocabularies, the timestamp format and the nesting of stages. Unknown keys
// are allowed, as readers must ignore them. JSON Schema cannot express key
// order; docs/run-file.md states it.
//
// Each call returns a new copy.
func Schema() []byte { return append([]byte(nil), schemajson.JSON...) }

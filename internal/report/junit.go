package report

import (
	"encoding/json"
)

// StderrTailKey is the data key under which stagetrack exec records the
// last lines of a failed command's stderr.
const StderrTailKey = "stderr_tail"

// StderrTail returns the stderr tail recorded in a stage's data, or "".
func StderrTail(data json.RawMessage) string {
	if len(data) == 0 || data[0] != '{' {
		return ""
	}
	var d struct {
		Tail string `json:"stderr_tail"`
	}
	if json.Unmarshal(data, &d) != nil {
		return ""
	}
	return d.Tail
}

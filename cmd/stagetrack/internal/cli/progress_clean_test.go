package cli

import (
	"strings"
	"testing"
)

// TestProgressStatusCleaned checks that a stage's status from the journal,
// like its name and error, reaches the terminal only cleaned. (On main the
// line's width fitting happened to cut it at the escape; the status now goes
// through view.Clean like every other string.)
func TestProgressStatusCleaned(t *testing.T) {
	p := newProgress(false, 100)
	line := `{"e":"end","t":2,"span_id":"1111111111111111","parent_span_id":"aaaaaaaaaaaaaaaa","name":"lint","start":1,"end":2,"status":"\u001b]52;c;cHduZWQ=\u0007\u001b[2Jodd"}`
	s, ok := p.line([]byte(line))
	if !ok {
		t.Fatal("no progress line for a stage end")
	}
	if strings.ContainsAny(s, "\x1b\a") {
		t.Errorf("progress line holds control characters: %q", s)
	}
}

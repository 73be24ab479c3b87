package view_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/rundiff"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestDiffValuesHostile: a data key, a value and a parameter that hold
// escape sequences, line breaks and bidirectional overrides print as one
// inert line each.
func TestDiffValuesHostile(t *testing.T) {
	key := "acc\x1b[31m\nuracy\u202e"
	a := &runfile.Run{RunID: "a", Args: json.RawMessage(`{"p\u202e":"x"}`), Stages: runfile.Stages{
		{Key: "s\x1b]0;t\x07", Status: runfile.StageOK, Data: json.RawMessage(`{"` + "acc\\u001b[31m\\nuracy\u202e" + `":"` + "\u202eold" + `"}`)}}}
	b := &runfile.Run{RunID: "b", Args: json.RawMessage(`{"p\u202e":"y"}`), Stages: runfile.Stages{
		{Key: "s\x1b]0;t\x07", Status: runfile.StageOK, Data: json.RawMessage(`{"` + "acc\\u001b[31m\\nuracy\u202e" + `":"new"}`)}}}
	d := rundiff.Compare(a, b)
	if got := d.Stages[0].Data.Values[0].Key; got != key {
		t.Fatalf("data key %q, want %q", got, key)
	}
	out := view.Diff(d, view.Options{Width: 120})
	for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("output holds %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "s\uFFFD]0;t\uFFFD.acc\uFFFD[31m uracy\uFFFD") {
		t.Errorf("the data row is not the stage and key on one line:\n%s", out)
	}
}

// TestLine: Line's quick way for a plain key gives what joining the
// fields gives, whatever the white space.
func TestLine(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"plain", "train.metrics.top1"},
		{"single spaces", "a b c"},
		{"double space", "a  b"},
		{"leading and trailing", " a b "},
		{"tab and line break", "a\tb\nc\r\n"},
		{"vertical tab and form feed", "a\vb\fc"},
		{"no-break space", "a\u00a0b"},
		{"next line", "a\u0085b"},
		{"ideographic space", "a\u3000b"},
		{"empty", ""},
		{"only space", " "},
		{"control", "a\x1bb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := view.Line(tc.in), view.Clean(strings.Join(strings.Fields(tc.in), " ")); got != want {
				t.Errorf("Line(%q) = %q, want %q", tc.in, got, want)
			}
		})
	}
}

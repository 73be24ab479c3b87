package view_test

import (
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
)

func TestClean(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "compile", "compile"},
		{"OSC 52", "a\x1b]52;c;aGk=\x07b", "a\uFFFD]52;c;aGk=\uFFFDb"},
		{"clear screen", "x\x1b[2J", "x\uFFFD[2J"},
		{"C1 CSI", "x\u009b31m", "x\uFFFD31m"},
		{"bidi override", "abc\u202edef", "abc\uFFFDdef"},
		{"line separator", "a\u2028b", "a\uFFFDb"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"more lines", "one\ntwo", "one …"},
		{"CJK kept", "訓練", "訓練"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := view.Clean(c.in); got != c.want {
				t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

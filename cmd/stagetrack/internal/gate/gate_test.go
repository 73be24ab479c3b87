package gate_test

import (
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/gate"
)

func TestParseBound(t *testing.T) {
	cases := []struct {
		name, in, want string // want: the bound printed back, or "error"
	}{
		{"at least", "evaluate.accuracy>=0.9", "evaluate.accuracy>=0.9"},
		{"greater", "evaluate.accuracy>0.9", "evaluate.accuracy>0.9"},
		{"at most", "train.loss<=0.5", "train.loss<=0.5"},
		{"less", "train.loss<0.5", "train.loss<0.5"},
		{"equal", "check.failures==0", "check.failures==0"},
		{"spaces", "evaluate.accuracy >= 0.9", "evaluate.accuracy>=0.9"},
		{"negative bound", "x.delta>=-1e-3", "x.delta>=-0.001"},
		{"operator in the name: the last one bounds", "a<b.c>=1", "a<b.c>=1"},
		{"lower is worse", "evaluate.accuracy:-0.01", "evaluate.accuracy:-0.01"},
		{"higher is worse", "train.loss:+0.1", "train.loss:+0.1"},
		{"colon in the name", "ns:stage.loss:+1", "ns:stage.loss:+1"},
		{"single equals", "a.b=1", "error"},
		{"arrow", "a.b=>1", "error"},
		{"no number", "a.b>=", "error"},
		{"NaN", "a.b>=NaN", "error"},
		{"no direction", "a.b:0.01", "error"},
		{"no name", ">=1", "error"},
		{"nothing", "a.b", "error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := gate.ParseBound(c.in)
			got := "error"
			if err == nil {
				got = b.String()
			}
			if got != c.want {
				t.Errorf("ParseBound(%q) = %s (%v), want %s", c.in, got, err, c.want)
			}
		})
	}
}

package runstatus_test

import (
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/runstatus"
)

func TestFailure(t *testing.T) {
	type step struct {
		name   string
		parent int    // index of the parent step, -1 for top level
		fail   string // "" for success
	}
	tests := []struct {
		name  string
		steps []step
		want  string
	}{
		{name: "no stages"},
		{name: "all ok", steps: []step{{"a", -1, ""}, {"b", -1, ""}}},
		{name: "failed then passed on retry", steps: []step{{"test", -1, "exit status 1"}, {"test", -1, ""}}},
		{name: "passed then failed", steps: []step{{"test", -1, ""}, {"test", -1, "exit status 1"}}, want: `stage "test" failed: exit status 1`},
		{name: "same name at another level is another stage", steps: []step{{"a", -1, ""}, {"x", 0, "boom"}, {"x", -1, ""}}, want: `stage "a/x" failed: boom`},
		{name: "failed child of a retried parent", steps: []step{{"deploy", -1, "upload failed"}, {"upload", 0, "timeout"}, {"deploy", -1, ""}, {"upload", 2, ""}}},
		{name: "first failure named, others counted", steps: []step{{"a", -1, "x"}, {"b", -1, "y"}, {"c", -1, "z"}}, want: `stage "a" failed: x (and 2 more failed stages)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a runstatus.Attempts
			ats := make([]*runstatus.Attempt, len(tc.steps))
			for i, s := range tc.steps {
				var p *runstatus.Attempt
				if s.parent >= 0 {
					p = ats[s.parent]
				}
				ats[i] = a.Start(p, s.name)
			}
			for i, s := range tc.steps {
				if s.fail != "" {
					a.Fail(ats[i], s.fail)
				}
			}
			if got := a.Failure(); got != tc.want {
				t.Errorf("Failure() = %q, want %q", got, tc.want)
			}
		})
	}
}

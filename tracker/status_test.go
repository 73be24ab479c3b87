package tracker_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stage-tracker/stage-tracker/runfile"
	"go.opentelemetry.io/otel/codes"
)

// The run file's status and error and the run span's status follow one
// rule: only the last attempt of a stage name at one level counts.
func TestRunStatusFollowsLastAttempt(t *testing.T) {
	exit1 := errors.New("exit status 1")
	type attempt struct {
		name string
		err  error
		kids []attempt
	}
	tests := []struct {
		name       string
		attempts   []attempt
		setErr     error
		wantStatus string
		wantErr    string // the run file's error and the span's description
		wantKeys   []string
	}{
		{
			name:       "fails then passes on retry",
			attempts:   []attempt{{name: "build"}, {name: "test", err: exit1}, {name: "test"}},
			wantStatus: runfile.StatusOK, wantKeys: []string{"build", "test#1", "test"},
		},
		{
			name:       "passes then fails last",
			attempts:   []attempt{{name: "test"}, {name: "test", err: exit1}},
			wantStatus: runfile.StatusFailed, wantErr: `stage "test" failed: exit status 1`, wantKeys: []string{"test#1", "test"},
		},
		{
			name:       "fails once, no retry",
			attempts:   []attempt{{name: "test", err: exit1}, {name: "deploy"}},
			wantStatus: runfile.StatusFailed, wantErr: `stage "test" failed: exit status 1`, wantKeys: []string{"test", "deploy"},
		},
		{
			name:       "nested failure inside the last attempt",
			attempts:   []attempt{{name: "ci", kids: []attempt{{name: "lint", err: errors.New("3 issues")}}}},
			wantStatus: runfile.StatusFailed, wantErr: `stage "ci/lint" failed: 3 issues`, wantKeys: []string{"ci"},
		},
		{
			name: "a retried parent leaves its failed child behind",
			attempts: []attempt{
				{name: "deploy", err: exit1, kids: []attempt{{name: "upload", err: errors.New("timeout")}}},
				{name: "deploy", kids: []attempt{{name: "upload"}}},
			},
			wantStatus: runfile.StatusOK, wantKeys: []string{"deploy#1", "deploy"},
		},
		{
			name:       "SetError wins",
			attempts:   []attempt{{name: "test", err: exit1}},
			setErr:     errors.New("exit status 3"),
			wantStatus: runfile.StatusFailed, wantErr: "exit status 3", wantKeys: []string{"test"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipeline(t, pipelineOpt{})
			ctx, run := p.tr.Start(t.Context(), "args")
			var do func(ctx context.Context, as []attempt)
			do = func(ctx context.Context, as []attempt) {
				for _, a := range as {
					_ = run.Stage(ctx, a.name, func(ctx context.Context) (any, error) {
						do(ctx, a.kids)
						return nil, a.err
					})
				}
			}
			do(ctx, tc.attempts)
			if tc.setErr != nil {
				run.SetError(tc.setErr)
			}
			rf := p.finalize(t, run)
			if rf.Status != tc.wantStatus || rf.Error != tc.wantErr {
				t.Errorf("run file status %q error %q, want %q %q", rf.Status, rf.Error, tc.wantStatus, tc.wantErr)
			}
			if got := stageKeys(rf.Stages); !slices.Equal(got, tc.wantKeys) {
				t.Errorf("stages %v, want every attempt %v", got, tc.wantKeys)
			}
			if st, ok := rf.Stages.Get("test"); ok && tc.attempts[0].name == "test" && tc.attempts[0].err != nil && st.Error != tc.attempts[0].err.Error() {
				t.Errorf("first attempt's error %q, want it kept", st.Error)
			}
			var found bool
			for _, s := range p.rec.Ended() {
				if s.SpanContext().SpanID() != run.SpanContext().SpanID() {
					continue
				}
				found = true
				wantCode := codes.Unset
				if tc.wantErr != "" {
					wantCode = codes.Error
				}
				if got := s.Status(); got.Code != wantCode || got.Description != tc.wantErr {
					t.Errorf("run span status %v %q, want %v %q", got.Code, got.Description, wantCode, tc.wantErr)
				}
			}
			if !found {
				t.Fatal("run span not recorded")
			}
		})
	}
}

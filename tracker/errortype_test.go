package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"testing"

	"github.com/stage-tracker/stage-tracker/tracker"
)

type quotaError struct{}

func (quotaError) Error() string     { return "quota exceeded for project p-123" }
func (quotaError) ErrorType() string { return "quota" }

type valueError struct{ n int }

func (e valueError) Error() string { return fmt.Sprint("bad value ", e.n) }

// error.type follows the semantic conventions' rules and never carries the
// message or an unhelpful *errors.errorString.
func TestStageErrorType(t *testing.T) {
	exitErr := exec.Command("sh", "-c", "exit 3").Run()
	if _, ok := errors.AsType[*exec.ExitError](exitErr); !ok {
		t.Fatalf("sh exit 3 = %v, want an *exec.ExitError", exitErr)
	}
	_, pathErr := os.Open("/no/such/file")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "errors.New", err: errors.New("boom"), want: "_OTHER"},
		{name: "fmt.Errorf without %w", err: fmt.Errorf("boom %d", 1), want: "_OTHER"},
		{name: "errors.Join", err: errors.Join(errors.New("a"), errors.New("b")), want: "_OTHER"},
		{name: "ErrorType method wins", err: fmt.Errorf("upload: %w", quotaError{}), want: "quota"},
		{name: "exit status", err: exitErr, want: tracker.ErrorTypeExitStatus},
		{name: "wrapped exit status", err: fmt.Errorf("make test: %w", exitErr), want: tracker.ErrorTypeExitStatus},
		{name: "deadline", err: fmt.Errorf("fetch: %w", context.DeadlineExceeded), want: tracker.ErrorTypeTimeout},
		{name: "canceled", err: context.Canceled, want: tracker.ErrorTypeCanceled},
		{name: "unwrapped type name", err: fmt.Errorf("load: %w", pathErr), want: "*fs.PathError"},
		{name: "named value type, package-qualified", err: valueError{3}, want: "github.com/stage-tracker/stage-tracker/tracker_test.valueError"},
		{name: "sentinel of a package", err: fmt.Errorf("x: %w", fs.ErrNotExist), want: "_OTHER"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipeline(t, pipelineOpt{})
			ctx, run := p.tr.Start(t.Context(), "args")
			_ = run.Stage(ctx, "s", func(context.Context) (any, error) { return nil, tc.err })
			_ = run.Finalize(t.Context())
			got := ""
			for _, s := range p.rec.Ended() {
				if s.Name() != "s" {
					continue
				}
				for _, a := range s.Attributes() {
					if a.Key == "error.type" {
						got = a.Value.AsString()
					}
				}
			}
			if got != tc.want {
				t.Errorf("error.type = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("panic", func(t *testing.T) {
		p := newPipeline(t, pipelineOpt{})
		ctx, run := p.tr.Start(t.Context(), "args")
		func() {
			defer func() { _ = recover() }()
			_ = run.Stage(ctx, "s", func(context.Context) (any, error) { panic("x") })
		}()
		_ = run.Finalize(t.Context())
		for _, s := range p.rec.Ended() {
			for _, a := range s.Attributes() {
				if s.Name() == "s" && a.Key == "error.type" && a.Value.AsString() != tracker.ErrorTypePanic {
					t.Errorf("error.type = %q, want panic", a.Value.AsString())
				}
			}
		}
	})
}

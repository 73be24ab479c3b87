package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/tracker"
)

func spanAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value.String()
	}
	return m
}

// TestSemconvCICDAttributes: run and stage spans carry the CI/CD semantic
// conventions' names beside ours.
func TestSemconvCICDAttributes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		stages     func(ctx context.Context, run *tracker.Run)
		wantResult string
		wantTasks  map[string]string // stage → cicd.pipeline.task.run.result
	}{
		{"success", func(ctx context.Context, run *tracker.Run) {
			run.Stage(ctx, "a", func(context.Context) (any, error) { return nil, nil })
		}, "success", map[string]string{"a": "success"}},
		{"failure", func(ctx context.Context, run *tracker.Run) {
			run.Stage(ctx, "a", func(context.Context) (any, error) { return nil, errors.New("boom") })
			run.Stage(ctx, "t", func(context.Context) (any, error) { return nil, fmt.Errorf("slow: %w", context.DeadlineExceeded) })
			run.Stage(ctx, "c", func(context.Context) (any, error) { return nil, context.Canceled })
			run.StartStage(ctx, "open") // Finalize ends it
		}, "failure", map[string]string{"a": "failure", "t": "timeout", "c": "cancellation", "open": "cancellation"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipeline(t, pipelineOpt{})
			ctx, run := p.tr.Start(t.Context(), "args", tracker.WithRunName("nightly"))
			tc.stages(ctx, run)
			_ = run.Finalize(t.Context())
			tasks := map[string]string{}
			for _, s := range p.rec.Ended() {
				a := spanAttrs(s)
				if _, isStage := a["stage_tracker.stage.name"]; !isStage {
					want := map[attribute.Key]string{"cicd.pipeline.name": "nightly", "cicd.pipeline.run.id": run.ID(), "cicd.pipeline.result": tc.wantResult}
					for k, v := range want {
						if a[k] != v {
							t.Errorf("run span %s = %q, want %q", k, a[k], v)
						}
					}
					continue
				}
				if a["cicd.pipeline.task.name"] != s.Name() || a["cicd.pipeline.task.run.id"] != s.SpanContext().SpanID().String() {
					t.Errorf("stage %s: task.name %q, task.run.id %q", s.Name(), a["cicd.pipeline.task.name"], a["cicd.pipeline.task.run.id"])
				}
				tasks[s.Name()] = a["cicd.pipeline.task.run.result"]
			}
			if fmt.Sprint(tasks) != fmt.Sprint(tc.wantTasks) {
				t.Errorf("task results %v, want %v", tasks, tc.wantTasks)
			}
		})
	}
}

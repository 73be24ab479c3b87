package tracker_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stage-tracker/stage-tracker/tracker"
)

// TestStageContextWrapsItsParent: the context StartStage returns carries
// the parent's values, deadline and cancellation, and contexts derived
// from it are cancelled with it.
func TestStageContextWrapsItsParent(t *testing.T) {
	type key struct{}
	p := newPipeline(t, pipelineOpt{})
	parent, cancel := context.WithCancelCause(context.WithValue(t.Context(), key{}, "v"))
	ctx, run := p.tr.Start(parent, "ctx")
	sctx, s := run.StartStage(ctx, "s")
	inner, innerCancel := context.WithCancel(sctx)
	defer innerCancel()
	if sctx.Value(key{}) != "v" || tracker.StageFromContext(sctx) != s || tracker.RunFromContext(sctx) != run {
		t.Fatal("stage context lost a value, its stage or its run")
	}
	why := errors.New("stop")
	cancel(why)
	<-inner.Done()
	if context.Cause(sctx) != why || sctx.Err() != context.Canceled {
		t.Errorf("cause %v, err %v", context.Cause(sctx), sctx.Err())
	}
	s.End(nil, nil)
	_ = run.Finalize(context.Background())
}

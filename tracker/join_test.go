package tracker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// TestStartOrJoin plays both processes of a stagetrack run in one test: the
// parent owns the run, the "child" has its own provider and exporter, joins
// through the environment, and its stages land in the parent's run file.
func TestStartOrJoin(t *testing.T) {
	parent, parentExp, dir := journaled(t, nil)
	pctx, run := parent.Start(t.Context(), "multi-process")
	_, own := run.StartStage(pctx, "parent-stage")
	own.End("p", nil)
	journal, err := parentExp.JournalPath(run.ID(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range tracker.ChildEnv(pctx, run.ID(), journal) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}

	// The child process.
	childExp, err := jsonrun.New(jsonrun.WithDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if err := childExp.Join(os.Getenv(tracker.EnvRunID), os.Getenv(tracker.EnvJournal)); err != nil {
		t.Fatal(err)
	}
	childTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(childExp)))
	child := tracker.New(tracker.WithTracerProvider(childTP))
	cctx, joined := child.StartOrJoin(context.Background(), "ignored when joining")
	if joined.ID() != run.ID() || joined.TraceID() != run.TraceID() {
		t.Fatalf("joined run %s trace %s, want %s trace %s", joined.ID(), joined.TraceID(), run.ID(), run.TraceID())
	}
	octx, outer := joined.StartStage(cctx, "child-outer")
	joined.Stage(octx, "child-inner", func(context.Context) (any, error) { return 42, errors.New("inner failed") })
	outer.End(map[string]any{"rows": 3}, nil)
	if err := joined.Finalize(t.Context()); err != nil || joined.File() != "" {
		t.Fatalf("joined Finalize = %v, File %q", err, joined.File())
	}
	childTP.Shutdown(t.Context())

	// Back in the parent.
	if err := run.Finalize(t.Context()); err != nil {
		t.Fatal(err)
	}
	rf, err := runfile.ReadFile(filepath.Join(dir, run.ID()+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(stageKeys(rf.Stages), ","); got != "parent-stage,child-outer" {
		t.Fatalf("stages = %s", got)
	}
	outerRec, _ := rf.Stages.Get("child-outer")
	inner, ok := outerRec.Stages.Get("child-inner")
	if !ok || inner.Error != "inner failed" || string(outerRec.Data) != `{"rows":3}` {
		t.Errorf("child stages = %+v", outerRec)
	}
	if rf.Status != runfile.StatusFailed || rf.StageCount != 3 || rf.MissingStages != 0 {
		t.Errorf("status %s, stage_count %d, missing %d", rf.Status, rf.StageCount, rf.MissingStages)
	}
	entries, _ := os.ReadDir(childExp.Dir())
	if len(entries) != 0 {
		t.Errorf("the child wrote files of its own: %v", entries)
	}
}

func TestStartOrJoinWithoutParentStarts(t *testing.T) {
	t.Setenv(tracker.EnvRunID, "")
	p := newPipeline(t, pipelineOpt{})
	_, run := p.tr.StartOrJoin(t.Context(), "alone")
	p.finalize(t, run)
}

func TestSetErrorAndInterrupt(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "cmd")
	run.Stage(ctx, "ok", func(context.Context) (any, error) { return nil, nil })
	run.SetError(errors.New("exit status 3"))
	rf := p.finalize(t, run)
	if rf.Status != runfile.StatusFailed || rf.Error != "exit status 3" {
		t.Errorf("status %q error %q", rf.Status, rf.Error)
	}

	ctx, run = p.tr.Start(t.Context(), "cut")
	run.StartStage(ctx, "long")
	if err := run.Interrupt(t.Context(), "signal: terminated"); err != nil {
		t.Fatal(err)
	}
	rf, _ = runfile.ReadFile(run.File())
	if rf.Status != runfile.StatusInterrupted || rf.Error != "signal: terminated" || rf.Stages[0].Status != runfile.StageUnfinished {
		t.Errorf("status %q error %q stage %q", rf.Status, rf.Error, rf.Stages[0].Status)
	}
}

func TestFinalizeOnPanic(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	var run *tracker.Run
	func() {
		defer func() {
			if v := recover(); v != "disk on fire" {
				t.Errorf("recovered %v, want the panic to continue", v)
			}
		}()
		defer p.tr.FinalizeOnPanic(t.Context())
		ctx, r := p.tr.Start(t.Context(), "crashing")
		run = r
		r.Stage(ctx, "done", func(context.Context) (any, error) { return 1, nil })
		r.StartStage(ctx, "in-flight")
		panic("disk on fire")
	}()
	rf, err := runfile.ReadFile(filepath.Join(p.dir, run.ID()+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if rf.Status != runfile.StatusCrashed || rf.Error != "panic: disk on fire" || !strings.Contains(rf.Stack, "TestFinalizeOnPanic") {
		t.Errorf("status %q error %q stack %.80q", rf.Status, rf.Error, rf.Stack)
	}
	if st, _ := rf.Stages.Get("in-flight"); st.Status != runfile.StageUnfinished {
		t.Errorf("in-flight stage %q", st.Status)
	}
}

func TestJoinWithoutParentStartsAFreshRun(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	const owner = "af3c980c-3d22-46e8-83cd-7ff99abee586"
	t.Setenv(tracker.EnvRunID, owner)
	t.Setenv(tracker.EnvTraceParent, "garbage")
	_, run := p.tr.StartOrJoin(t.Context(), "orphan")
	if run.ID() == owner || !errors.Is(run.Err(), tracker.ErrNoParent) {
		t.Errorf("ID %s, Err %v: want a fresh id and ErrNoParent", run.ID(), run.Err())
	}
	if err := run.Finalize(t.Context()); !errors.Is(err, tracker.ErrNoParent) {
		t.Errorf("Finalize = %v", err)
	}
}

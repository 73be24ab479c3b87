package jsonrun_test

import (
	"context"
	"os"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// TestReadJournalOfLiveRunWithJoinedStages checks that a live run's
// journal, where the owner writes into its mapped chunk and a joined
// process appends after it, reads back whole while the run is open
// (ReadJournal, what stagetrack show prints) and merges into the run file:
// every stage once, the running one running, no line skipped.
func TestReadJournalOfLiveRunWithJoinedStages(t *testing.T) {
	dir := t.TempDir()
	ownerExp, err := jsonrun.New(jsonrun.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	ownerTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(ownerExp)))
	defer ownerTP.Shutdown(context.Background())
	owner := tracker.New(tracker.WithTracerProvider(ownerTP))
	ctx, run := owner.Start(t.Context(), "live")
	run.Stage(ctx, "owner-before", func(context.Context) (any, error) { return 1, nil })
	path, err := ownerExp.JournalPath(run.ID(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range tracker.ChildEnv(ctx, run.ID(), path) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}

	childExp, err := jsonrun.New(jsonrun.WithDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if err := childExp.Join(os.Getenv(tracker.EnvRunID), os.Getenv(tracker.EnvJournal)); err != nil {
		t.Fatal(err)
	}
	childTP := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(childExp)))
	child := tracker.New(tracker.WithTracerProvider(childTP))
	cctx, joined := child.StartOrJoin(context.Background(), "ignored")
	joined.Stage(cctx, "joined", func(context.Context) (any, error) { return 2, nil })
	if err := joined.Finalize(t.Context()); err != nil {
		t.Fatal(err)
	}
	childTP.Shutdown(t.Context())

	run.Stage(ctx, "owner-after", func(context.Context) (any, error) { return 3, nil })
	run.StartStage(ctx, "owner-running")

	live, err := jsonrun.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"owner-before": jsonrun.StageOK, "joined": jsonrun.StageOK, "owner-after": jsonrun.StageOK, "owner-running": jsonrun.StageRunning}
	got := map[string]string{}
	for _, s := range live.Stages {
		got[s.Name] = s.Status
	}
	if len(got) != len(want) || len(live.Stages) != len(want) {
		t.Errorf("ReadJournal stages %v, want %v", got, want)
	}
	for name, st := range want {
		if got[name] != st {
			t.Errorf("ReadJournal: stage %s is %q, want %q", name, got[name], st)
		}
	}
	for _, w := range live.Warnings {
		if strings.Contains(w, "skipped") {
			t.Errorf("ReadJournal warning %q: a line was not read", w)
		}
	}

	if err := run.Finalize(t.Context()); err != nil {
		t.Fatal(err)
	}
	rf, err := jsonrun.ReadFile(run.File())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range rf.Stages {
		names[s.Name] = true
	}
	for name := range want {
		if !names[name] {
			t.Errorf("run file lacks stage %s: %v", name, names)
		}
	}
	for _, w := range rf.Warnings {
		if strings.Contains(w, "skipped") {
			t.Errorf("run file warning %q", w)
		}
	}
}

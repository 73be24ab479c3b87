package tracker

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/stage-tracker/stage-tracker/internal/journal"
	"github.com/stage-tracker/stage-tracker/internal/runid"
)

// ErrCannotJoin: Join or StartOrJoin was asked to join a run that cannot
// take this process's stages (its run has finished, its journal is gone or
// is not that run's). The error wrapping it says which.
var ErrCannotJoin = errors.New("tracker: cannot join the run")

// Environment variables through which a process hands a run to the
// processes it starts (stagetrack run does), and through which they join it.
const (
	// EnvRunID holds the run id of the run to join.
	EnvRunID = "STAGE_TRACKER_RUN_ID"
	// EnvJournal holds the path of the run's journal, to which joined
	// processes append their stages; the run's owner merges them into its
	// run file.
	EnvJournal = "STAGE_TRACKER_JOURNAL"
	// EnvTraceParent and EnvTraceState carry the W3C trace context of the
	// span the joined process's stages are children of.
	EnvTraceParent = "TRACEPARENT"
	EnvTraceState  = "TRACESTATE"
)

// ChildEnv returns the environment entries ("KEY=value") that let a child
// process join the run: its id, its journal, and the trace context of the
// span in ctx (the run's, or a stage's, whose child the child's stages
// become), written with W3C Trace Context and Baggage; Tracker.ChildEnv
// uses the tracker's propagator. Append them to the child's exec.Cmd.Env.
func ChildEnv(ctx context.Context, runID, journal string) []string {
	return (*Tracker)(nil).ChildEnv(ctx, runID, journal)
}

// StartOrJoin joins the run that a parent process handed down through the
// environment (EnvRunID and TRACEPARENT, as stagetrack run sets them), and
// otherwise starts a run as Start does. It is the one call a program makes
// to take part in a run made of several processes: its stages become
// children of the parent's span, in the parent's trace, and, with
// setup.Tracker (which opens the parent's journal), records in the parent's
// run file.
//
// A joined run's Finalize ends its open stages and flushes the provider; the
// run span and run file belong to the parent, so File returns "". args and
// opts apply only when a run is started.
func (t *Tracker) StartOrJoin(ctx context.Context, args any, opts ...RunOption) (context.Context, *Run) {
	runID, ok := os.LookupEnv(EnvRunID)
	if !ok || runID == "" {
		return t.Start(ctx, args, opts...)
	}
	parent := trace.SpanContextFromContext(t.ExtractEnv(context.Background()))
	return t.Join(ctx, runID, parent)
}

// Join joins the run runID that another process owns: stages started on
// the returned Run are children of parent (the owner's run span or one of
// its stages) and carry runID. When parent is not valid, there is nothing
// to join: Join starts a run of its own, with a fresh id so that it cannot
// collide with the owner's files, and reports ErrNoParent through Err and
// Finalize.
//
// When EnvJournal names the run's journal, Join first checks it with
// CanJoin. When the run cannot be joined, Join returns a Run that records
// nothing (its stages are not exported, so nothing is ever written under
// the other process's run id) and reports an error wrapping ErrCannotJoin
// through Err and Finalize.
func (t *Tracker) Join(ctx context.Context, runID string, parent trace.SpanContext) (context.Context, *Run) {
	// The owner's file and the Collector know the run by one spelling;
	// what is not a run id in any spelling names no run to join.
	id, err := runid.Canonical(runID)
	if err != nil {
		ctx, r := t.Start(ctx, nil)
		r.mu.Lock()
		r.errs = append(r.errs, fmt.Errorf("%w: %s: %v; recorded as run %s", ErrInvalidRunID, EnvRunID, err, r.id))
		r.mu.Unlock()
		return ctx, r
	}
	runID = id
	if !parent.IsValid() {
		ctx, r := t.Start(ctx, nil)
		r.mu.Lock()
		r.errs = append(r.errs, fmt.Errorf("%w: cannot join run %s; recorded as run %s", ErrNoParent, runID, r.id))
		r.mu.Unlock()
		return ctx, r
	}
	tp := t.provider()
	var refused error
	if journal := os.Getenv(EnvJournal); journal != "" {
		refused = CanJoin(runID, journal)
	}
	if refused != nil {
		tp = noop.NewTracerProvider()
	}
	r := &Run{
		tracker: t,
		tp:      tp,
		tracer:  tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version)),
		open:    make(map[string][]*Stage),
		id:      runID,
		joined:  true,
	}
	if refused != nil {
		r.errs = append(r.errs, refused)
	} else {
		// A joined process's stages are measured where they ran, as the
		// owner's are; the run's own histogram is the owner's.
		r.metrics = newInstruments(t.cfg.mp)
	}
	ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
	r.span = trace.SpanFromContext(ctx)
	r.spanCtx = parent
	return context.WithValue(ctx, scopeKey{}, &scope{run: r}), r
}

// CanJoin reports whether a process may join run runID through its journal
// at path: the file must be a regular file whose first line is the run
// event of runID, and a live process (its owner) must hold it. The error
// wraps ErrCannotJoin and says why in a person's words. It never blocks on
// what is at path (a FIFO, a device).
func CanJoin(runID, path string) error {
	refuse := func(format string, a ...any) error {
		return fmt.Errorf("%w %s: %s", ErrCannotJoin, runID, fmt.Sprintf(format, a...))
	}
	if _, err := runid.Canonical(runID); err != nil {
		return refuse("%s=%q is not a run id", EnvRunID, runID)
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return refuse("its journal %s is gone: the run has finished", path)
	}
	if err != nil {
		return refuse("%v", err)
	}
	if !fi.Mode().IsRegular() {
		return refuse("%s=%s is not a journal (not a regular file)", EnvJournal, path)
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return refuse("%v", err)
	}
	defer f.Close()
	line := journal.FirstLine(f)
	if !journal.IsRunEventOf(line, runID) {
		return refuse("%s=%s is not the journal of this run", EnvJournal, path)
	}
	// A run that stagetrack start opened has no owner between its steps.
	if !journal.IsDetached(line) && !heldByOther(f) {
		return refuse("no live process holds its journal %s: the run's owner has stopped", path)
	}
	return nil
}

package tracker

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

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

// envCarrier reads and writes W3C trace context as environment variables:
// traceparent is TRACEPARENT, as otel-cli and the OTel proposal for
// environment propagation name them.
type envCarrier map[string]string

func (c envCarrier) Get(key string) string { return c[strings.ToUpper(key)] }
func (c envCarrier) Set(key, value string) { c[strings.ToUpper(key)] = value }
func (c envCarrier) Keys() []string {
	ks := make([]string, 0, len(c))
	for k := range c {
		ks = append(ks, k)
	}
	return ks
}

// ChildEnv returns the environment entries ("KEY=value") that let a child
// process join the run: its id, its journal, and the trace context of the
// span in ctx (the run's, or a stage's, whose child the child's stages
// become). Append them to the child's exec.Cmd.Env.
func ChildEnv(ctx context.Context, runID, journal string) []string {
	c := envCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	env := []string{EnvRunID + "=" + runID, EnvJournal + "=" + journal}
	for _, k := range []string{EnvTraceParent, EnvTraceState} {
		if v, ok := c[k]; ok && v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
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
	c := envCarrier{EnvTraceParent: os.Getenv(EnvTraceParent), EnvTraceState: os.Getenv(EnvTraceState)}
	parent := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), c))
	return t.Join(ctx, runID, parent)
}

// Join joins the run runID that another process owns: stages started on
// the returned Run are children of parent (the owner's run span or one of
// its stages) and carry runID. When parent is not valid, there is nothing
// to join: Join starts a run of its own, with a fresh id so that it cannot
// collide with the owner's files, and reports ErrNoParent through Err and
// Finalize.
func (t *Tracker) Join(ctx context.Context, runID string, parent trace.SpanContext) (context.Context, *Run) {
	if !parent.IsValid() {
		ctx, r := t.Start(ctx, nil)
		r.mu.Lock()
		r.errs = append(r.errs, fmt.Errorf("%w: cannot join run %s; recorded as run %s", ErrNoParent, runID, r.id))
		r.mu.Unlock()
		return ctx, r
	}
	tp := t.provider()
	r := &Run{
		tracker: t,
		tp:      tp,
		tracer:  tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version)),
		open:    make(map[string][]*Stage),
		id:      runID,
		joined:  true,
	}
	ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
	r.span = trace.SpanFromContext(ctx)
	r.spanCtx = parent
	return context.WithValue(ctx, scopeKey{}, &scope{run: r}), r
}

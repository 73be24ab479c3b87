package tracker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"weak"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/provenance"
	"github.com/stage-tracker/stage-tracker/internal/runresult"
	"github.com/stage-tracker/stage-tracker/internal/runstatus"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Run is one run of a pipeline: a root span whose children are its stages.
//
// A Run is safe for concurrent use: stages may start and end from many
// goroutines at once. After Finalize, StartStage returns no-op stages and a
// second Finalize does nothing.
type Run struct {
	tracker *Tracker
	tp      trace.TracerProvider
	tracer  trace.Tracer
	id      string
	// spansOnly: WithoutRunFile; Finalize neither flushes nor waits for a
	// run file.
	spansOnly bool
	span      trace.Span
	spanCtx   trace.SpanContext

	mu        sync.Mutex
	open      map[string][]*Stage // open stages by name, in start order
	ended     int                 // stage spans ended so far
	inflight  sync.WaitGroup      // Stage.End calls between bookkeeping and span.End
	finalized bool
	joined    bool               // another process owns the run span and run file
	runErr    string             // SetError's message: the run failed
	errs      []error            // input problems reported by Err and Finalize
	file      string             // where the run file was written, once finalised
	attempts  runstatus.Attempts // which stages fail the run: the run file's rule
	// startOpts holds, by stage name, the start options of a stage with no
	// StageParent and no clock: built once, not at every stage. At most
	// maxStartOpts names, so that arbitrary names cannot make it grow.
	startOpts map[string][]trace.SpanStartOption

	// prov is the run's provenance known at its start; provPending what
	// is still being captured, added to the run span when the run ends.
	prov        *runfile.Provenance
	provPending *provenance.Pending

	name    string      // the run span's name: the pipeline's, in metrics
	metrics instruments // the duration histograms
	started time.Time   // for the run histogram; zero when it records nothing
}

// ID returns the run id, a UUID string: the run_id of the run file.
func (r *Run) ID() string { return r.id }

// TraceID returns the trace id of the run span: the trace_id of the run
// file and what to search for in a tracing backend.
func (r *Run) TraceID() trace.TraceID { return r.spanCtx.TraceID() }

// SpanContext returns the run span's span context.
func (r *Run) SpanContext() trace.SpanContext { return r.spanCtx }

// Err reports problems with the input given to Start (ErrInvalidRunID,
// ErrArgsNotEncodable), or nil. The run is recorded either way.
func (r *Run) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

// File returns the path of the run file once Finalize has returned without
// error and a run-file exporter (such as *jsonrun.Exporter, however it is
// registered with the tracer provider) wrote it; else "".
func (r *Run) File() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.file
}

// StartStage starts a stage named name. When ctx comes from a stage of this
// run (StartStage's context, or one derived from it), the new stage is its
// child, and its record nests under that stage in the run file; when ctx
// comes from the run (Start's context), it is a top-level stage; otherwise,
// whatever span ctx holds, it is a child of the run span. The returned context holds the stage span.
//
// An empty name is recorded as "(unnamed)" and reported by Err and Finalize
// as ErrEmptyStageName. After Finalize, StartStage returns ctx unchanged and
// a no-op Stage.
func (r *Run) StartStage(ctx context.Context, name string) (context.Context, *Stage) {
	var enclosing trace.SpanID // keys.StageParent, when valid
	sc, _ := ctx.Value(scopeKey{}).(*scope)
	switch {
	case sc == nil || sc.run != r:
		// Not inside this run (a request context, say): a child of the run.
		ctx = trace.ContextWithSpan(ctx, r.span)
	case sc.stage.IsValid() && trace.SpanContextFromContext(ctx).SpanID() != sc.stage:
		// Another span sits between this stage and the one it was started
		// in: name the enclosing stage, so the run file nests it there.
		enclosing = sc.stage
	}
	r.mu.Lock()
	if r.finalized {
		r.mu.Unlock()
		return ctx, &Stage{}
	}
	if name == "" {
		name = unnamedStage
		r.errs = append(r.errs, fmt.Errorf("%w in run %s: recorded as %q", ErrEmptyStageName, r.id, unnamedStage))
	}
	opts := r.stageStartOpts(name, enclosing)
	r.mu.Unlock()

	ctx, span := r.tracer.Start(ctx, name, opts...)
	s := &Stage{run: r, span: span, name: name, started: r.metrics.stageStart()}
	s.scope = scope{run: r, stage: span.SpanContext().SpanID(), st: s}

	r.mu.Lock()
	if r.finalized {
		// Finalize ran while the span started. The span is left unended,
		// so it is never exported and cannot reach a finished run's file.
		r.mu.Unlock()
		return ctx, &Stage{}
	}
	var parent *runstatus.Attempt
	if sc != nil && sc.run == r {
		parent = sc.attempt
	}
	s.attempt = r.attempts.Start(parent, name)
	s.scope.attempt = s.attempt
	r.open[name] = append(r.open[name], s)
	r.mu.Unlock()
	s.scope.Context = ctx
	return &s.scope, s
}

// Value returns the scope itself for scopeKey, else the wrapped context's
// value.
func (sc *scope) Value(key any) any {
	if _, ok := key.(scopeKey); ok {
		return sc
	}
	return sc.Context.Value(key)
}

// maxStartOpts bounds Run.startOpts.
const maxStartOpts = 256

// stageStartOpts returns the start options of a stage named name, whose
// enclosing stage is parent when valid (keys.StageParent). r.mu is held.
func (r *Run) stageStartOpts(name string, parent trace.SpanID) []trace.SpanStartOption {
	cacheable := !parent.IsValid() && r.tracker.cfg.now == nil
	if cacheable {
		if opts, ok := r.startOpts[name]; ok {
			return opts
		}
	}
	attrs := make([]attribute.KeyValue, 2, 3)
	attrs[0] = attribute.String(keys.StageName, name)
	attrs[1] = attribute.String(keys.RunID, r.id)
	if parent.IsValid() {
		attrs = append(attrs, attribute.String(keys.StageParent, parent.String()))
	}
	opts := []trace.SpanStartOption{trace.WithAttributes(attrs...)}
	if now := r.tracker.cfg.now; now != nil {
		return append(opts, trace.WithTimestamp(now()))
	}
	if cacheable && len(r.startOpts) < maxStartOpts {
		if r.startOpts == nil {
			r.startOpts = make(map[string][]trace.SpanStartOption)
		}
		r.startOpts[name] = opts
	}
	return opts
}

// scopeKey is the context key of the innermost run or stage a context is in.
type scopeKey struct{}

// A stage's scope is itself the context StartStage returns, wrapping the
// span's context: one allocation fewer a stage than context.WithValue, as
// it lives inside the Stage. Every other key goes to the wrapped context,
// cancellation included.
type scope struct {
	context.Context // the context the scope wraps; nil for a run's scope, which WithValue holds
	run             *Run
	stage           trace.SpanID       // invalid for the run itself
	st              *Stage             // nil for the run itself
	attempt         *runstatus.Attempt // the stage's attempt; nil for the run itself
}

// unnamedStage is the name a stage started with an empty name gets.
const unnamedStage = "(unnamed)"

// EndStage ends the most recently started open stage named name, as
// Stage.End does. It returns an error wrapping ErrNoOpenStage, and records
// nothing, when no stage of that name is open.
func (r *Run) EndStage(name string, data any, err error) error {
	if name == "" {
		name = unnamedStage
	}
	r.mu.Lock()
	open := r.open[name]
	if len(open) == 0 {
		r.mu.Unlock()
		return fmt.Errorf("%w: %q in run %s", ErrNoOpenStage, name, r.id)
	}
	s := open[len(open)-1]
	r.mu.Unlock()
	s.End(data, err)
	return nil
}

// Stage runs fn as a stage named name and ends the stage with what fn
// returns: its data and its error, which Stage also returns. If fn panics,
// the panic is recorded on the stage (message and stack), the stage ends, and
// the panic continues.
func (r *Run) Stage(ctx context.Context, name string, fn func(ctx context.Context) (any, error)) (err error) {
	ctx, s := r.StartStage(ctx, name)
	ended := false
	defer func() {
		if ended {
			return
		}
		v := recover()
		s.endPanic(v)
		panic(v)
	}()
	data, err := fn(ctx)
	ended = true
	s.End(data, err)
	return err
}

// Finalize ends the run. Stages still open are ended and recorded as
// unfinished; the run span ends; the tracer provider is flushed (when it has
// a ForceFlush method, as the SDK's has); and Finalize takes the run file's
// outcome from the jsonrun exporter in the provider's pipeline, however it
// is registered (jsonrun.NewProcessor, a syncer or a batcher), so it
// returns only once the run file is on disk, and File names it.
//
// It returns an error when the run file could not be written; when no
// run-file exporter took the run (ErrNoRunFile: the provider has none, which
// Finalize learns once the provider is flushed, without waiting); when the
// run was not recorded at all (ErrNotRecorded: a sampler dropped it, or no
// SDK is installed); when ctx ends before a file that is on its way is
// written; and for the input problems Err reports. A second Finalize does
// nothing and returns nil.
//
// A run started WithoutRunFile is spans only: Finalize ends it without
// flushing the provider or waiting for a file, and returns only the input
// problems Err reports.
func (r *Run) Finalize(ctx context.Context) error {
	return r.finalize(ctx, "", "", "")
}

// finalize ends the run; status, when not empty, overrides the status the
// exporter would derive (keys.StatusInterrupted, keys.StatusCrashed), with
// msg and stack describing why.
func (r *Run) finalize(ctx context.Context, status, msg, stack string) error {
	r.mu.Lock()
	if r.finalized {
		r.mu.Unlock()
		return nil
	}
	r.finalized = true
	r.tracker.forget(weak.Make(r))
	var open []*Stage
	for _, ss := range r.open {
		open = append(open, ss...)
	}
	r.mu.Unlock()

	for _, s := range open {
		s.end(nil, nil, keys.StatusUnfinished, "")
	}
	r.inflight.Wait()
	if r.joined {
		return r.flushJoined(ctx)
	}
	var provAttr []attribute.KeyValue
	if r.provPending != nil {
		// Captured while the run went on; usually done by now. A ctx that
		// ends first records the run with what was known at its start.
		if p := withPending(r.prov, r.provPending.Wait(ctx)); !provenance.Empty(p) {
			provAttr = append(provAttr, provenanceKV(p))
		}
	}

	r.mu.Lock()
	// The status first: under a low attribute count limit it matters most.
	var attrs []attribute.KeyValue
	if status != "" {
		attrs = append(attrs, attribute.String(keys.RunStatus, status))
	}
	attrs = append(attrs, attribute.Int(keys.RunStageCount, r.ended))
	errs := append([]error(nil), r.errs...)
	if msg == "" {
		msg = r.runErr
	}
	if msg == "" && status == "" {
		// The run file says why its stages failed the run (the last
		// attempt of a stage name failed); the span says the same.
		msg = r.attempts.Failure()
	}
	r.mu.Unlock()
	if stack != "" {
		attrs = append(attrs, attribute.String(keys.RunStack, stack))
	}
	result := r.result(status, msg)
	attrs = append(attrs, semconv.CICDPipelineResultKey.String(result))
	attrs = append(attrs, provAttr...)
	r.span.SetAttributes(attrs...)
	if msg != "" {
		r.span.SetStatus(codes.Error, msg)
	}
	// Register before the span ends: a synchronous exporter publishes from
	// inside End.
	var rv *runresult.Waiter
	if !r.spansOnly && r.spanCtx.IsSampled() {
		rv = runresult.Wait(runresult.Key{Trace: r.spanCtx.TraceID(), Span: r.spanCtx.SpanID()})
		defer rv.Close()
	}
	r.span.End(r.endOptions()...)
	r.metrics.recordRun(r.name, r.started, result)

	if r.spansOnly {
		return errors.Join(errs...)
	}
	if !r.spanCtx.IsSampled() {
		return errors.Join(append(errs, fmt.Errorf("%w: run %s was not sampled, or no SDK tracer provider is installed, so no run file will be written; give the provider the sampler tracker.AlwaysSampleRuns to keep every run", ErrNotRecorded, r.id))...)
	}
	path, err := r.awaitFile(ctx, rv)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	r.mu.Lock()
	r.file = path
	r.mu.Unlock()
	return errors.Join(errs...)
}

// awaitFile flushes the tracer provider and returns the path of the run
// file that a run-file exporter wrote, from rv, or why there is none.
func (r *Run) awaitFile(ctx context.Context, rv *runresult.Waiter) (string, error) {
	var flushErr error
	f, canFlush := r.tp.(interface{ ForceFlush(context.Context) error })
	if canFlush {
		// A failing backend (a collector that is down) does not fail the
		// run: its error goes to the OpenTelemetry error handler, as export
		// errors do, and the run file is judged on its own below.
		if flushErr = f.ForceFlush(ctx); flushErr != nil {
			otel.Handle(fmt.Errorf("tracker: flush run %s: %w", r.id, flushErr))
		}
	}
	// A run-file exporter has published by now (a syncer or
	// jsonrun.NewProcessor from inside End, a batcher from inside
	// ForceFlush), or claimed the run to write it later (it waits for late
	// stages).
	res, ok := rv.Result()
	if !ok && rv.Claimed() {
		select {
		case <-rv.Done():
			res, ok = rv.Result()
		case <-ctx.Done():
			return "", fmt.Errorf("tracker: run %s: its run file was not written before the context ended: %w", r.id, ctx.Err())
		}
	}
	if ok {
		if res.Err != nil {
			return "", fmt.Errorf("tracker: run %s: %w", r.id, res.Err)
		}
		return res.Path, nil
	}
	if w := r.tracker.cfg.waiter; w != nil {
		return r.askWaiter(ctx, w, canFlush && flushErr == nil)
	}
	var why string
	switch {
	case !canFlush:
		why = " (the tracer provider has no ForceFlush, so spans it still queued could not be flushed)"
	case flushErr != nil:
		why = fmt.Sprintf(" (flushing the tracer provider failed: %v)", flushErr)
	}
	return "", fmt.Errorf("%w: run %s ended, but no run-file exporter in the tracer provider's pipeline took it%s; register one with sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)), or start the run with tracker.WithoutRunFile() to record spans only", ErrNoRunFile, r.id, why)
}

// askWaiter asks the deprecated WithRunFileWaiter's w for the run file.
// flushed: the provider was flushed, so the waiter has seen every span it
// will see and its answer is taken now.
func (r *Run) askWaiter(ctx context.Context, w RunFileWaiter, flushed bool) (string, error) {
	if flushed {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		cancel()
	}
	path, err := w.WaitRunFile(ctx, r.id)
	if err != nil {
		return "", fmt.Errorf("tracker: run %s: %w", r.id, err)
	}
	return path, nil
}

// SetError marks the run failed with err's message, which becomes the run
// file's error and the run span's status, whatever its stages did. The
// last call before Finalize counts; nil clears it.
//
// Without SetError, the run fails when the last attempt of a stage name (at
// one nesting level) failed or never finished, and its error names that
// stage: stage "test" failed: exit status 1. A stage that failed and then
// passed on retry does not fail the run.
func (r *Run) SetError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runErr = ""
	if err != nil {
		r.runErr = err.Error()
	}
}

// Interrupt finalises the run as Finalize does, with status "interrupted"
// and reason as its error: for a run cut short by a signal or a
// cancellation, as FinalizeOnSignal does for every open run.
func (r *Run) Interrupt(ctx context.Context, reason string) error {
	return r.finalize(ctx, keys.StatusInterrupted, reason, "")
}

// flushJoined ends a joined run: the run span belongs to the owner, so only
// this process's spans are flushed, the count span last (endCount).
func (r *Run) flushJoined(ctx context.Context) error {
	r.endCount()
	if f, ok := r.tp.(interface{ ForceFlush(context.Context) error }); ok {
		if err := f.ForceFlush(ctx); err != nil {
			otel.Handle(fmt.Errorf("tracker: flush joined run %s: %w", r.id, err))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

// endCount ends the count span of a joined run that ended stages: how many
// this process ended, so that the run file can tell when some of them did
// not arrive (docs/attributes.md, "The count span"). Its parent is the
// span the stages were joined under, so that it travels in the run's
// trace, as they do, to wherever they went.
func (r *Run) endCount() {
	r.mu.Lock()
	n := r.ended
	r.mu.Unlock()
	if n == 0 {
		return
	}
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), r.spanCtx)
	var start []trace.SpanStartOption
	if now := r.tracker.cfg.now; now != nil {
		start = append(start, trace.WithTimestamp(now()))
	}
	start = append(start, trace.WithAttributes(
		attribute.String(keys.ProcessRunID, r.id),
		attribute.Int(keys.ProcessStageCount, n),
	))
	_, span := r.tracer.Start(ctx, keys.CountSpanName, start...)
	span.End(r.endOptions()...)
}

func (r *Run) endOptions() []trace.SpanEndOption {
	if now := r.tracker.cfg.now; now != nil {
		return []trace.SpanEndOption{trace.WithTimestamp(now())}
	}
	return nil
}

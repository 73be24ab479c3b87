package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/provenance"
	"github.com/stage-tracker/stage-tracker/internal/runid"
)

// Errors reported by Run.Err and Run.Finalize. Test for them with errors.Is.
var (
	// ErrInvalidRunID: WithRunID was given something that is not a UUID.
	ErrInvalidRunID = errors.New("tracker: run id is not a UUID")
	// ErrArgsNotEncodable: the run's args cannot be encoded as JSON.
	ErrArgsNotEncodable = errors.New("tracker: args cannot be encoded as JSON")
	// ErrNotRecorded: the run's span was not sampled, or the tracer provider
	// does not record (no SDK installed), so no run file will exist. A
	// provider that samples other traffic keeps every run with the sampler
	// AlwaysSampleRuns.
	ErrNotRecorded = errors.New("tracker: run was not recorded")
	// ErrNoRunFile: no run-file exporter in the tracer provider's pipeline
	// took the run, so no run file was written. Register one
	// (jsonrun.NewProcessor), or record the run as spans only with
	// WithoutRunFile.
	ErrNoRunFile = errors.New("tracker: no run-file exporter took the run")
	// ErrNoOpenStage: EndStage named a stage that is not open.
	ErrNoOpenStage = errors.New("tracker: no open stage of that name")
	// ErrNoParent: Join or StartOrJoin found a run id but no valid trace
	// parent (TRACEPARENT) to join it under.
	ErrNoParent = errors.New("tracker: no valid trace parent to join")
	// ErrEmptyStageName: StartStage was given an empty name.
	ErrEmptyStageName = errors.New("tracker: empty stage name")
)

// Tracker starts runs. A Tracker is safe for concurrent use and its zero
// value is not usable: make one with New.
type Tracker struct {
	cfg      config
	redact   redactor
	dataKeys dataKeys
	attrPool sync.Pool // *[]attribute.KeyValue: a stage's end attributes, reused

	// open holds the runs not yet finalised, for FinalizeOnSignal and
	// FinalizeOnPanic. Weak pointers, so that a run its caller abandons
	// without Finalize is not kept alive here.
	mu   sync.Mutex
	open map[weak.Pointer[Run]]struct{}

	process    processProvenance // what describes the process, captured once
	hasherOnce sync.Once
	fileHasher *provenance.Hasher // Stage.Input and Output's, made at first use
}

// New returns a Tracker configured by opts.
func New(opts ...Option) *Tracker {
	cfg := newConfig(opts)
	t := &Tracker{cfg: cfg, redact: newRedactor(cfg.redactKeys), open: make(map[weak.Pointer[Run]]struct{})}
	t.attrPool.New = func() any {
		a := make([]attribute.KeyValue, 0, 8+maxTypedKeys)
		return &a
	}
	return t
}

func (t *Tracker) provider() trace.TracerProvider {
	if t.cfg.tp != nil {
		return t.cfg.tp
	}
	return otel.GetTracerProvider()
}

// Start starts a run: a span named after the run that is the parent of the
// run's stages. When ctx already holds a span, such as the request span of an
// instrumented HTTP handler, the run is its child, in the same trace. args is
// any JSON-encodable value describing the run (a string, a config struct); it
// is recorded on the run span and in the run file.
//
// Start never fails: problems with its input are reported by Run.Err and by
// Run.Finalize, and the run is still recorded. The returned context holds
// the run span; pass it to StartStage.
func (t *Tracker) Start(ctx context.Context, args any, opts ...RunOption) (context.Context, *Run) {
	var rc runConfig
	for _, o := range opts {
		rc = o.applyRun(rc)
	}
	tp := t.provider()
	r := &Run{
		tracker:   t,
		tp:        tp,
		spansOnly: t.cfg.spansOnly || rc.spansOnly,
		tracer:    tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version)),
		open:      make(map[string][]*Stage),
	}

	switch id, err := runid.Canonical(rc.id); {
	case rc.id == "":
		r.id = uuid.NewString()
	case err != nil:
		r.id = uuid.NewString()
		r.errs = append(r.errs, fmt.Errorf("%w: %v; recorded as run %s instead", ErrInvalidRunID, err, r.id))
	default:
		r.id = id // one spelling, whatever form was given
	}

	name := rc.name
	if name == "" {
		if s, ok := args.(string); ok && s != "" {
			name = s
		} else {
			name = "run"
		}
	}
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, attribute.String(keys.RunID, r.id))
	if args != nil {
		redacted, rerr := t.redact.apply(args)
		b, err := json.Marshal(redacted)
		switch {
		case rerr != nil:
			// Marked, not passed on: see ErrNotRedactable.
			r.errs = append(r.errs, fmt.Errorf("%w; run %s recorded with args null", rerr, r.id))
			attrs = append(attrs, attribute.String(keys.RunArgsError, "args "+strings.TrimPrefix(rerr.Error(), "tracker: value ")))
		case err != nil:
			r.errs = append(r.errs, fmt.Errorf("%w: %v; run %s recorded with args null", ErrArgsNotEncodable, err, r.id))
			attrs = append(attrs, attribute.String(keys.RunArgsError, "args cannot be encoded as JSON: "+err.Error()))
		default:
			attrs = append(attrs, attribute.String(keys.RunArgs, string(b)), attribute.Int(keys.RunArgsSize, len(b)))
		}
	}
	if rc.outputFile != "" {
		attrs = append(attrs, attribute.String(keys.RunOutputFile, rc.outputFile))
	}
	r.prov, r.provPending = t.runProvenance(ctx, &rc)
	if r.prov != nil && !provenance.Empty(r.prov) {
		attrs = append(attrs, provenanceKV(r.prov))
	}
	// The semantic conventions' names, after ours: the exporter needs
	// only ours, so a count limit drops these first.
	attrs = append(attrs, semconv.CICDPipelineName(name), semconv.CICDPipelineRunID(r.id))
	attrs = append(attrs, t.cfg.baggageAttributes(ctx)...)

	spanOpts := []trace.SpanStartOption{trace.WithAttributes(attrs...)}
	if t.cfg.now != nil {
		spanOpts = append(spanOpts, trace.WithTimestamp(t.cfg.now()))
	}
	r.name = name
	r.metrics = newInstruments(t.cfg.mp)
	r.started = r.metrics.runStart()
	ctx, r.span = r.tracer.Start(ctx, name, spanOpts...)
	r.spanCtx = r.span.SpanContext()
	ctx = context.WithValue(ctx, scopeKey{}, &scope{run: r})
	wp := weak.Make(r)
	t.mu.Lock()
	t.open[wp] = struct{}{}
	t.mu.Unlock()
	runtime.AddCleanup(r, t.forget, wp)
	return ctx, r
}

// TracerProvider returns the provider the tracker makes spans with: the one
// given with WithTracerProvider, else the current global provider. Use it to
// instrument other work in the same traces.
func (t *Tracker) TracerProvider() trace.TracerProvider { return t.provider() }

// forget removes a run from the open set.
func (t *Tracker) forget(wp weak.Pointer[Run]) {
	t.mu.Lock()
	delete(t.open, wp)
	t.mu.Unlock()
}

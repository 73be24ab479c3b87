package jsonrun

import (
	"context"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Processor is the span processor that setup.Tracker registers: it hands
// run spans to its Exporter synchronously as they end, as
// sdktrace.NewSimpleSpanProcessor does, so no stage is ever dropped, and it
// keeps the journal of every open run, so that a stage that has ended is on
// disk before Stage.End returns.
//
// A Processor is safe for concurrent use.
type Processor struct {
	exp *Exporter
}

var _ sdktrace.SpanProcessor = (*Processor)(nil)

// NewProcessor returns a Processor that exports to exp.
func NewProcessor(exp *Exporter) *Processor { return &Processor{exp: exp} }

// OnStart opens the journal of a run span and records the start of a stage
// span. Other spans cost a string comparison.
func (p *Processor) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	// The scope first: for the spans of other tracers, one method call.
	// Only the tracker's runs and stages are journaled as they start.
	if !byTracker(s) {
		return
	}
	runID, role := classify(s, AttributeRoots)
	if role == roleNone || !s.SpanContext().IsSampled() {
		return
	}
	var err error
	if role == roleRoot {
		root := newRootRecord(s)
		err = p.exp.startJournal(&root, runID)
	} else {
		rec := newStageRecord(s, &p.exp.procs)
		err = p.exp.journalStage(&rec, runID)
	}
	if err != nil {
		otel.Handle(err)
	}
}

// OnEnd exports spans as ExportSpans does: a stage, of any scope, goes to
// its run's journal and buffer, a run span makes the run file. Errors go to
// the OpenTelemetry error handler; Run.Finalize also reports the run file's
// own errors.
func (p *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
	if err := p.exp.export(s, true); err != nil {
		otel.Handle(err)
	}
}

// Shutdown shuts the exporter down.
func (p *Processor) Shutdown(ctx context.Context) error { return p.exp.Shutdown(ctx) }

// ForceFlush does nothing: run spans are exported as they end.
func (p *Processor) ForceFlush(ctx context.Context) error { return ctx.Err() }

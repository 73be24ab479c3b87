package jsonrun

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Processor is the span processor to register a jsonrun Exporter with, as
// setup.Tracker does: it hands run spans to its Exporter synchronously as
// they end, as sdktrace.NewSimpleSpanProcessor does, so no stage is ever
// dropped, and it keeps the journal of every open run, so that a stage that
// has ended is on disk before Stage.End returns.
//
// A new Processor also recovers, in the background, the runs of processes
// that died in the exporter's directory: their journals become run files,
// as Exporter.Recover makes them (WithoutRecovery turns this off). Journals
// that a live process holds, this one's included, are left alone, so the
// recovery never races with the runs being recorded. Shutdown waits for it.
//
// A Processor is safe for concurrent use.
type Processor struct {
	exp *Exporter

	// The background recovery: stopRecovery cancels it, and recovered is
	// closed when it has returned. Both nil without it (WithoutRecovery).
	stopRecovery context.CancelFunc
	recovered    chan struct{}
}

var _ sdktrace.SpanProcessor = (*Processor)(nil)

// NewProcessor returns a Processor that exports to exp, and starts the
// recovery of the orphaned journals in exp's directory unless exp was made
// WithoutRecovery. It does not wait for the recovery: a provider is
// ready to record at once.
func NewProcessor(exp *Exporter) *Processor {
	p := &Processor{exp: exp}
	if exp.cfg.recover {
		ctx, cancel := context.WithCancel(context.Background())
		p.stopRecovery, p.recovered = cancel, make(chan struct{})
		go p.recover(ctx)
	}
	return p
}

// recover recovers the exporter's directory. A journal that cannot be
// recovered stays for a later attempt; its error goes to the OpenTelemetry
// error handler, and must not keep the program from recording its own runs.
func (p *Processor) recover(ctx context.Context) {
	defer close(p.recovered)
	if _, err := p.exp.Recover(ctx); err != nil && !errors.Is(err, context.Canceled) {
		otel.Handle(fmt.Errorf("jsonrun: recover orphaned journals in %s: %w", p.exp.cfg.dir, err))
	}
}

// OnStart opens the journal of a run span and records the start of a stage
// span. Other spans cost a string comparison.
func (p *Processor) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	// The scope first: for the spans of other tracers, one method call.
	// Only the tracker's runs and stages are journaled as they start.
	if !byTracker(s) {
		return
	}
	runID, role := classify(s, AttributeRoots)
	if role == roleNone || role == roleBadRunID || role == roleCount || !s.SpanContext().IsSampled() {
		return // a count span is only an end
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

// Shutdown waits for the background recovery to finish (when ctx ends
// first, it stops the recovery between two journals and waits for that)
// and shuts the exporter down.
func (p *Processor) Shutdown(ctx context.Context) error {
	var errs []error
	if p.recovered != nil {
		if err := p.waitRecovery(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, p.exp.Shutdown(ctx))...)
}

// waitRecovery waits for the background recovery to return, stopping it
// when ctx ends first.
func (p *Processor) waitRecovery(ctx context.Context) error {
	defer p.stopRecovery() // releases the context's resources
	select {
	case <-p.recovered:
		return nil // finished, whatever ctx says
	default:
	}
	select {
	case <-p.recovered:
		return nil
	case <-ctx.Done():
		p.stopRecovery()
		<-p.recovered // Recover checks its context between two journals
		return fmt.Errorf("jsonrun: shut down before the recovery of %s finished: %w", p.exp.cfg.dir, ctx.Err())
	}
}

// ForceFlush does nothing: run spans are exported as they end.
func (p *Processor) ForceFlush(ctx context.Context) error { return ctx.Err() }

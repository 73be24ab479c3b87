package jsonrun

import (
	"fmt"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Routing by trace id. A span that names no run (no stage_tracker.run.id:
// another language's SDK, a library under a tracker's stage) is a stage of
// the run its trace belongs to. The exporter learns a trace's run from the
// spans that name it: the root, or a tracker's stage. Spans of a trace not
// known yet either are ignored (the default) or wait in a bucket, an
// openRun marked pending, until a span reveals the run (WithPendingSpans).

// maxWaitingSpans bounds the spans one trace keeps while it waits for its
// run: the memory of a waiting trace is bounded, whatever sends it.
const maxWaitingSpans = 10000

// routesByTrace reports whether a span that names no run can be a stage:
// a run is known by its trace, or spans wait for theirs.
func (e *Exporter) routesByTrace() bool {
	return e.cfg.pendingWait > 0 || e.traced.Load() > 0
}

// traceStage routes a span that names no run; export calls it only when
// routesByTrace.
func (e *Exporter) traceStage(s sdktrace.ReadOnlySpan) error {
	keep := e.cfg.pendingWait > 0
	tid := s.SpanContext().TraceID()
	if !keep {
		e.mu.Lock()
		r := e.byTrace[tid]
		e.mu.Unlock()
		if r == nil || r.marksRes(s.Resource().Equivalent()) {
			return nil
		}
		return e.addStages(r, nil, newStageRecord(s, &e.procs))
	}
	rec := newStageRecord(s, &e.procs)
	e.mu.Lock()
	if e.stopped || e.doneTraces.has(tid) {
		e.mu.Unlock()
		return nil
	}
	r := e.byTrace[tid]
	if r != nil && !r.pending {
		e.mu.Unlock()
		return e.addStages(r, nil, rec)
	}
	now := e.cfg.clock.Now()
	e.sweepLocked(now)
	if r == nil || !r.pending {
		r = &openRun{pending: true, since: now, inMemory: true}
		e.byTrace[tid] = r
		r.traces = []trace.TraceID{tid}
		e.traced.Add(1)
		e.pendQ = append(e.pendQ, r)
		e.memQ = append(e.memQ, r)
		e.inMem++
	}
	if r.stages.n < maxWaitingSpans {
		r.stages.add(rec)
	} else {
		r.overflow++
	}
	evicted := e.evictLocked(e.cfg.maxPendingRuns)
	e.mu.Unlock()
	return e.spill(evicted)
}

// linkLocked makes tid's spans go to r, and returns the stages that waited
// for tid in a bucket. A trace already linked to another run stays with it.
// e.mu must be held.
func (e *Exporter) linkLocked(r *openRun, tid trace.TraceID) []stageRecord {
	b := e.byTrace[tid]
	switch {
	case b == r:
		return nil
	case b == nil:
		e.byTrace[tid] = r
		e.traced.Add(1)
		r.traces = append(r.traces, tid)
		return nil
	case b.pending:
		adopted := b.stages.all()
		if b.overflow > 0 {
			r.note(fmt.Sprintf("%d spans that arrived before the run was known were dropped: more than %d waited", b.overflow, maxWaitingSpans))
		}
		e.dropBucketLocked(b)
		e.byTrace[tid] = r
		e.traced.Add(1)
		r.traces = append(r.traces, tid)
		return adopted
	}
	return nil
}

// unlinkLocked forgets the traces of r, a run taken off the open runs, and
// remembers them as written, so that their late spans are dropped rather
// than wait for a run that will not come. e.mu must be held.
func (e *Exporter) unlinkLocked(r *openRun) {
	for _, tid := range r.traces {
		if e.byTrace[tid] == r {
			delete(e.byTrace, tid)
			e.traced.Add(-1)
			e.doneTraces.add(tid)
		}
	}
	r.traces = nil
}

// dropBucketLocked forgets a bucket: its trace's run was found (its stages
// were taken), or never came. e.mu must be held.
func (e *Exporter) dropBucketLocked(b *openRun) {
	for _, tid := range b.traces {
		if e.byTrace[tid] == b {
			delete(e.byTrace, tid)
			e.traced.Add(-1)
		}
	}
	b.traces = nil
	b.pending = false
	b.stages = stageBuffer{}
	if b.inMemory {
		b.inMemory = false
		e.inMem--
	}
}

// sweepLocked drops the buckets that have waited longer than
// WithPendingSpans allows. Buckets are in pendQ in the order they were
// made, so it stops at the first that may still wait. e.mu must be held.
func (e *Exporter) sweepLocked(now time.Time) {
	for len(e.pendQ) > 0 {
		b := e.pendQ[0]
		if b.pending && now.Sub(b.since) < e.cfg.pendingWait {
			return
		}
		if b.pending {
			e.dropBucketLocked(b)
		}
		e.pendQ[0] = nil
		e.pendQ = e.pendQ[1:]
	}
}

// traceHasRun reports whether trace tid belongs to a run, open or written.
func (e *Exporter) traceHasRun(tid trace.TraceID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.byTrace[tid]
	return (r != nil && !r.pending) || e.doneTraces.has(tid)
}

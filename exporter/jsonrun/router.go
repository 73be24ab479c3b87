package jsonrun

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"

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

// traceRouter maps trace ids to the open run their spans go to, and keeps
// the buckets of traces waiting for their run. A trace is in one of three
// states: linked (byTrace names an open run), waiting (byTrace names a
// bucket), or done (its run was written: in done, with the run's id and
// the processes that mark its stages, so that its later spans are merged
// into the run file, as late stages, and not kept waiting). A bucket ends adopted by its run (link), swept after
// WithPendingSpans' wait, evicted by the memory bound (runTable.evict), or
// at Shutdown.
//
// Not safe for concurrent use: Exporter.mu guards it, except routes, which
// reads only wait and traced. Buckets count against the runTable's memory
// bound, so the methods that drop one take the table.
type traceRouter struct {
	// wait is WithPendingSpans' wait: how long spans of a trace with no
	// known run wait in a bucket; 0: they are ignored. Set once, by New.
	wait time.Duration
	// byTrace holds each linked or waiting trace's run or bucket.
	// Invariants: r.traces lists exactly the traces that byTrace maps to
	// r; a bucket has one trace, its pending is set, and it is in pendQ.
	byTrace map[trace.TraceID]*openRun
	// traced is len(byTrace), read without the lock: while it is 0 a span
	// that names no run is ignored at the cost of an atomic load.
	traced atomic.Int64
	// done holds the traces of runs written lately, the last maxResults.
	done  map[trace.TraceID]doneTrace
	doneQ []trace.TraceID // done's traces, oldest first, for its bound
	// pendQ holds the buckets in the order they were made, oldest first,
	// for the sweep; it may hold buckets dropped already (pending unset),
	// skipped there.
	pendQ []*openRun
	// dropped counts the spans that waited for their run and were
	// dropped: it did not come in time, a bucket was full, the memory
	// bound evicted it, or Shutdown came first (Stats.DroppedSpans).
	dropped atomic.Int64
}

func newTraceRouter(wait time.Duration) traceRouter {
	return traceRouter{wait: wait, byTrace: make(map[trace.TraceID]*openRun)}
}

// routes reports whether a span that names no run can be a stage: a run
// is known by its trace, or spans wait for theirs.
func (t *traceRouter) routes() bool {
	return t.wait > 0 || t.traced.Load() > 0
}

// lookup returns the run or bucket of trace tid, or nil.
func (t *traceRouter) lookup(tid trace.TraceID) *openRun { return t.byTrace[tid] }

// hasRun reports whether trace tid belongs to a run, open or written.
func (t *traceRouter) hasRun(tid trace.TraceID) bool {
	r := t.byTrace[tid]
	_, done := t.done[tid]
	return (r != nil && !r.pending) || done
}

// doneTrace is what the router keeps of a trace whose run was written: the
// run, and the resources of the processes that mark its stages (marks.go),
// whose spans that name no run are their libraries', not late stages.
type doneTrace struct {
	runID string
	marks marks
}

// finished returns the run of trace tid, when it was written lately.
func (t *traceRouter) finished(tid trace.TraceID) (doneTrace, bool) {
	d, ok := t.done[tid]
	return d, ok
}

// addDone remembers tid as a trace of run d, forgetting the oldest beyond
// maxResults.
func (t *traceRouter) addDone(tid trace.TraceID, d doneTrace) {
	if t.done == nil {
		t.done = make(map[trace.TraceID]doneTrace)
	}
	if _, ok := t.done[tid]; !ok {
		t.doneQ = append(t.doneQ, tid)
	}
	t.done[tid] = d
	for len(t.doneQ) > maxResults {
		delete(t.done, t.doneQ[0])
		t.doneQ = t.doneQ[1:]
	}
}

// hold keeps rec in the bucket of trace tid, a trace that has no run yet
// (byTrace names no open run of it), making the bucket when there is
// none, after dropping the buckets that have waited too long. A bucket
// keeps at most maxWaitingSpans spans and counts those it dropped.
func (t *traceRouter) hold(tid trace.TraceID, rec stageRecord, now time.Time, mem *runTable) {
	t.sweep(now, mem)
	b := t.byTrace[tid]
	if b == nil || !b.pending {
		b = &openRun{pending: true, since: now}
		t.byTrace[tid] = b
		b.traces = []trace.TraceID{tid}
		t.traced.Add(1)
		t.pendQ = append(t.pendQ, b)
		mem.hold(b)
	}
	if b.stages.n < maxWaitingSpans {
		b.stages.add(rec)
	} else {
		b.overflow++
		t.dropped.Add(1)
	}
}

// link makes tid's spans go to r, and returns the stages that waited for
// tid in a bucket. A trace already linked to another run stays with it.
func (t *traceRouter) link(r *openRun, tid trace.TraceID, mem *runTable) []stageRecord {
	b := t.byTrace[tid]
	switch {
	case b == r:
		return nil
	case b == nil:
		t.byTrace[tid] = r
		t.traced.Add(1)
		r.traces = append(r.traces, tid)
		return nil
	case b.pending:
		adopted := b.stages.all()
		if b.overflow > 0 {
			r.note(fmt.Sprintf("%d spans that arrived before the run was known were dropped: more than %d waited", b.overflow, maxWaitingSpans))
		}
		t.dropBucket(b, mem)
		t.byTrace[tid] = r
		t.traced.Add(1)
		r.traces = append(r.traces, tid)
		return adopted
	}
	return nil
}

// unlink forgets the traces of r, a run taken off the open runs, and
// remembers them as done, so that their late spans are not kept waiting
// for a run that will not come.
func (t *traceRouter) unlink(r *openRun) {
	var d doneTrace
	if len(r.traces) > 0 {
		r.mu.Lock()
		d = doneTrace{runID: r.id, marks: slices.Clone(r.marks)}
		r.mu.Unlock()
	}
	for _, tid := range r.traces {
		if t.byTrace[tid] == r {
			delete(t.byTrace, tid)
			t.traced.Add(-1)
			t.addDone(tid, d)
		}
	}
	r.traces = nil
}

// dropBucket forgets a bucket: its trace's run was found (its stages were
// taken), or never came.
func (t *traceRouter) dropBucket(b *openRun, mem *runTable) {
	for _, tid := range b.traces {
		if t.byTrace[tid] == b {
			delete(t.byTrace, tid)
			t.traced.Add(-1)
		}
	}
	b.traces = nil
	b.pending = false
	b.stages = stageBuffer{}
	mem.release(b)
}

// sweep drops the buckets that have waited longer than wait. Buckets are
// in pendQ in the order they were made, so it stops at the first that may
// still wait.
func (t *traceRouter) sweep(now time.Time, mem *runTable) {
	for len(t.pendQ) > 0 {
		b := t.pendQ[0]
		if b.pending && now.Sub(b.since) < t.wait {
			return
		}
		if b.pending {
			t.dropped.Add(int64(b.stages.n))
			t.dropBucket(b, mem)
		}
		t.pendQ[0] = nil
		t.pendQ = t.pendQ[1:]
	}
}

// reset forgets every trace and drops every bucket, unwritten: at
// Shutdown, waiting traces that never met their run are lost.
func (t *traceRouter) reset() {
	for _, b := range t.pendQ {
		if b != nil && b.pending {
			t.dropped.Add(int64(b.stages.n))
		}
	}
	t.byTrace, t.pendQ = nil, nil
	t.traced.Store(0)
}

package jsonrun

// runTable holds the exporter's open runs by id, and bounds how many of
// them hold their stages in memory (WithMaxPendingRuns). The bound counts
// the trace router's waiting buckets too: past it the oldest run or bucket
// is evicted, a run to spill its stages to its journal (Exporter.spill), a
// bucket to be dropped (traceRouter.dropBucket).
//
// A run enters the table when its first span arrives (a stage, its run
// span, Join or Resume) and leaves it once (take): to be written, closed,
// disowned, detached, or at Shutdown. Only runs opened by a stage are
// counted in memory (hold): a run opened by its run span is finishing
// already, and a joined or resumed run keeps its stages on disk.
//
// Not safe for concurrent use: Exporter.mu guards it, and the inMemory
// field of each openRun and bucket.
type runTable struct {
	// byID holds the runs not yet taken, joined ones included. Invariant:
	// byID[id].id == id; a run taken off is never put back (a later span
	// of its id opens a new openRun, or is merged late, or dropped).
	byID map[string]*openRun
	// max is WithMaxPendingRuns: how many runs and buckets may hold their
	// stages in memory.
	max int
	// inMem counts the runs and buckets with inMemory set. Invariant:
	// inMem <= max once evict has run; it equals the number of entries of
	// memQ with inMemory set, and only the table moves inMemory.
	inMem int
	// memQ holds the runs and buckets counted in inMem, in the order they
	// were counted, oldest first, for eviction. It may also hold entries
	// no longer counted (taken, dropped, evicted), skipped there and
	// compacted away once they outnumber the counted ones.
	memQ []*openRun
}

func newRunTable(maxInMemory int) runTable {
	return runTable{byID: make(map[string]*openRun), max: maxInMemory}
}

// get returns the open run of runID, or nil.
func (t *runTable) get(runID string) *openRun { return t.byID[runID] }

// add makes r the open run of its id.
func (t *runTable) add(r *openRun) { t.byID[r.id] = r }

// hold counts r, a run or a bucket, against the memory bound.
func (t *runTable) hold(r *openRun) {
	r.inMemory = true
	t.memQ = append(t.memQ, r)
	t.inMem++
}

// release takes r off the memory count, if it is on it.
func (t *runTable) release(r *openRun) {
	if r.inMemory {
		r.inMemory = false
		t.inMem--
	}
}

// take removes runID from the open runs and off the memory count, and
// returns it, or nil.
func (t *runTable) take(runID string) *openRun {
	r := t.byID[runID]
	if r == nil {
		return nil
	}
	delete(t.byID, runID)
	t.release(r)
	return r
}

// takeAll empties the table and returns what it held.
func (t *runTable) takeAll() map[string]*openRun {
	open := t.byID
	t.byID = make(map[string]*openRun)
	t.memQ, t.inMem = nil, 0
	return open
}

// evict takes the oldest runs and buckets off the memory count until at
// most max remain, and returns them: the runs to spill, the buckets to
// drop.
func (t *runTable) evict() []*openRun {
	var out []*openRun
	for t.inMem > t.max && len(t.memQ) > 0 {
		r := t.memQ[0]
		t.memQ = t.memQ[1:]
		if r.inMemory {
			t.release(r)
			out = append(out, r)
		}
	}
	if len(t.memQ) > 2*t.inMem+64 {
		kept := make([]*openRun, 0, t.inMem)
		for _, r := range t.memQ {
			if r.inMemory {
				kept = append(kept, r)
			}
		}
		t.memQ = kept
	}
	return out
}

package jsonrun

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/stage-tracker/stage-tracker/internal/runresult"
)

// results hands the outcome of each written run to the Run.Finalize that
// waits for it, through runresult: the one way a result reaches Finalize.
// A result no Finalize took is kept until WaitRunFile (deprecated) takes
// it. A caller that never asks must not make it grow without bound, and a
// caller that asks late must still find its result: a result is dropped
// only when more than maxResults are kept and it has waited resultTTL.
//
// results is safe for concurrent use.
type results struct {
	mu      sync.Mutex
	byRun   map[string]result
	order   []string      // run ids in the order stored; may hold taken ones
	changed chan struct{} // closed and replaced when a result is stored
	now     func() time.Time
}

const (
	maxResults = 4096
	resultTTL  = time.Minute
)

func newResults() *results {
	return &results{byRun: make(map[string]result), changed: make(chan struct{}), now: time.Now}
}

// settle hands the final result of runID, whose run span is root's (nil
// when its run span never arrived), to the Run.Finalize waiting for it, or
// else stores it for WaitRunFile.
func (rs *results) settle(runID string, root *rootRecord, r result) {
	if root != nil && runresult.Publish(runresult.Key{Trace: root.traceID, Span: root.spanID}, runresult.Result{Path: r.path, Err: r.err}) {
		return
	}
	rs.store(runID, r)
}

// store records the final result of runID.
func (rs *results) store(runID string, r result) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r.at = rs.now()
	if _, ok := rs.byRun[runID]; !ok {
		rs.order = append(rs.order, runID)
	}
	rs.byRun[runID] = r
	for len(rs.order) > 0 && len(rs.byRun) > maxResults {
		old, ok := rs.byRun[rs.order[0]]
		if ok && r.at.Sub(old.at) < resultTTL {
			break
		}
		delete(rs.byRun, rs.order[0])
		rs.order = rs.order[1:]
	}
	if len(rs.order) > 2*len(rs.byRun)+64 { // taken ones: compact
		kept := rs.order[:0]
		for _, id := range rs.order {
			if _, ok := rs.byRun[id]; ok {
				kept = append(kept, id)
			}
		}
		rs.order = kept
	}
	close(rs.changed)
	rs.changed = make(chan struct{})
}

// take waits for the result of runID and removes it.
func (rs *results) take(ctx context.Context, runID string) (string, error) {
	for {
		rs.mu.Lock()
		r, ok := rs.byRun[runID]
		if ok {
			delete(rs.byRun, runID)
		}
		changed := rs.changed
		rs.mu.Unlock()
		if ok {
			return r.path, r.err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("jsonrun: no run file for run %s: %w", runID, ctx.Err())
		case <-changed:
		}
	}
}

// recentRuns remembers the ids of the last maxResults runs written, so that
// a span arriving after its run was written is dropped instead of opening
// the run again. Not safe for concurrent use: Exporter.mu guards it.
type recentRuns = recentSet[string]

// recentSet remembers the last maxResults keys added: run ids, or the trace
// ids of written runs. Not safe for concurrent use.
type recentSet[K comparable] struct {
	ids   map[K]struct{}
	order []K
}

func (rr *recentSet[K]) add(id K) {
	if rr.ids == nil {
		rr.ids = make(map[K]struct{})
	}
	rr.ids[id] = struct{}{}
	rr.order = append(rr.order, id)
	if len(rr.order) > maxResults {
		delete(rr.ids, rr.order[0])
		rr.order = rr.order[1:]
	}
}

func (rr *recentSet[K]) has(id K) bool {
	_, ok := rr.ids[id]
	return ok
}

// claimRun tells a Run.Finalize waiting for the run of root that this
// exporter has its run span and will write the file later (it waits for
// late stages), so that Finalize waits for the file instead of reporting
// that no run-file exporter saw the run.
func claimRun(root *rootRecord) {
	runresult.Claim(runresult.Key{Trace: root.traceID, Span: root.spanID})
}

package jsonrun

import (
	"errors"

	"go.opentelemetry.io/otel"
)

// How an open run ends. Its run span arrives (rootArrived); the run is
// taken off the open runs and marked finishing (markFinishingLocked, in
// finished.go) at once, or, with WithLateStageWait, once its stage count
// is met (stageArrived) or the wait ends (complete). Either way
// finishTaken (exporter.go) writes its file (openRun.writeFile), records
// it as written, and publishes the result; Shutdown ends the runs still
// open through finishTaken too, with their root when it waits, else
// without one, as incomplete.

// rootArrived writes the run file of a run whose run span arrived, now or,
// with WithLateStageWait, once its last stages are in. A run has one run
// span: the first to start here (Processor) or to end here owns it; any
// other is refused, and changes nothing.
func (e *Exporter) rootArrived(root *rootRecord, runID string) error {
	e.mu.Lock()
	if e.stopped || e.closed.has(runID) {
		e.mu.Unlock()
		return nil
	}
	r := e.runs.get(runID)
	if r == nil && e.finishedLocked(runID) {
		e.mu.Unlock()
		return e.rootOfFinished(root, runID)
	}
	switch {
	case r == nil:
		var err error
		if e.cfg.lateWait > 0 {
			// It waits: with a store, its root is kept there.
			r, err = e.openLocked(runID, nil)
		} else {
			r = &openRun{id: runID, opened: e.cfg.clock.Now()}
			e.runs.add(r)
		}
		if err != nil {
			e.mu.Unlock()
			return err
		}
	case r.joined:
		e.mu.Unlock()
		return e.refuseRoot(runID, root, "this process joined the run, which another process owns")
	case r.owner.IsValid() && r.owner != root.spanID:
		e.mu.Unlock()
		return e.refuseRoot(runID, root, "the run's run span is "+r.owner.String())
	case r.root != nil:
		e.mu.Unlock()
		return nil // the root arrived twice: the first one waits already
	}
	r.owner = root.spanID
	adopted := e.router.link(r, root.traceID, &e.runs)
	r.markRoot(root)
	if e.cfg.lateWait > 0 {
		r.root = root
		claimRun(root) // a Finalize waiting for it waits for the file, not only the flush
		e.wg.Add(1)
		r.timer = e.cfg.clock.AfterFunc(e.cfg.lateWait, func() {
			defer e.wg.Done()
			if err := e.complete(r, false); err != nil {
				otel.Handle(err)
			}
		})
		e.mu.Unlock()
		var rerr error
		if sr, ok := r.journal.(*storeRun); ok {
			// Acknowledged, the root must outlive a crash during the
			// wait: ExportSpans commits this line before it returns.
			rerr = sr.writeRoot(root, e.cfg.clock.Now().UnixNano(), e.host)
		}
		// Adding the stages that waited may be all the run needs.
		return errors.Join(rerr, e.addStages(r, adopted))
	}
	e.markFinishingLocked(r, root)
	e.mu.Unlock()
	if err := e.addStages(r, adopted); err != nil {
		otel.Handle(err)
	}
	if sr, ok := r.journal.(*storeRun); ok {
		// The store holds the run until its file is synced: with its root.
		if err := sr.writeRoot(root, e.cfg.clock.Now().UnixNano(), e.host); err != nil {
			otel.Handle(err)
		}
	}
	return e.finishTaken(r, root)
}

// stageArrived writes the file of a run waiting for its late stages when
// the last of them, by its root's stage count, has arrived.
func (e *Exporter) stageArrived(r *openRun) error {
	if e.cfg.lateWait == 0 {
		return nil
	}
	e.mu.Lock()
	root := r.root
	e.mu.Unlock()
	if root == nil || root.stageCount < 0 {
		return nil
	}
	r.mu.Lock()
	n := r.arrived
	if root.tracker {
		n = r.own.of(root) // its count covers its own process
	}
	r.mu.Unlock()
	if n < root.stageCount {
		return nil
	}
	return e.complete(r, true)
}

// complete writes the file of r, whose root waits for late stages, unless
// that happened already. stop: stop the wait's timer.
func (e *Exporter) complete(r *openRun, stop bool) error {
	e.mu.Lock()
	root := r.root
	if root == nil || e.runs.get(r.id) != r {
		e.mu.Unlock()
		return nil
	}
	r.root = nil
	if stop && r.timer.Stop() {
		e.wg.Done()
	}
	e.markFinishingLocked(r, root)
	e.mu.Unlock()
	return e.finishTaken(r, root)
}

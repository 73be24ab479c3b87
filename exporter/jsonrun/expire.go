package jsonrun

import (
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// expiry ends the runs whose run span has not come WithOpenRunTimeout
// after they opened: they are written as incomplete, saying why, so that
// a run id sent once (a flood of them, or a producer that died) does not
// hold the store's room for ever. Runs open in the order they are
// queued, so one timer, set for the oldest, serves them all. Not safe for
// concurrent use: Exporter.mu guards it.
type expiry struct {
	q     []*openRun // the runs opened, oldest first; taken runs are skipped
	timer stopper    // set for q[0]; nil when none is set
}

// expireLaterLocked queues r, just opened, for its timeout. e.mu must be
// held.
func (e *Exporter) expireLaterLocked(r *openRun) {
	if e.cfg.openTimeout <= 0 || r.joined {
		return
	}
	e.expiry.q = append(e.expiry.q, r)
	if e.expiry.timer == nil {
		e.armExpiryLocked()
	}
}

// armExpiryLocked sets the timer for the oldest queued run. e.mu must be
// held.
func (e *Exporter) armExpiryLocked() {
	if len(e.expiry.q) == 0 || e.stopped {
		e.expiry.timer = nil
		return
	}
	d := e.expiry.q[0].opened.Add(e.cfg.openTimeout).Sub(e.cfg.clock.Now())
	e.wg.Add(1)
	e.expiry.timer = e.cfg.clock.AfterFunc(max(d, 0), func() {
		defer e.wg.Done()
		e.expire()
	})
}

// stopExpiryLocked stops the timer (Shutdown). e.mu must be held.
func (e *Exporter) stopExpiryLocked() {
	if e.expiry.timer != nil && e.expiry.timer.Stop() {
		e.wg.Done()
	}
	e.expiry.timer = nil
	e.expiry.q = nil
}

// expireWhy is why a run that timed out is incomplete.
const expireWhy = "the run span did not arrive within %s of the run's first span (open_run_timeout)"

// expire writes the runs whose time is up as incomplete and sets the
// timer for the next.
func (e *Exporter) expire() {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return
	}
	now := e.cfg.clock.Now()
	var due []*openRun
	for len(e.expiry.q) > 0 {
		r := e.expiry.q[0]
		if e.runs.get(r.id) == r && r.root == nil {
			if r.opened.Add(e.cfg.openTimeout).After(now) {
				break
			}
			e.takeLocked(r.id)
			// Known as finished from now: a stage or a root arriving
			// while the file is written waits for it, then merges.
			e.done.add(r.id, trace.SpanID{})
			r.why = fmt.Sprintf(expireWhy, e.cfg.openTimeout)
			due = append(due, r)
		}
		e.expiry.q[0] = nil
		e.expiry.q = e.expiry.q[1:]
	}
	e.armExpiryLocked()
	e.mu.Unlock()
	for _, r := range due {
		res := r.writeFile(nil, &e.w)
		e.written(r.id, res.path)
		e.count.expiredRuns.Add(1)
		if err := e.settle(r.id, nil, res); err != nil {
			otel.Handle(err)
		}
	}
	if len(due) > 0 && e.store != nil {
		if err := e.store.commit(); err != nil {
			otel.Handle(err)
		}
	}
}

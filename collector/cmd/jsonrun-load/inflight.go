package main

import (
	"math"
	"sync"
)

// inFlight bounds the runs in flight, as a real deployment's are bounded
// by the pipelines running at once: the producers of stages send request
// i only once the first producer, whose requests carry the runs' roots,
// has sent request i-ahead. Without it the producers drift apart by
// thousands of runs, every run past WithMaxPendingRuns spills, and the
// figure is that of the spill path. The first producer never waits.
// Safe for concurrent use.
type inFlight struct {
	mu    sync.Mutex
	cond  *sync.Cond
	ahead int // requests; 0: unbounded
	sent  int // requests the first producer has sent
}

// newInFlight allows runs in flight (0: any number), batch runs a request.
func newInFlight(runs, batch int) *inFlight {
	w := &inFlight{}
	if runs > 0 {
		w.ahead = max(1, runs/batch)
	}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// wait returns once request i of a producer of stages may be sent.
func (w *inFlight) wait(i int) {
	if w.ahead == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.sent < i-w.ahead {
		w.cond.Wait()
	}
}

// done records that the first producer sent a request; with stop, that
// it stopped (an error), so that no producer waits for it.
func (w *inFlight) done(stop bool) {
	w.mu.Lock()
	w.sent++
	if stop {
		w.sent = math.MaxInt
	}
	w.mu.Unlock()
	w.cond.Broadcast()
}

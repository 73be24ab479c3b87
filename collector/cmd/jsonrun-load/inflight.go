package main

import (
	"math"
	"sync"
)

// inFlight bounds the runs in flight, as a real deployment's are bounded
// by the pipelines running at once: no producer sends request i before
// every other producer has sent request i-ahead. Without it the producers
// drift apart by thousands of runs, the runs past WithMaxPendingRuns
// spill, and the figure is that of the spill path. Safe for concurrent
// use.
type inFlight struct {
	mu    sync.Mutex
	cond  *sync.Cond
	ahead int   // requests; 0: unbounded
	sent  []int // requests each producer has sent
}

// newInFlight allows runs in flight (0: any number), batch runs a
// request, from producers.
func newInFlight(runs, batch, producers int) *inFlight {
	w := &inFlight{sent: make([]int, producers)}
	if runs > 0 {
		w.ahead = max(1, runs/batch)
	}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// wait returns once producer p may send its request i.
func (w *inFlight) wait(p, i int) {
	if w.ahead == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.behind(p) < i-w.ahead {
		w.cond.Wait()
	}
}

// behind is the fewest requests another producer than p has sent.
func (w *inFlight) behind(p int) int {
	least := math.MaxInt
	for q, n := range w.sent {
		if q != p {
			least = min(least, n)
		}
	}
	return least
}

// done records that producer p sent a request; with stop, that it
// stopped (an error), so that no producer waits for it.
func (w *inFlight) done(p int, stop bool) {
	w.mu.Lock()
	w.sent[p]++
	if stop {
		w.sent[p] = math.MaxInt
	}
	w.mu.Unlock()
	w.cond.Broadcast()
}

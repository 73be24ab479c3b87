// Package runresult is the one rendezvous between the tracker and the
// jsonrun exporter: it carries the outcome of writing a run file (its path,
// or the error that kept it from being written) from the exporter back to
// the Run.Finalize that is waiting for it.
//
// It exists because nothing else connects the two. A tracker is given only a
// trace.TracerProvider, and spans reach exporters as read-only snapshots
// through the SDK's span processors, so there is no channel from an
// exporter back to the code that ended a span. Without it, a tracker wired
// the standard OpenTelemetry way (jsonrun.New, sdktrace.WithSyncer or
// WithBatcher, tracker.WithTracerProvider) could not tell its caller that the
// run file was never written.
//
// It is the one piece of process-wide state in the module, and it stays
// small: a result is kept only while a waiter for that run span is
// registered (Publish with no waiter does nothing), and a waiter is removed
// by Close whatever happened, so nothing grows when nobody waits.
//
// All functions and methods are safe for concurrent use.
package runresult

import (
	"sync"

	"go.opentelemetry.io/otel/trace"
)

// Key names a run by its run span: a trace id and span id are unique to one
// run span, where a run id may be reused or forged.
type Key struct {
	Trace trace.TraceID
	Span  trace.SpanID
}

// Result is what became of a run's file.
type Result struct {
	Path string // where the run file was written; "" when Err is set
	Err  error  // why it could not be written, or nil
}

var (
	mu      sync.Mutex
	waiters = map[Key]*Waiter{}
)

// Waiter waits for the result of one run. It is safe for concurrent use.
type Waiter struct {
	key Key
	got bool
	res Result
}

// Wait registers a waiter for the run span key. Register it before the run
// span ends, so a synchronous exporter finds it; always Close it. A second
// Wait for the same key replaces the first.
func Wait(key Key) *Waiter {
	w := &Waiter{key: key}
	mu.Lock()
	waiters[key] = w
	mu.Unlock()
	return w
}

// Result returns the result published for the run, if any.
func (w *Waiter) Result() (Result, bool) {
	mu.Lock()
	defer mu.Unlock()
	return w.res, w.got
}

// Close removes the waiter. Publish calls after it do nothing.
func (w *Waiter) Close() {
	mu.Lock()
	defer mu.Unlock()
	if waiters[w.key] == w {
		delete(waiters, w.key)
	}
}

// Publish hands the result of the run span key to its waiter and reports
// whether one was registered. When several exporters publish for one run,
// the first error wins over any path, so a run file that one of them could
// not write is never reported as written.
func Publish(key Key, r Result) bool {
	mu.Lock()
	defer mu.Unlock()
	w := waiters[key]
	if w == nil {
		return false
	}
	if !w.got || (r.Err != nil && w.res.Err == nil) {
		w.res, w.got = r, true
	}
	return true
}

// Waiting reports how many waiters are registered, for tests that check
// nothing is left behind.
func Waiting() int {
	mu.Lock()
	defer mu.Unlock()
	return len(waiters)
}

// Package runresult is the one way the outcome of writing a run file (its
// path, or the error that kept it from being written) travels from the
// jsonrun exporter back to the Run.Finalize that waits for it, however the
// exporter is registered with the tracer provider.
//
// Finalize registers a Waiter for its run span before the span ends; an
// exporter that takes the run span either publishes the outcome at once
// (Publish) or, when it will write the file later (it waits for late
// stages), says so (Claim) and publishes when it has. After the span has
// ended and the provider has been flushed, a waiter with neither a result
// nor a claim means that no run-file exporter saw the run: Finalize reports
// that at once instead of waiting for a file that cannot come.
//
// The registry of waiters is process-wide state, on purpose and
// unavoidably: a tracker is given only a trace.TracerProvider, and an
// exporter registered the standard OpenTelemetry way (sdktrace.WithSyncer,
// WithBatcher) sees only read-only snapshots of ended spans. Neither can
// reach the other through the provider, the span or a context, so the run
// span's ids, which both know, are the meeting point. It stays small: a
// result is kept only while a waiter for that run span is registered
// (Publish and Claim with no waiter do nothing), and Finalize closes its
// waiter whatever happened, so nothing grows when nobody waits.
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

// registry holds the registered waiters. See the package documentation
// for why it is process-wide.
var registry = struct {
	mu      sync.Mutex
	waiters map[Key]*Waiter
}{waiters: make(map[Key]*Waiter)}

// Waiter waits for the result of one run. It is safe for concurrent use.
type Waiter struct {
	key  Key
	done chan struct{} // closed by the first Publish

	// Guarded by registry.mu.
	claimed bool
	got     bool
	res     Result
}

// Wait registers a waiter for the run span key. Register it before the run
// span ends, so a synchronous exporter finds it; always Close it. A second
// Wait for the same key replaces the first.
func Wait(key Key) *Waiter {
	w := &Waiter{key: key, done: make(chan struct{})}
	registry.mu.Lock()
	registry.waiters[key] = w
	registry.mu.Unlock()
	return w
}

// Result returns the result published for the run, if any.
func (w *Waiter) Result() (Result, bool) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return w.res, w.got
}

// Claimed reports whether an exporter has taken the run span and will
// publish its result later.
func (w *Waiter) Claimed() bool {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return w.claimed
}

// Done is closed when a result is published.
func (w *Waiter) Done() <-chan struct{} { return w.done }

// Close removes the waiter. Publish and Claim calls after it do nothing.
func (w *Waiter) Close() {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.waiters[w.key] == w {
		delete(registry.waiters, w.key)
	}
}

// Claim tells the waiter of the run span key, if any, that an exporter has
// the run and will publish its result, and reports whether one was
// registered.
func Claim(key Key) bool {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	w := registry.waiters[key]
	if w == nil {
		return false
	}
	w.claimed = true
	return true
}

// Publish hands the result of the run span key to its waiter and reports
// whether one was registered. When several exporters publish for one run,
// the first error wins over any path, so a run file that one of them could
// not write is never reported as written.
func Publish(key Key, r Result) bool {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	w := registry.waiters[key]
	if w == nil {
		return false
	}
	if !w.got {
		w.res, w.got = r, true
		close(w.done)
	} else if r.Err != nil && w.res.Err == nil {
		w.res = r
	}
	return true
}

// Waiting reports how many waiters are registered, for tests that check
// nothing is left behind.
func Waiting() int {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return len(registry.waiters)
}

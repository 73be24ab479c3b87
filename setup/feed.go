package setup

import (
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Feed hands spans that another process recorded and this one received
// (stagetrack run's OTLP receiver) to the span processors Tracker builds, as
// if its own provider had ended them: to the run files, the console and the
// OTLP exporters, and the exporters given with WithExporters. Processors
// added with WithProviderOptions do not see them. The spans are not
// recorded again: each exporter gets the span as it was received.
//
// A span whose resource carries VersionKey comes from a process that built
// its own Tracker: that process's run-file exporter has already written
// the span to its run's journal (it joined the run) or to a run of its own,
// so the Feed passes it to the other exporters only, and no stage is
// counted twice.
//
// A Feed does nothing until a Tracker built with WithFeed is made, and again
// once that Tracker's shutdown has begun. A Feed is safe for concurrent use;
// shutdown waits for an End in progress.
type Feed struct {
	mu       sync.RWMutex
	runFiles sdktrace.SpanProcessor   // nil: not attached, or detached
	others   []sdktrace.SpanProcessor // the rest, in order
}

// NewFeed returns a Feed to pass to Tracker with WithFeed.
func NewFeed() *Feed { return &Feed{} }

// WithFeed makes f hand spans to the processors Tracker builds. A nil f is
// ignored; a Feed serves one Tracker, the last one built with it.
func WithFeed(f *Feed) Option {
	return optionFunc(func(c config) config {
		if f != nil {
			c.feed = f
		}
		return c
	})
}

// End passes ended spans to the processors, in order. Spans that are not
// sampled are dropped by the processors, as they drop the provider's own.
func (f *Feed) End(spans []sdktrace.ReadOnlySpan) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.runFiles == nil {
		return
	}
	for _, s := range spans {
		if _, ours := s.Resource().Set().Value(VersionKey); !ours {
			f.runFiles.OnEnd(s)
		}
		for _, p := range f.others {
			p.OnEnd(s)
		}
	}
}

// attach gives f the processors of a Tracker: the run files' first.
func (f *Feed) attach(runFiles sdktrace.SpanProcessor, others []sdktrace.SpanProcessor) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runFiles, f.others = runFiles, others
}

// detach stops the feed before the processors shut down: a span handed to
// a processor after its shutdown would be lost without a word.
func (f *Feed) detach() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runFiles, f.others = nil, nil
}

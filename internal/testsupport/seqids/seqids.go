// Package seqids is a deterministic sdktrace.IDGenerator for tests and
// golden output: trace and span ids count up from 1.
package seqids

import (
	"context"
	"encoding/binary"
	"sync"

	"go.opentelemetry.io/otel/trace"
)

// Generator hands out ids that count up from 1, trace and span ids from
// one counter. The zero value is ready to use; it is safe for concurrent
// use.
type Generator struct {
	mu sync.Mutex
	n  uint64
}

func (g *Generator) next() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return g.n
}

// NewIDs returns the next trace id and a span id.
func (g *Generator) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[8:], g.next())
	return tid, g.NewSpanID(context.Background(), tid)
}

// NewSpanID returns the next span id.
func (g *Generator) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], g.next())
	return sid
}

// Package runfixture makes run files for tests, benchmarks and the report
// check: small realistic runs recorded through the real tracker with a fixed
// clock and deterministic ids (Builder, Fixtures), and large numbers of
// synthetic runs built directly as values (Synthetic).
//
// Nothing here is safe for concurrent use unless its doc says so.
package runfixture

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// Builder records one run through the tracker and an SDK provider whose
// clock and ids it controls, so the same script always gives the same run
// file.
type Builder struct {
	start time.Time
	clock *clock
	rec   *tracetest.SpanRecorder
	tp    *sdktrace.TracerProvider
	run   *tracker.Run
	ctx   context.Context
}

// Start begins a run with the given id (a UUID) and args at start. The
// trace and span ids are derived from the run id.
func Start(ctx context.Context, runID string, start time.Time, args any, opts ...tracker.RunOption) *Builder {
	c := &clock{now: start}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(rec),
		sdktrace.WithIDGenerator(newIDs(runID)),
	)
	// Spans only: the run file is built from the recorded spans (ToRun).
	// No provenance: it would describe the machine the fixtures are made on
	// (a fixture that wants one passes tracker.WithProvenance).
	tr := tracker.New(tracker.WithTracerProvider(tp), tracker.WithClock(c.Now), tracker.WithoutRunFile(), tracker.WithoutProvenance())
	ctx, run := tr.Start(ctx, args, append([]tracker.RunOption{tracker.WithRunID(runID)}, opts...)...)
	return &Builder{start: start, clock: c, rec: rec, tp: tp, run: run, ctx: ctx}
}

// Context returns the run's context, the parent of top-level stages.
func (b *Builder) Context() context.Context { return b.ctx }

// StartStage starts a stage at offset at from the run's start. Pass the
// context of another stage to nest the new one under it.
func (b *Builder) StartStage(ctx context.Context, name string, at time.Duration) (context.Context, *tracker.Stage) {
	b.clock.set(b.start.Add(at))
	return b.run.StartStage(ctx, name)
}

// End ends a stage at offset at.
func (b *Builder) End(s *tracker.Stage, at time.Duration, data any, err error) {
	b.clock.set(b.start.Add(at))
	s.End(data, err)
}

// Stage is StartStage and End at once, for a stage without children.
func (b *Builder) Stage(ctx context.Context, name string, from, to time.Duration, data any, err error) {
	_, s := b.StartStage(ctx, name, from)
	b.End(s, to, data, err)
}

// Finalize ends the run at offset at and returns its run file.
func (b *Builder) Finalize(at time.Duration) (*runfile.Run, error) {
	b.clock.set(b.start.Add(at))
	ctx := context.WithoutCancel(b.ctx)
	if err := b.run.Finalize(ctx); err != nil {
		return nil, fmt.Errorf("runfixture: finalize: %w", err)
	}
	if err := b.tp.Shutdown(ctx); err != nil {
		return nil, fmt.Errorf("runfixture: shut down provider: %w", err)
	}
	r, err := jsonrun.ToRun(b.rec.Ended())
	if err != nil {
		return nil, fmt.Errorf("runfixture: %w", err)
	}
	return r, nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// ids is an sdktrace.IDGenerator that counts from a seed.
type ids struct {
	mu   sync.Mutex
	seed uint64
	n    uint64
}

func newIDs(seed string) *ids {
	h := fnv.New64a()
	h.Write([]byte(seed))
	return &ids{seed: h.Sum64()}
}

func (g *ids) next() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return g.seed ^ (g.n * 0x9e3779b97f4a7c15)
}

func (g *ids) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[:8], g.seed)
	binary.BigEndian.PutUint64(tid[8:], ^g.seed)
	return tid, g.NewSpanID(ctx, tid)
}

func (g *ids) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], g.next())
	return sid
}

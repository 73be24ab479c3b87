package jsonrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/internal/runresult"
)

// Exporter is an sdktrace.SpanExporter that turns the spans of each run
// into a run file. It buffers a run's stage spans until the run span
// arrives, then writes the file atomically. Spans that are not part of a run
// are ignored and never buffered, so the exporter can share a provider with
// any other instrumentation.
//
// At most WithMaxPendingRuns runs hold their stages in memory; beyond that
// the oldest spills its stages to its journal and keeps only a small stub,
// so any number of open runs loses nothing.
//
// Registered through NewProcessor rather than a span processor of the SDK,
// it also keeps a journal of each open run, from which Recover rebuilds the
// runs of processes that died.
//
// An Exporter is safe for concurrent use. After Shutdown it ignores spans.
type Exporter struct {
	cfg  config
	w    runWriter
	host string // this machine's name, recorded in journals
	res  *results

	mu   sync.Mutex
	open map[string]*openRun // runs not yet written, joined ones included
	// memQ holds the runs counted in inMem in arrival order, oldest first,
	// for eviction; it may also hold runs no longer counted, skipped there.
	memQ     []*openRun
	inMem    int        // open runs with inMemory set
	finished recentRuns // runs written lately: their late spans are dropped
	stopped  bool
}

var _ sdktrace.SpanExporter = (*Exporter)(nil)

// New returns an Exporter configured by opts.
func New(opts ...Option) (*Exporter, error) {
	cfg := newConfig(opts)
	if cfg.perm&0o600 != 0o600 {
		return nil, fmt.Errorf("jsonrun: file permission %v would not let the owner read and write run files", cfg.perm)
	}
	host, _ := os.Hostname()
	return &Exporter{
		cfg:  cfg,
		w:    runWriter{dir: cfg.dir, history: cfg.history, perm: cfg.perm},
		host: host,
		res:  newResults(),
		open: make(map[string]*openRun),
	}, nil
}

// Dir returns the directory the exporter writes run files and journals to.
func (e *Exporter) Dir() string { return e.cfg.dir }

// ExportSpans buffers stage spans and writes the run file of every run span
// in spans. Errors for individual runs are joined; the other runs in the
// batch are still written.
func (e *Exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var errs []error
	for _, s := range spans {
		runID, isRoot, ok := runSpan(s)
		if !ok {
			continue
		}
		if err := e.export(s, runID, isRoot); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (e *Exporter) export(s sdktrace.ReadOnlySpan, runID string, isRoot bool) error {
	if isRoot {
		root := newRootRecord(s)
		return e.finishRun(&root, runID)
	}
	r, evicted := e.route(runID, nil)
	if r == nil {
		return nil
	}
	return errors.Join(r.addStage(newStageRecord(s)), e.spill(evicted))
}

// route returns the open run of runID, opening it (with journal j, when
// not nil) when there is none, and the runs to evict to make room. It
// returns nil when the run was written already or the exporter is shut
// down: the span is dropped.
func (e *Exporter) route(runID string, j *journal) (*openRun, []*openRun) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil, nil
	}
	if r := e.open[runID]; r != nil {
		return r, nil
	}
	if e.finished.has(runID) {
		return nil, nil
	}
	r := &openRun{id: runID, journal: j, inMemory: true}
	e.open[runID] = r
	e.memQ = append(e.memQ, r)
	e.inMem++
	return r, e.evictLocked(e.cfg.maxPendingRuns)
}

// evictLocked takes the oldest runs off the memory count until at most keep
// remain and returns them for spilling. e.mu must be held.
func (e *Exporter) evictLocked(keep int) []*openRun {
	var out []*openRun
	for e.inMem > keep && len(e.memQ) > 0 {
		r := e.memQ[0]
		e.memQ = e.memQ[1:]
		if r.inMemory {
			r.inMemory = false
			e.inMem--
			out = append(out, r)
		}
	}
	if len(e.memQ) > 2*e.inMem+64 {
		kept := make([]*openRun, 0, e.inMem)
		for _, r := range e.memQ {
			if r.inMemory {
				kept = append(kept, r)
			}
		}
		e.memQ = kept
	}
	return out
}

// spill moves the stages of evicted runs to their journals.
func (e *Exporter) spill(runs []*openRun) error {
	var errs []error
	for _, r := range runs {
		path, err := e.w.journalPath(r.id)
		if err == nil {
			err = r.spill(path, e.cfg.perm, e.cfg.journalSync, e.host)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// take removes runID from the open runs and returns it, or nil. e.mu must
// be held.
func (e *Exporter) takeLocked(runID string) *openRun {
	r := e.open[runID]
	if r == nil {
		return nil
	}
	delete(e.open, runID)
	if r.inMemory {
		r.inMemory = false
		e.inMem--
	}
	return r
}

// finishRun writes the run file of a run whose run span arrived.
func (e *Exporter) finishRun(root *rootRecord, runID string) error {
	e.mu.Lock()
	if e.stopped || e.finished.has(runID) {
		e.mu.Unlock()
		return nil
	}
	r := e.takeLocked(runID)
	e.finished.add(runID)
	e.mu.Unlock()
	if r == nil || r.joined {
		if r != nil {
			_ = r.closeJoined()
		}
		r = &openRun{id: runID}
	}
	res := r.finish(root, &e.w)
	// A tracker's Finalize waiting for this run learns its outcome.
	runresult.Publish(runresult.Key{Trace: root.traceID, Span: root.spanID}, runresult.Result{Path: res.path, Err: res.err})
	return e.settle(runID, res)
}

// settle stores the final result of a run, for WaitRunFile, and returns
// its error. Every run this exporter writes ends here.
func (e *Exporter) settle(runID string, res result) error {
	e.res.store(runID, res)
	return res.err
}

// WaitRunFile waits until the run file of runID has been written, or its
// writing failed, and returns its path or the error. A result already there
// is returned even when ctx is done; otherwise WaitRunFile returns ctx's
// error when ctx is done first. Each result is returned once.
//
// The tracker calls it from Run.Finalize so that Finalize returns only when
// the file is on disk. It is safe for concurrent use.
func (e *Exporter) WaitRunFile(ctx context.Context, runID string) (string, error) {
	return e.res.take(ctx, runID)
}

// ForceFlush does nothing: the exporter writes a run file as soon as its run
// span arrives, and stages of unfinished runs must wait for it.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	return ctx.Err()
}

// Shutdown writes every run still waiting for its run span as incomplete
// (never over an existing run file), closes the journals of joined runs,
// and stops the exporter. It is idempotent: later calls do nothing.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil
	}
	e.stopped = true
	open := e.open
	e.open = map[string]*openRun{}
	e.memQ, e.inMem = nil, 0
	e.mu.Unlock()

	var errs []error
	for id, r := range open {
		if r.joined {
			errs = append(errs, r.closeJoined())
			continue
		}
		errs = append(errs, e.settle(id, r.abandon("the run was not finalised before the exporter shut down", &e.w)))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}

// startJournal opens the journal of a run that is starting and records the
// run event.
func (e *Exporter) startJournal(root *rootRecord, runID string) error {
	path, err := e.w.journalPath(runID)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("jsonrun: journal %s: %w", path, err)
	}
	j, err := openJournal(path, e.cfg.perm, e.cfg.journalSync)
	if err != nil {
		return fmt.Errorf("jsonrun: journal %s: %w", path, err)
	}
	ev := event{
		E:          eventRun,
		T:          unixNano(root.start),
		RunID:      runID,
		TraceID:    root.traceID.String(),
		SpanID:     root.spanID.String(),
		Name:       root.name,
		OutputFile: root.outputFile,
		PID:        os.Getpid(),
		Host:       e.host,
	}
	if root.parentID.IsValid() {
		ev.ParentSpanID = root.parentID.String()
	}
	if root.args != "" {
		ev.Args = []byte(root.args)
	}
	werr := j.write(appendEvent(nil, &ev))
	r, evicted := e.route(runID, j)
	if r == nil || r.journal != j {
		// Shut down, or the run is open already: this journal is not its.
		return errors.Join(werr, j.remove())
	}
	return errors.Join(werr, e.spill(evicted))
}

// journalStage records that a stage started, in its run's journal if this
// process keeps one.
func (e *Exporter) journalStage(rec *stageRecord, runID string) error {
	e.mu.Lock()
	r := e.open[runID]
	e.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.start(rec)
}

package jsonrun

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/google/uuid"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Exporter is an sdktrace.SpanExporter that turns the spans of each run
// into a run file. It buffers a run's stage spans until the run span
// arrives, then writes the file atomically. Spans that are not part of a run
// are ignored and never buffered, so the exporter can share a provider with
// any other instrumentation.
//
// An Exporter is safe for concurrent use. After Shutdown it ignores spans.
type Exporter struct {
	cfg config

	mu       sync.Mutex
	pending  map[string]*pendingRun
	seq      uint64
	results  map[string]result
	resOrder []string      // results in insertion order, to bound the map
	changed  chan struct{} // closed and replaced when a result is stored
	stopped  bool
}

type pendingRun struct {
	seq    uint64 // arrival order of the run's first span, for eviction
	stages []stageRecord
}

type result struct {
	path string
	err  error
}

// maxResults bounds how many finished runs the exporter remembers for
// WaitRunFile; a caller that never asks does not make it grow.
const maxResults = 4096

var _ sdktrace.SpanExporter = (*Exporter)(nil)

// New returns an Exporter configured by opts.
func New(opts ...Option) (*Exporter, error) {
	cfg := newConfig(opts)
	if cfg.perm&0o600 != 0o600 {
		return nil, fmt.Errorf("jsonrun: file permission %v would not let the owner read and write run files", cfg.perm)
	}
	return &Exporter{
		cfg:     cfg,
		pending: make(map[string]*pendingRun),
		results: make(map[string]result),
		changed: make(chan struct{}),
	}, nil
}

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
	if !isRoot {
		rec := newStageRecord(s)
		e.mu.Lock()
		if e.stopped {
			e.mu.Unlock()
			return nil
		}
		p := e.pending[runID]
		var evicted []evictedRun
		if p == nil {
			evicted = e.evictLocked(e.cfg.maxPendingRuns - 1)
			e.seq++
			p = &pendingRun{seq: e.seq}
			e.pending[runID] = p
		}
		p.stages = append(p.stages, rec)
		e.mu.Unlock()
		return e.writeEvicted(evicted, "the run span never arrived; evicted to keep at most the configured number of pending runs")
	}

	root := newRootRecord(s)
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil
	}
	var stages []stageRecord
	if p := e.pending[runID]; p != nil {
		stages = p.stages
		delete(e.pending, runID)
	}
	e.mu.Unlock()

	run := assemble(&root, runID, stages, "")
	path, err := e.write(run, root.outputFile)
	e.storeResult(runID, result{path: path, err: err})
	return err
}

type evictedRun struct {
	id     string
	stages []stageRecord
}

// evictLocked removes the oldest pending runs until at most keep remain and
// returns them for writing. e.mu must be held.
func (e *Exporter) evictLocked(keep int) []evictedRun {
	var out []evictedRun
	for len(e.pending) > keep {
		var oldestID string
		var oldest *pendingRun
		for id, p := range e.pending {
			if oldest == nil || p.seq < oldest.seq {
				oldestID, oldest = id, p
			}
		}
		delete(e.pending, oldestID)
		out = append(out, evictedRun{id: oldestID, stages: oldest.stages})
	}
	return out
}

func (e *Exporter) writeEvicted(runs []evictedRun, why string) error {
	var errs []error
	for _, r := range runs {
		path, err := e.write(assemble(nil, r.id, r.stages, why), "")
		e.storeResult(r.id, result{path: path, err: err})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// path returns where the run file of runID goes. Only a valid UUID becomes
// part of a file name, so no run id can point outside the directory.
func (e *Exporter) path(runID, outputFile string) (string, error) {
	if outputFile != "" {
		return filepath.Clean(outputFile), nil
	}
	if _, err := uuid.Parse(runID); err != nil {
		return "", fmt.Errorf("jsonrun: run id %q is not a UUID, so it is not used as a file name: %w", runID, err)
	}
	return filepath.Join(e.cfg.dir, runID+".json"), nil
}

func (e *Exporter) write(run *Run, outputFile string) (string, error) {
	path, err := e.path(run.RunID, outputFile)
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(path, run.AppendIndent(nil), e.cfg.perm); err != nil {
		return "", fmt.Errorf("jsonrun: write run %s to %s: %w", run.RunID, path, err)
	}
	if e.cfg.history != "" {
		line := append(appendRun(nil, run, false), '\n')
		if err := appendLine(e.cfg.history, line, e.cfg.perm); err != nil {
			return path, fmt.Errorf("jsonrun: append run %s to history %s: %w", run.RunID, e.cfg.history, err)
		}
	}
	return path, nil
}

func (e *Exporter) storeResult(runID string, r result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.results[runID]; !ok {
		e.resOrder = append(e.resOrder, runID)
	}
	e.results[runID] = r
	for len(e.resOrder) > maxResults {
		delete(e.results, e.resOrder[0])
		e.resOrder = e.resOrder[1:]
	}
	close(e.changed)
	e.changed = make(chan struct{})
}

// WaitRunFile waits until the run file of runID has been written, or its
// writing failed, and returns its path or the error. A result already there
// is returned even when ctx is done; otherwise WaitRunFile returns ctx's
// error when ctx is done first. Each result is returned once.
//
// The tracker calls it from Run.Finalize so that Finalize returns only when
// the file is on disk. It is safe for concurrent use.
func (e *Exporter) WaitRunFile(ctx context.Context, runID string) (string, error) {
	for {
		e.mu.Lock()
		r, ok := e.results[runID]
		if ok {
			delete(e.results, runID)
		}
		changed := e.changed
		e.mu.Unlock()
		if ok {
			return r.path, r.err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("jsonrun: no run file for run %s: %w", runID, ctx.Err())
		case <-changed:
		}
	}
}

// ForceFlush does nothing: the exporter writes a run file as soon as its run
// span arrives, and stages of unfinished runs must wait for it.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	return ctx.Err()
}

// Shutdown writes every run still waiting for its run span as incomplete and
// stops the exporter. It is idempotent: later calls do nothing.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil
	}
	e.stopped = true
	evicted := e.evictLocked(0)
	e.mu.Unlock()
	if err := e.writeEvicted(evicted, "the run span never arrived before the exporter shut down"); err != nil {
		return err
	}
	return ctx.Err()
}

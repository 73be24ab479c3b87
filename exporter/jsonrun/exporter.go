package jsonrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/uuid"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Exporter is an sdktrace.SpanExporter that turns the spans of each run
// into a run file. It buffers a run's stage spans until the run span
// arrives, then writes the file atomically. Spans that are not part of a run
// are ignored and never buffered, so the exporter can share a provider with
// any other instrumentation.
//
// Registered through NewProcessor rather than a span processor of the SDK,
// it also keeps a journal of each open run, from which Recover rebuilds the
// runs of processes that died.
//
// An Exporter is safe for concurrent use. After Shutdown it ignores spans.
type Exporter struct {
	cfg  config
	host string // this machine's name, recorded in journals

	mu       sync.Mutex
	pending  map[string]*pendingRun
	journals map[string]*journal // open journals by run id
	seq      uint64
	results  map[string]result
	resOrder []string // results in insertion order, to bound the map
	// finished holds the runs whose run span has arrived, so that a stage
	// span arriving after it is dropped instead of starting a new pending
	// run that would later overwrite the good file as incomplete.
	finished map[string]struct{}
	finOrder []string
	// evicted holds the runs written as incomplete on eviction, with their
	// file, so that a run span arriving later merges those stages back in
	// instead of overwriting them.
	evicted map[string]string
	evOrder []string
	changed chan struct{} // closed and replaced when a result is stored
	stopped bool
}

type pendingRun struct {
	seq      uint64 // arrival order of the run's first span, for eviction
	stages   stageBuffer
	warnings []string
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
	host, _ := os.Hostname()
	return &Exporter{
		cfg:      cfg,
		host:     host,
		pending:  make(map[string]*pendingRun),
		journals: make(map[string]*journal),
		results:  make(map[string]result),
		finished: make(map[string]struct{}),
		evicted:  make(map[string]string),
		changed:  make(chan struct{}),
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
		return e.finishRun(newRootRecord(s), runID)
	}
	rec := newStageRecord(s)
	e.mu.Lock()
	if _, done := e.finished[runID]; e.stopped || done {
		e.mu.Unlock()
		return nil
	}
	j := e.journals[runID]
	if j != nil && j.joined {
		// Another process owns the run: its journal is where the stage goes.
		e.mu.Unlock()
		ev := endEvent(&rec, rec.end)
		return j.write(appendEvent(nil, &ev))
	}
	p, evicted := e.pendingLocked(runID)
	p.stages.add(rec)
	e.mu.Unlock()

	var errs []error
	if j != nil {
		ev := endEvent(&rec, rec.end)
		errs = append(errs, j.write(appendEvent(nil, &ev)))
	}
	errs = append(errs, e.writeEvicted(evicted, "the run span never arrived; evicted to keep at most the configured number of pending runs"))
	return errors.Join(errs...)
}

// finishRun writes the run file of a run whose run span arrived, then
// closes and removes its journal. When the file cannot be written the
// journal stays, so that Recover can still rebuild the run.
func (e *Exporter) finishRun(root rootRecord, runID string) error {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil
	}
	var p pendingRun
	if pp := e.pending[runID]; pp != nil {
		p = *pp
		delete(e.pending, runID)
	}
	j := e.journals[runID]
	delete(e.journals, runID)
	evictedFile, wasEvicted := e.evicted[runID]
	delete(e.evicted, runID)
	e.finished[runID] = struct{}{}
	e.finOrder = append(e.finOrder, runID)
	if len(e.finOrder) > maxResults {
		delete(e.finished, e.finOrder[0])
		e.finOrder = e.finOrder[1:]
	}
	e.mu.Unlock()

	stages := p.stages.all()
	if wasEvicted {
		stages = e.withEvicted(stages, evictedFile, root.spanID)
	}
	run := assemble(&root, runID, stages, "")
	if j != nil {
		if err := j.failed(); err != nil {
			run.Warnings = append(run.Warnings, "journal stopped early ("+err.Error()+"); the run file is complete, but a crash would have lost later stages")
		}
		if j.foreign() {
			e.mergeForeign(run, &root, stages, j)
		}
	}
	path, err := e.write(run, root.outputFile)
	if err == nil && wasEvicted && evictedFile != path {
		_ = os.Remove(evictedFile) // superseded by the run file just written
	}
	if j != nil {
		cerr := j.close()
		if err == nil {
			if rerr := os.Remove(j.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				err = fmt.Errorf("jsonrun: remove journal %s: %w", j.path, rerr)
			} else if cerr != nil {
				err = fmt.Errorf("jsonrun: close journal %s: %w", j.path, cerr)
			}
		}
	}
	e.storeResult(runID, result{path: path, err: err})
	return err
}

// mergeForeign adds to run the stages that other processes (a child that
// joined the run) recorded in its journal, and rebuilds the stage tree.
func (e *Exporter) mergeForeign(run *Run, root *rootRecord, local []stageRecord, j *journal) {
	f, err := os.Open(j.path)
	if err != nil {
		run.Warnings = append(run.Warnings, "stages of joined processes not read: "+err.Error())
		return
	}
	jc := readJournal(f)
	f.Close()
	have := make(map[[8]byte]bool, len(local))
	for _, s := range local {
		have[s.spanID] = true
	}
	stages := append([]stageRecord(nil), local...)
	for _, s := range jc.ended {
		if !have[s.spanID] {
			stages = append(stages, s)
		}
	}
	for _, s := range jc.started {
		if !have[s.spanID] {
			s.status = StageUnfinished
			s.end = root.end
			stages = append(stages, s)
		}
	}
	merged := assemble(root, run.RunID, stages, "")
	merged.MissingStages = run.MissingStages
	merged.Warnings = append(run.Warnings, merged.Warnings...)
	for _, b := range jc.bad {
		merged.Warnings = append(merged.Warnings, "journal: skipped "+b.Error())
	}
	if merged.MissingStages > 0 && merged.Status != StatusInterrupted && merged.Status != StatusCrashed {
		merged.Status = StatusIncomplete
	}
	*run = *merged
}

type evictedRun struct {
	id string
	p  *pendingRun
	j  *journal // its journal, when this process keeps one
}

// evictLocked removes the oldest pending runs until at most keep remain and
// returns them, with their journals, for writing. e.mu must be held.
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
		j := e.journals[oldestID]
		delete(e.journals, oldestID)
		out = append(out, evictedRun{id: oldestID, p: oldest, j: j})
	}
	return out
}

// pendingLocked returns the pending run of runID, making it, and evicting
// the oldest runs to make room for it, when there is none. e.mu must be
// held; the caller writes the evicted runs once it is released.
func (e *Exporter) pendingLocked(runID string) (*pendingRun, []evictedRun) {
	if p := e.pending[runID]; p != nil {
		return p, nil
	}
	evicted := e.evictLocked(e.cfg.maxPendingRuns - 1)
	e.seq++
	p := &pendingRun{seq: e.seq}
	e.pending[runID] = p
	return p, evicted
}

// writeEvicted writes runs that lost their place as incomplete run files.
// The journal of each is closed, and removed once its run file is written:
// the run file now holds all the journal did.
func (e *Exporter) writeEvicted(runs []evictedRun, why string) error {
	var errs []error
	for _, r := range runs {
		run, outputFile := e.evictedRun(r, why)
		path, err := e.write(run, outputFile)
		if r.j != nil {
			errs = append(errs, r.j.close())
			if err == nil && !r.j.joined {
				errs = append(errs, os.Remove(r.j.path))
			}
		}
		if err == nil {
			e.mu.Lock()
			e.evicted[r.id] = path
			e.evOrder = append(e.evOrder, r.id)
			if len(e.evOrder) > maxResults {
				delete(e.evicted, e.evOrder[0])
				e.evOrder = e.evOrder[1:]
			}
			e.mu.Unlock()
		}
		e.storeResult(r.id, result{path: path, err: err})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// withEvicted adds to stages those of the incomplete file written when the
// run was evicted, skipping any it holds already.
func (e *Exporter) withEvicted(stages []stageRecord, file string, root trace.SpanID) []stageRecord {
	earlier, err := ReadFile(file)
	if err != nil {
		return stages
	}
	have := make(map[trace.SpanID]bool, len(stages))
	for _, s := range stages {
		have[s.spanID] = true
	}
	for _, s := range recordsOf(earlier.Stages, root) {
		if !have[s.spanID] {
			stages = append(stages, s)
		}
	}
	return stages
}

// evictedRun builds the incomplete run file of an evicted run: from its
// journal when this process keeps one, which knows the run's name, args and
// running stages too; else from the stages buffered.
func (e *Exporter) evictedRun(r evictedRun, why string) (*Run, string) {
	if r.j != nil && !r.j.joined {
		if f, err := os.Open(r.j.path); err == nil {
			jc := readJournal(f)
			f.Close()
			if run, err := jc.recoveredRun(r.j.path, StatusIncomplete, why); err == nil {
				return run, jc.run.OutputFile
			}
		}
	}
	run := assemble(nil, r.id, r.p.stages.all(), why)
	run.Warnings = append(run.Warnings, r.p.warnings...)
	return run, ""
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

// journalPath returns where the journal of a run goes: beside its run file.
func (e *Exporter) journalPath(runID, outputFile string) (string, error) {
	p, err := e.path(runID, outputFile)
	if err != nil {
		return "", err
	}
	if outputFile != "" {
		return p + JournalSuffix, nil
	}
	return filepath.Join(e.cfg.dir, runID+JournalSuffix), nil
}

// JournalPath returns where the exporter keeps the journal of an open run:
// beside its run file, <dir>/<run_id>.journal, or <output_file>.journal
// when the run was started with tracker.WithOutputFile. Give it to processes
// that join the run (tracker.ChildEnv).
func (e *Exporter) JournalPath(runID, outputFile string) (string, error) {
	p, err := e.journalPath(runID, outputFile)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// Join makes this exporter record the stages of a run that another process
// owns (its tracker joined it, tracker.Tracker.Join) in that run's journal
// at path, instead of buffering them: the owner merges them into its run
// file when it finishes. The journal must exist: a run whose owner has
// finished is not reopened.
//
// Join checks that path is that run's journal (its first line is the run
// event of runID), so the variable that names it cannot make the process
// append to any other file.
func (e *Exporter) Join(runID, path string) error {
	if err := checkJournalOf(path, runID); err != nil {
		return fmt.Errorf("jsonrun: join run %s: %w", runID, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("jsonrun: join run %s: %w", runID, err)
	}
	j := &journal{path: path, f: f, sync: e.cfg.journalSync, joined: true}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		f.Close()
		return fmt.Errorf("jsonrun: join run %s: exporter is shut down", runID)
	}
	if old := e.journals[runID]; old != nil {
		old.close()
	}
	e.journals[runID] = j
	return nil
}

func (e *Exporter) write(run *Run, outputFile string) (string, error) {
	path, err := e.path(run.RunID, outputFile)
	if err != nil {
		return "", err
	}
	if err := writeFileAtomicFunc(path, e.cfg.perm, func(w io.Writer) error { return writeRunIndent(w, run) }); err != nil {
		return "", fmt.Errorf("jsonrun: write run %s to %s: %w", run.RunID, path, err)
	}
	if e.cfg.history != "" {
		line := append(appendRun(nil, run, false), '\n')
		if err := appendHistory(e.cfg.history, line, e.cfg.perm); err != nil {
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

// Shutdown writes every run still waiting for its run span as incomplete,
// closes the journals of runs still open (leaving them on disk for Recover),
// and stops the exporter. It is idempotent: later calls do nothing.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil
	}
	e.stopped = true
	journals := e.journals
	e.journals = map[string]*journal{}
	evicted := e.evictLocked(0)
	e.mu.Unlock()

	var errs []error
	for id, j := range journals {
		if j.joined {
			errs = append(errs, j.close())
			continue
		}
		for i := range evicted {
			if evicted[i].id == id {
				evicted[i].j = j
			}
		}
	}
	errs = append(errs, e.writeEvicted(evicted, "the run was not finalised before the exporter shut down"))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}

// startJournal opens the journal of a run that is starting and records the
// run event. e.mu must not be held.
func (e *Exporter) startJournal(root *rootRecord, runID string) error {
	path, err := e.journalPath(runID, root.outputFile)
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
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		j.close()
		return werr
	}
	e.journals[runID] = j
	// A run with a journal counts against the pending bound from its start,
	// so runs abandoned before any stage ends do not hold files open forever.
	_, evicted := e.pendingLocked(runID)
	e.mu.Unlock()
	return errors.Join(werr, e.writeEvicted(evicted, "the run span never arrived; evicted to keep at most the configured number of pending runs"))
}

// journalStage records that a stage started, in its run's journal if this
// process keeps one.
func (e *Exporter) journalStage(rec *stageRecord, runID string) error {
	e.mu.Lock()
	j := e.journals[runID]
	e.mu.Unlock()
	if j == nil {
		return nil
	}
	ev := event{E: eventStart, T: unixNano(rec.start), SpanID: rec.spanID.String(), Name: rec.name, Start: unixNano(rec.start)}
	if rec.parentID.IsValid() {
		ev.ParentSpanID = rec.parentID.String()
	}
	return j.write(appendEvent(nil, &ev))
}

// stageBuffer holds a pending run's stage records in fixed-size chunks, so
// that a run of many stages never copies what it already holds: appending to
// one growing slice moved every record again at each doubling, and that was
// a third of the cost of a stage in a long run.
type stageBuffer struct {
	chunks [][]stageRecord
	n      int
}

// Chunks start small, so a run of few stages holds little, and double up to
// maxStageChunk records.
const minStageChunk, maxStageChunk = 4, 128

func (b *stageBuffer) add(r stageRecord) {
	if n := len(b.chunks); n == 0 || len(b.chunks[n-1]) == cap(b.chunks[n-1]) {
		size := minStageChunk
		if n > 0 {
			size = min(2*cap(b.chunks[n-1]), maxStageChunk)
		}
		b.chunks = append(b.chunks, make([]stageRecord, 0, size))
	}
	last := &b.chunks[len(b.chunks)-1]
	*last = append(*last, r)
	b.n++
}

// all returns the records as one slice, for assembling.
func (b *stageBuffer) all() []stageRecord {
	if len(b.chunks) == 1 {
		return b.chunks[0]
	}
	out := make([]stageRecord, 0, b.n)
	for _, c := range b.chunks {
		out = append(out, c...)
	}
	return out
}

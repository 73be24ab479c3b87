package jsonrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/journal"
)

// Exporter is an sdktrace.SpanExporter that turns the spans of each run
// into a run file, by the run convention (docs/attributes.md): spans of any
// instrumentation scope, the tracker's or another SDK's, routed to their run
// by stage_tracker.run.id or by trace id. It buffers a run's stage spans
// until the run span arrives, then writes the file atomically. Spans that
// are not part of a known run are ignored and never buffered (unless
// WithPendingSpans asks), so the exporter can share a provider with any
// other instrumentation.
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
	// procs caches the process of the stages' resource (proc.go).
	procs procCache

	// mu guards what follows but count, lateMu and wg, and the fields of
	// each openRun that say so. An openRun's own lock may be taken under
	// it, never the other way round.
	mu sync.Mutex
	// stopped: Shutdown began; every span is ignored from then.
	stopped bool
	// runs are the open runs and the memory bound (runtable.go).
	runs runTable
	// router routes spans that name no run by their trace (router.go).
	router traceRouter
	// done holds the runs this exporter finished lately; which runs are
	// finished is known from disk (finished.go).
	done finishedRuns
	// closed holds runs whose spans are dropped here by design: disowned,
	// not joinable, or detached for a later Resume.
	closed recentRuns
	count  counters
	// store holds the open runs' events when WithRunStore asks (store.go);
	// stored are the runs it held when opened, for Resume.
	store  *runStore
	stored []*storedRun
	// expiry ends runs whose run span does not come (WithOpenRunTimeout).
	expiry expiry
	lateMu sync.Mutex     // serialises late merges (finished.go)
	wg     sync.WaitGroup // WithLateStageWait's timers that may be running
}

var _ sdktrace.SpanExporter = (*Exporter)(nil)

// New returns an Exporter configured by opts.
func New(opts ...Option) (*Exporter, error) {
	cfg := newConfig(opts)
	if cfg.perm&0o600 != 0o600 {
		return nil, fmt.Errorf("jsonrun: file permission %v would not let the owner read and write run files", cfg.perm)
	}
	host, _ := os.Hostname()
	e := &Exporter{
		cfg:    cfg,
		w:      runWriter{dir: cfg.dir, history: cfg.history, perm: cfg.perm, dirOnly: cfg.dirOnly},
		host:   host,
		res:    newResults(),
		runs:   newRunTable(cfg.maxPendingRuns),
		router: newTraceRouter(cfg.pendingWait),
	}
	if cfg.store {
		dir := cfg.storeDir
		if dir == "" {
			dir = filepath.Join(cfg.dir, storeDirName)
		}
		st, stored, err := openStore(dir, cfg.dir, cfg.journalSync, cfg.storeLim)
		if err != nil {
			return nil, err
		}
		e.store, e.stored = st, stored
	}
	return e, nil
}

// Dir returns the directory the exporter writes run files and journals to.
func (e *Exporter) Dir() string { return e.cfg.dir }

// ExportSpans routes each span by the run convention (docs/attributes.md):
// a run's root writes the run file (see WithLateStageWait), and a stage,
// of any instrumentation scope, goes to its run, named by
// stage_tracker.run.id or by its trace. Errors for individual runs are
// joined; the other runs in the batch are still written.
func (e *Exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var errs []error
	for _, s := range spans {
		if err := e.export(s, false); err != nil {
			if errors.Is(err, ErrStoreFull) {
				e.count.refusedFull.Add(1)
			}
			errs = append(errs, err)
		}
	}
	if e.store != nil {
		// One write for the call's lines, one fsync shared with the calls
		// that wait now: the spans are on disk before the call returns.
		if err := e.store.commit(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// export routes one ended span. With checkSampled, a span that is not
// sampled is dropped; the check comes after classify's, which most spans of
// other instrumentation stop at, to spare them a method call.
func (e *Exporter) export(s sdktrace.ReadOnlySpan, checkSampled bool) error {
	runID, role := classify(s, e.cfg.roots)
	if role == roleNone && !e.router.routes() {
		return nil // no run is known by its trace: nothing to look up
	}
	if checkSampled && !s.SpanContext().IsSampled() {
		return nil
	}
	switch role {
	case roleBadRunID:
		return e.refuse(&e.count.badRunIDs, fmt.Errorf("jsonrun: span %q (trace %s, span %s) refused: %w",
			s.Name(), s.SpanContext().TraceID(), s.SpanContext().SpanID(), badRunID(runID)))
	case roleTraceRoot:
		if e.traceHasRun(s.SpanContext().TraceID()) {
			return nil // a run inside the trace (a tracker's under a CI job's span) is the trace's run
		}
		fallthrough
	case roleRoot:
		root := newRootRecord(s)
		return e.rootArrived(&root, runID)
	case roleStage, roleCount:
		rec := newStageRecord(s, &e.procs)
		if role == roleCount && rec.claim == 0 {
			return nil // counts nothing
		}
		r, adopted, evicted, late, err := e.route(runID, s.SpanContext().TraceID(), nil)
		if err != nil {
			return err
		}
		if late {
			return e.mergeLate(runID, nil, []stageRecord{rec})
		}
		if r == nil {
			return nil
		}
		return errors.Join(e.addStages(r, adopted, rec), e.spill(evicted))
	}
	return e.traceStage(s)
}

// traceStage routes a span that names no run; export calls it only when
// the router routes.
func (e *Exporter) traceStage(s sdktrace.ReadOnlySpan) error {
	tid := s.SpanContext().TraceID()
	if e.router.wait == 0 {
		e.mu.Lock()
		r := e.router.lookup(tid)
		d, done := e.router.finished(tid)
		e.mu.Unlock()
		switch {
		case r != nil:
			if r.marksRes(s.Resource().Equivalent()) {
				return nil
			}
			return e.addStages(r, nil, newStageRecord(s, &e.procs))
		case done:
			return e.lateTraceStage(d, s)
		}
		return nil
	}
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil
	}
	if d, done := e.router.finished(tid); done {
		e.mu.Unlock()
		return e.lateTraceStage(d, s)
	}
	rec := newStageRecord(s, &e.procs)
	if r := e.router.lookup(tid); r != nil && !r.pending {
		e.mu.Unlock()
		return e.addStages(r, nil, rec)
	}
	e.router.hold(tid, rec, e.cfg.clock.Now(), &e.runs)
	evicted := e.evictLocked()
	e.mu.Unlock()
	return e.spill(evicted)
}

// lateTraceStage merges into the run file of d a span of its trace that
// names no run and arrived after the file was written (another SDK's
// spans, forwarded in a later batch than the run span), unless its process
// marks its stages: then it is a library's span, as it would have been
// while the run was open.
func (e *Exporter) lateTraceStage(d doneTrace, s sdktrace.ReadOnlySpan) error {
	if slices.Contains(d.marks, s.Resource().Equivalent()) {
		return nil
	}
	return e.mergeLate(d.runID, nil, []stageRecord{newStageRecord(s, &e.procs)})
}

// traceHasRun reports whether trace tid belongs to a run, open or written.
func (e *Exporter) traceHasRun(tid trace.TraceID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.router.hasRun(tid)
}

// route returns the open run of runID, opening it (with journal j, when
// not nil) when there is none, and links trace tid to it: the stages that
// waited for the trace are returned, to add, with the runs to evict to
// make room. It returns nil when the exporter is shut down or the run is
// closed here (the span is dropped), and late when the run is finished
// (its span is merged into the run file). With WithRunStore a run is
// opened only when the store has room; else the error wraps ErrStoreFull.
func (e *Exporter) route(runID string, tid trace.TraceID, j *runJournal) (_ *openRun, adopted []stageRecord, evicted []*openRun, late bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil, nil, nil, false, nil
	}
	r := e.runs.get(runID)
	if r == nil {
		if e.closed.has(runID) {
			return nil, nil, nil, false, nil
		}
		if e.finishedLocked(runID) {
			return nil, nil, nil, true, nil
		}
		r, err = e.openLocked(runID, j)
		if err != nil {
			return nil, nil, nil, false, err
		}
		e.runs.hold(r)
		evicted = e.evictLocked()
	}
	return r, e.router.link(r, tid, &e.runs), evicted, false, nil
}

// openLocked opens the run runID, with journal j when not nil, else its
// part of the store when there is one, and adds it to the open runs.
// e.mu must be held.
func (e *Exporter) openLocked(runID string, j *runJournal) (*openRun, error) {
	now := e.cfg.clock.Now()
	r := &openRun{id: runID, opened: now}
	switch {
	case j != nil:
		r.journal = j
	case e.store != nil:
		sr, err := e.store.open(runID, now.UnixNano(), e.host)
		if err != nil {
			return nil, err
		}
		r.journal = sr
	}
	e.runs.add(r)
	e.expireLaterLocked(r)
	return r, nil
}

// addStages adds the stages that waited for r's trace, then rec when it
// names a span, to r, first giving r its journal if WithJournalAllRuns asks.
func (e *Exporter) addStages(r *openRun, adopted []stageRecord, recs ...stageRecord) error {
	var errs []error
	if e.cfg.journalAll && !r.joined && !r.hasJournal() {
		path, err := e.w.journalPath(r.id)
		if err == nil {
			err = r.keepJournal(path, e.cfg.perm, e.cfg.journalSync, e.host)
		}
		errs = append(errs, err)
	}
	// Only errors are collected: a slice of nils cost two allocations a
	// stage on the hot path.
	for _, rec := range adopted {
		if err := r.addStage(rec); err != nil {
			errs = append(errs, err)
		}
	}
	for _, rec := range recs {
		if err := r.addStage(rec); err != nil {
			errs = append(errs, err)
		}
	}
	if err := e.stageArrived(r); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// evictLocked applies the memory bound (runTable.evict): it returns the
// evicted runs, for spilling, and drops the evicted buckets. e.mu must be
// held.
func (e *Exporter) evictLocked() []*openRun {
	evicted := e.runs.evict()
	runs := evicted[:0]
	for _, r := range evicted {
		if r.pending {
			e.router.dropped.Add(int64(r.stages.n))
			e.router.dropBucket(r, &e.runs)
		} else {
			runs = append(runs, r)
		}
	}
	return runs
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

// takeLocked removes runID from the open runs and returns it, or nil; its
// traces are remembered as written, so that their late spans are not kept
// waiting. e.mu must be held.
func (e *Exporter) takeLocked(runID string) *openRun {
	r := e.runs.take(runID)
	if r != nil {
		e.router.unlink(r)
	}
	return r
}

// finishTaken writes the run file of r, taken off the open runs: with its
// root, or, at Shutdown, without one (nil) as incomplete.
func (e *Exporter) finishTaken(r *openRun, root *rootRecord) error {
	res := r.writeFile(root, &e.w)
	if root == nil {
		// No run span: the run was not marked finishing, and no tracker
		// waits for it by its run span.
		return e.settle(r.id, nil, res)
	}
	e.written(r.id, res.path)
	return e.settle(r.id, root, res)
}

// settle hands the final result of a run to the Run.Finalize waiting for
// it (root, when not nil, names its run span), else keeps it for
// WaitRunFile, and returns its error. Every run this exporter writes ends
// here.
func (e *Exporter) settle(runID string, root *rootRecord, res result) error {
	e.res.settle(runID, root, res)
	return res.err
}

// WaitRunFile waits until the run file of runID has been written, or its
// writing failed, and returns its path or the error. A result already there
// is returned even when ctx is done; otherwise WaitRunFile returns ctx's
// error when ctx is done first. Each result is returned once, and one that
// a tracker's Run.Finalize took is not kept for it.
//
// It is safe for concurrent use.
//
// Deprecated: tracker.Run.Finalize reports the outcome of the run file on
// its own (Run.File and Finalize's error), however the exporter is
// registered; Finalize no longer calls WaitRunFile.
func (e *Exporter) WaitRunFile(ctx context.Context, runID string) (string, error) {
	runID = canonicalOr(runID)
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
	open := e.runs.takeAll()
	roots := make(map[*openRun]*rootRecord)
	for _, r := range open {
		if r.root != nil {
			roots[r] = r.root
			r.root = nil
			if r.timer.Stop() {
				e.wg.Done()
			}
		}
	}
	e.router.reset()
	e.stopExpiryLocked()
	e.mu.Unlock()
	e.wg.Wait() // a wait that ended as Shutdown began finds nothing to do

	var errs []error
	for _, r := range open {
		switch {
		case r.joined:
			errs = append(errs, r.closeJoined())
		default:
			// With its root (it waited for late stages) the run is
			// complete as far as it goes; without, incomplete.
			errs = append(errs, e.finishTaken(r, roots[r]))
		}
	}
	if e.store != nil {
		errs = append(errs, e.store.close())
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
	ev := journal.Event{
		Kind:       journal.KindRun,
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
	if root.provenance != "" {
		ev.Provenance = []byte(root.provenance) // left out by Append when not JSON
	}
	werr := j.write(journal.Append(nil, &ev))
	r, adopted, evicted, _, _ := e.route(runID, root.traceID, j)
	if r == nil || r.journal != runLog(j) {
		// Shut down, finished, or open already: this journal is not its.
		// The run span is judged when it ends (rootArrived).
		return errors.Join(werr, j.remove())
	}
	e.mu.Lock()
	r.owner = root.spanID // started here: this process owns the run
	e.mu.Unlock()
	r.markRoot(root)
	var aerr error
	if len(adopted) > 0 {
		aerr = e.addStages(r, adopted)
	}
	return errors.Join(werr, aerr, e.spill(evicted))
}

// journalStage records that a stage started, in its run's journal if this
// process keeps one.
func (e *Exporter) journalStage(rec *stageRecord, runID string) error {
	e.mu.Lock()
	r := e.runs.get(runID)
	e.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.start(rec)
}

package jsonrun

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Which runs are finished is known from disk, so that it holds across
// restarts and any number of runs: a run is finished when its run file is
// at <dir>/<run_id>.json, or, for a run written to an output file
// elsewhere (tracker.WithOutputFile), when <dir>/<run_id>.where names that
// file. The .where file, written after the run file, holds its absolute
// path and nothing else. What this exporter finished lately is also kept
// in memory (finishing), which covers the time between a run's leaving
// the open runs and its file being on disk.

// WhereSuffix ends the name of the file that says where the run file of a
// run written outside the exporter's directory is: <dir>/<run_id>.where.
const WhereSuffix = ".where"

// finishing is what the exporter keeps in memory of a run it finished: its
// run span, and, until the file is written, a channel closed when it is.
type finishing struct {
	root    trace.SpanID
	written chan struct{}
}

// finishedRuns are the runs this exporter finished lately, the last
// maxResults of them at least: the disk knows the rest. Not safe for
// concurrent use: Exporter.mu guards it.
type finishedRuns struct {
	// byID holds each run's finishing. Invariant: a run whose written is
	// not nil (its file is being written) stays, whatever the bound.
	byID map[string]*finishing
	// order holds the ids of byID, oldest first.
	order []string
}

// get returns what is kept of runID, or nil.
func (f *finishedRuns) get(runID string) *finishing { return f.byID[runID] }

// add records that runID's file is being written, by its run span root,
// and forgets the oldest runs written beyond the bound.
func (f *finishedRuns) add(runID string, root trace.SpanID) {
	if f.byID == nil {
		f.byID = make(map[string]*finishing)
	}
	f.byID[runID] = &finishing{root: root, written: make(chan struct{})}
	f.order = append(f.order, runID)
	for len(f.order) > maxResults {
		id := f.order[0]
		if old := f.byID[id]; old != nil && old.written != nil {
			break // still being written
		}
		delete(f.byID, id)
		f.order = f.order[1:]
	}
}

// written records that runID's file was written, or failed to be.
func (f *finishedRuns) written(runID string) {
	if r := f.byID[runID]; r != nil && r.written != nil {
		close(r.written)
		r.written = nil
	}
}

// Stats counts what an Exporter did with spans that did not simply join an
// open run.
type Stats struct {
	// RefusedRoots counts run spans refused because another span owns
	// their run: a root with a new span id for a run that has one, or has
	// a run file, and a span naming the run but no stage from a process
	// that joined it.
	RefusedRoots int64
	// RefusedStages counts stages that arrived for a finished run whose
	// run file could not be read or rewritten.
	RefusedStages int64
	// LateStages counts stages merged into a run file already written.
	LateStages int64
	// BadRunIDs counts spans refused because their stage_tracker.run.id
	// is not a UUID in any spelling. Other spellings of a UUID (upper
	// case, urn:uuid:, braces, no dashes) are taken, as the lower-case
	// dashed form.
	BadRunIDs int64
	// RefusedFull counts spans refused because the store of open runs
	// was at a bound (WithRunStore; errors wrapping ErrStoreFull).
	RefusedFull int64
	// ExpiredRuns counts runs written as incomplete because their run
	// span had not come in time (WithOpenRunTimeout).
	ExpiredRuns int64
	// DroppedSpans counts spans that waited for their trace's run
	// (WithPendingSpans) and were dropped: the run did not show up in
	// time, too many waited, the memory bound evicted them, or the
	// exporter shut down.
	DroppedSpans int64
	// OpenRuns is how many runs are open now.
	OpenRuns int64
	// StoreBytes is the size of the store of open runs on disk now.
	StoreBytes int64
}

// counters are Stats, updated without the exporter's lock.
type counters struct {
	refusedRoots, refusedStages, lateStages, badRunIDs atomic.Int64
	refusedFull, expiredRuns                           atomic.Int64
}

// Stats returns what the exporter refused and merged late since New. It
// is safe for concurrent use.
func (e *Exporter) Stats() Stats {
	st := Stats{
		RefusedRoots:  e.count.refusedRoots.Load(),
		RefusedStages: e.count.refusedStages.Load(),
		LateStages:    e.count.lateStages.Load(),
		BadRunIDs:     e.count.badRunIDs.Load(),
		RefusedFull:   e.count.refusedFull.Load(),
		ExpiredRuns:   e.count.expiredRuns.Load(),
		DroppedSpans:  e.router.dropped.Load(),
	}
	e.mu.Lock()
	st.OpenRuns = int64(len(e.runs.byID))
	e.mu.Unlock()
	if e.store != nil {
		_, st.StoreBytes, _ = e.store.stats()
	}
	return st
}

// refuse counts a refused span and reports why, in one line, to the
// OpenTelemetry error handler. It returns nil: a refusal is this
// exporter's decision, not an export that failed (a sender would retry
// it).
func (e *Exporter) refuse(n *atomic.Int64, err error) error {
	n.Add(1)
	otel.Handle(err)
	return nil
}

// finishedLocked reports whether runID is finished: written or being
// written by this exporter lately, or its run file on disk. e.mu must be
// held.
func (e *Exporter) finishedLocked(runID string) bool {
	if e.done.get(runID) != nil {
		return true
	}
	_, ok := e.runFilePath(runID)
	return ok
}

// markFinishingLocked takes r off the open runs to write its file with
// root. e.mu must be held.
func (e *Exporter) markFinishingLocked(r *openRun, root *rootRecord) {
	e.takeLocked(r.id)
	e.done.add(r.id, root.spanID)
}

// written records that the file of runID, marked finishing, was written to
// path (or failed to be, path ""), and where it is when that is outside
// the directory.
func (e *Exporter) written(runID, path string) {
	if path != "" {
		if err := e.recordWhere(runID, path); err != nil {
			otel.Handle(err)
		}
	}
	e.mu.Lock()
	e.done.written(runID)
	e.mu.Unlock()
}

// recordWhere writes <dir>/<run_id>.where for a run file written outside
// the directory.
func (e *Exporter) recordWhere(runID, path string) error {
	inDir, err := e.w.path(runID, "")
	if err != nil || path == inDir {
		// Not a UUID: no file of the directory can name it. Or the run
		// file is in the directory, as it is for every run of a
		// Collector: filepath.Abs costs four system calls a run.
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("jsonrun: run %s: %w", runID, err)
	}
	if absDir, err := filepath.Abs(inDir); err == nil && absDir == abs {
		return nil
	}
	where := filepath.Join(e.cfg.dir, runID+WhereSuffix)
	if err := os.MkdirAll(e.cfg.dir, 0o755); err != nil {
		return fmt.Errorf("jsonrun: run %s: record where its file is: %w", runID, err)
	}
	err = fsutil.WriteAtomic(where, e.cfg.perm, true, func(w io.Writer) error {
		_, err := io.WriteString(w, abs+"\n")
		return err
	})
	if err != nil {
		return fmt.Errorf("jsonrun: run %s: record where its file is in %s: %w", runID, where, err)
	}
	return nil
}

// runFilePath returns the path of runID's run file when it is on disk.
func (e *Exporter) runFilePath(runID string) (string, bool) {
	p, err := e.w.path(runID, "")
	if err != nil {
		return "", false
	}
	// Only a regular file is a run file: a symlink planted at the path is
	// replaced by the run's file, never followed.
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
		return p, true
	}
	b, err := os.ReadFile(filepath.Join(e.cfg.dir, runID+WhereSuffix))
	if err != nil {
		return "", false
	}
	p = string(bytes.TrimSuffix(b, []byte("\n")))
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() || !filepath.IsAbs(p) {
		return "", false
	}
	return p, true
}

// waitWritten waits until the file of runID, when this exporter is writing
// it, is written.
func (e *Exporter) waitWritten(runID string) {
	e.mu.Lock()
	var ch chan struct{}
	if f := e.done.get(runID); f != nil {
		ch = f.written
	}
	e.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

// rootOfFinished handles a run span of a finished run: the run span that
// wrote the file changes nothing; another is refused; the run span of a
// file written without one (Shutdown, a process that held only stages)
// completes it.
func (e *Exporter) rootOfFinished(root *rootRecord, runID string) error {
	e.mu.Lock()
	f := e.done.get(runID)
	e.mu.Unlock()
	if f != nil && f.root.IsValid() {
		if f.root == root.spanID {
			return nil
		}
		return e.refuseRoot(runID, root, "its run file is written, by run span "+f.root.String())
	}
	return e.mergeLate(runID, root, nil)
}

// refuseRoot refuses a run span that does not own its run.
func (e *Exporter) refuseRoot(runID string, root *rootRecord, why string) error {
	return e.refuse(&e.count.refusedRoots, fmt.Errorf("jsonrun: run %s: refused run span %s (%q) of trace %s: %s; a run has one run span", runID, root.spanID, root.name, root.traceID, why))
}

// mergeLate merges stages that arrived after runID's file was written into
// that file, which is read, merged (merge.go) and written again
// atomically; the stages it did not hold are counted in late_stages. root,
// when not nil, is a run span for the run: it completes a file written
// without one, and is refused by a file that has another (the same is a
// no-op). Late merges of one exporter are serialised; a stage the file
// holds already changes nothing.
func (e *Exporter) mergeLate(runID string, root *rootRecord, recs []stageRecord) error {
	e.waitWritten(runID)
	path, ok := e.runFilePath(runID)
	refuseStages := func(why error) error {
		if len(recs) == 0 {
			return nil
		}
		e.count.refusedStages.Add(int64(len(recs) - 1))
		return e.refuse(&e.count.refusedStages, fmt.Errorf("jsonrun: run %s: refused %d stage(s) that arrived after its run file was written: %w", runID, len(recs), why))
	}
	if !ok {
		if root != nil {
			return e.refuseRoot(runID, root, "its run file could not be written")
		}
		return refuseStages(errors.New("the run file is not on disk"))
	}
	e.lateMu.Lock()
	defer e.lateMu.Unlock()
	old, err := runfile.ReadFile(path)
	if err == nil && old.RunID != runID {
		err = fmt.Errorf("%s is the file of run %s", path, old.RunID)
	}
	var (
		oldRoot *rootRecord
		stages  []stageRecord
	)
	if err == nil {
		oldRoot, stages, err = recordsOf(old)
	}
	if err != nil {
		if root != nil {
			return e.refuseRoot(runID, root, err.Error())
		}
		return refuseStages(err)
	}
	warnings := old.Warnings
	if root != nil {
		switch {
		case oldRoot == nil:
			oldRoot, warnings = root, nil // the owner, after a file written without it
		case oldRoot.spanID == root.spanID:
			return nil
		default:
			return e.refuseRoot(runID, root, "its run file names run span "+oldRoot.spanID.String())
		}
	}
	added, counts := newRecords(stages, recs)
	if added == 0 && counts == 0 && root == nil {
		return nil
	}
	merged := assemble(oldRoot, runID, append(stages, recs...), "")
	merged.Warnings = carryWarnings(warnings, merged.Warnings)
	merged.LateStages = old.LateStages + added
	if err := runfile.WriteFile(path, merged, e.cfg.perm, true); err != nil {
		if root != nil {
			return e.refuseRoot(runID, root, err.Error())
		}
		return refuseStages(err)
	}
	e.count.lateStages.Add(int64(added))
	return nil
}

// newRecords counts the records of recs that add to stages: a span stages
// does not hold, or holds as not ended where recs ended it; the count
// spans' apart from the stages'.
func newRecords(stages, recs []stageRecord) (added, counts int) {
	have := make(map[trace.SpanID]bool, len(stages)+len(recs)) // ended?
	for i := range stages {
		have[stages[i].spanID] = have[stages[i].spanID] || endedRecord(&stages[i])
	}
	for i := range recs {
		ended, ok := have[recs[i].spanID]
		if !ok || !ended && endedRecord(&recs[i]) {
			if recs[i].claim > 0 {
				counts++
			} else {
				added++
			}
			have[recs[i].spanID] = endedRecord(&recs[i])
		}
	}
	return added, counts
}

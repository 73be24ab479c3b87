package jsonrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/journal"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Resume takes over the journals in the exporter's directory that a process
// which received ended spans (a Collector's exporter, journaling with
// WithJournalAllRuns, killed mid-run) left behind, so that their runs go on
// here: each becomes an open run of this exporter with its stages kept in
// the journal, later stages are appended to it, and its run span, when it
// arrives, writes the run file with every stage from before and after the
// takeover. It returns the run ids taken over.
//
// Only journals whose owner is dead (no process holds their lock, the rule
// Recover follows) and whose run event names no run span are taken: a run
// span that started in a process means that process owned the run, and its
// death ended the run, which Recover writes as crashed. Detached runs
// (stagetrack start) and journals whose run file exists are left to
// Recover. Call Resume before Recover, on a new exporter; it is safe for
// concurrent use.
func (e *Exporter) Resume(ctx context.Context) ([]string, error) {
	ids, err := e.resumeStore(ctx)
	if err != nil {
		return ids, err
	}
	more, err := e.resumeJournals(ctx)
	return append(ids, more...), err
}

// resumeStore takes over the runs the store of open runs held when New
// opened it (WithRunStore): a run whose run span had arrived is written
// now (it was waiting for late stages: later ones merge into its file),
// a run whose file is on disk already gets what the store held merged
// into it, and the others are open runs again, their stages in the
// store, their timeout counted from when they first opened. It reads the
// store once, in New: the time is that of its size, and it holds one
// descriptor per segment.
func (e *Exporter) resumeStore(ctx context.Context) ([]string, error) {
	e.mu.Lock()
	stored := e.stored
	e.stored = nil
	e.mu.Unlock()
	var (
		ids  []string
		errs []error
	)
	for i, sr := range stored {
		if err := ctx.Err(); err != nil {
			// Not taken over: open in the store still, for the next start.
			e.mu.Lock()
			e.stored = stored[i:]
			e.mu.Unlock()
			return ids, err
		}
		id, err := e.resumeStored(sr)
		if err != nil {
			errs = append(errs, err)
		}
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids, errors.Join(errs...)
}

// resumeStored takes over one run of the store.
func (e *Exporter) resumeStored(sr *storedRun) (string, error) {
	var root *rootRecord
	if sr.root != nil {
		var err error
		if root, err = rootOfEvent(sr.root); err != nil {
			root = nil // its stages are kept; a root sent again finishes it
		}
	}
	r := &openRun{id: sr.run.id, journal: sr.run, spilled: true, opened: fromUnixNano(sr.opened),
		arrived: sr.ended, own: procCounts{{n: sr.ended}}}
	e.mu.Lock()
	switch {
	case e.stopped || e.runs.get(r.id) != nil:
		e.mu.Unlock()
		return "", nil
	case e.finishedLocked(r.id) && (root == nil || e.readable(r.id)):
		// Written, and the store's done line lost in a crash: what it
		// held merges into the file (a stage there already changes
		// nothing). A file the crash left unreadable (written, not yet
		// synced) is written again below, from the store.
		e.mu.Unlock()
		stages, _ := journalStages(nil, e.cfg.clock.Now(), sr.run)
		if err := e.mergeLate(r.id, root, stages); err != nil {
			return "", err
		}
		return "", sr.run.remove()
	}
	e.runs.add(r)
	if root == nil {
		e.expireLaterLocked(r)
		e.mu.Unlock()
		return r.id, nil
	}
	r.owner = root.spanID
	e.router.link(r, root.traceID, &e.runs)
	e.markFinishingLocked(r, root)
	e.mu.Unlock()
	return r.id, e.finishTaken(r, root)
}

// resumeJournals takes over the journal files of dead receiving
// processes.
func (e *Exporter) resumeJournals(ctx context.Context) ([]string, error) {
	if !fsutil.LocksWork {
		return nil, nil // nothing tells a live journal from a dead one
	}
	matches, err := filepath.Glob(filepath.Join(fsutil.GlobEscape(e.cfg.dir), "*"+JournalSuffix))
	if err != nil {
		return nil, fmt.Errorf("jsonrun: resume %s: %w", e.cfg.dir, err)
	}
	var (
		ids  []string
		errs []error
	)
	for _, m := range matches {
		if err := ctx.Err(); err != nil {
			return ids, err
		}
		id, err := e.resumeJournal(m)
		if err != nil {
			errs = append(errs, err)
		} else if id != "" {
			ids = append(ids, id)
		}
	}
	return ids, errors.Join(errs...)
}

// resumeJournal takes over one journal and returns its run id, or "" when
// it is not one to take.
func (e *Exporter) resumeJournal(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return "", nil // gone, or not a file: Recover reports those
	}
	f, err := fsutil.OpenNoFollow(path, os.O_WRONLY|os.O_APPEND)
	if err != nil {
		return "", nil
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	free, err := fsutil.TryLockExclusive(f)
	if err != nil || !free || !fsutil.SameFile(f, path) {
		return "", nil // a live owner, a recovery, or finished meanwhile
	}
	rd, err := fsutil.OpenNoFollow(path, os.O_RDONLY)
	if err != nil {
		return "", nil
	}
	jc := readJournal(rd)
	rd.Close()
	ev := jc.run
	if ev == nil || ev.SpanID != "" || ev.Detached {
		return "", nil
	}
	want, err := e.w.journalPath(ev.RunID)
	if err != nil || filepath.Clean(want) != filepath.Clean(path) {
		return "", nil // not named by its run id: not one of ours
	}
	if runPath, err := e.w.path(ev.RunID, ""); err != nil {
		return "", nil
	} else if _, err := os.Lstat(runPath); err == nil {
		return "", nil // written already: Recover removes the journal
	}
	// Hold it as a writer does, so that no recovery takes it from now on.
	if err := fsutil.LockShared(f); err != nil {
		return "", fmt.Errorf("jsonrun: resume %s: lock: %w", path, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped || e.runs.get(ev.RunID) != nil || e.closed.has(ev.RunID) || e.finishedLocked(ev.RunID) {
		return "", nil
	}
	// The stages in the journal count towards the root's stage count
	// (WithLateStageWait), as if they had arrived here; the journal does
	// not say which were loose, so all count as the tracker's.
	n := 0
	for i := range jc.ended {
		if jc.ended[i].claim == 0 { // a count span's record is no stage
			n++
		}
	}
	e.runs.add(&openRun{id: ev.RunID, journal: &runJournal{File: journal.Locked(path, f, e.cfg.journalSync), path: path}, spilled: true, arrived: n, own: procCounts{{n: n}}})
	keep = true
	return ev.RunID, nil
}

// Detach stops the exporter like Shutdown, except that a run still open
// which has a journal is not written as incomplete: its journal is closed
// and left for a later exporter's Resume, so that a process restarted
// gracefully in the middle of a run (a Collector's exporter) finishes it
// whole. Runs without a journal are written as incomplete, as by Shutdown.
// After Detach the exporter ignores spans; it is idempotent with Shutdown.
func (e *Exporter) Detach(ctx context.Context) error {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil
	}
	var keep []*openRun
	for id, r := range e.runs.byID {
		// A run whose root arrived and waits for late stages is finished
		// by Shutdown, not kept.
		if !r.joined && r.journal != nil && r.root == nil {
			keep = append(keep, e.runs.take(id))
			e.closed.add(id) // spans still arriving are dropped, not written as a second run
		}
	}
	e.mu.Unlock()
	var errs []error
	for _, r := range keep {
		errs = append(errs, r.detach())
	}
	// What is left, Shutdown ends as always.
	errs = append(errs, e.Shutdown(ctx))
	return errors.Join(errs...)
}

// readable reports whether the run file of runID is on disk and reads as
// that run's.
func (e *Exporter) readable(runID string) bool {
	path, ok := e.runFilePath(runID)
	if !ok {
		return false
	}
	run, err := runfile.ReadFile(path)
	return err == nil && run.RunID == runID
}

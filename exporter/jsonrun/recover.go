package jsonrun

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/internal/runid"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/journal"
	"go.opentelemetry.io/otel/trace"
)

// journalContents is what a journal says about its run.
type journalContents struct {
	run     *journal.Event // the run event; nil when it is missing or unreadable
	ended   []stageRecord  // stages that ended, in file order
	started []stageRecord  // stages that started and never ended, in file order
	last    time.Time      // time of the last event
	bad     []error        // lines that were skipped, as *journal.LineError
}

// readJournal reads a journal through journal.Reader. It never fails:
// lines it cannot read (a torn last line, garbage) are skipped and
// reported in bad. Records of one span are not collapsed here: assemble
// merges them by span id, by the one rule (merge.go); a start is kept only
// when no end of its span came, as an ended record wins anyway.
func readJournal(rd io.Reader) journalContents {
	var (
		jc      journalContents
		endedID = map[trace.SpanID]bool{}
	)
	jr := journal.NewReader(rd)
	for jr.Next() {
		ev := jr.Event()
		switch ev.Kind {
		case journal.KindRun:
			if jc.run != nil {
				jr.Skip(errors.New("second run event"))
				continue
			}
			run := *ev
			jc.run = &run
		case journal.KindStart, journal.KindEnd:
			rec, err := stageFromEvent(ev)
			if err != nil {
				jr.Skip(err)
				continue
			}
			if ev.Kind == journal.KindStart {
				jc.started = append(jc.started, rec)
			} else {
				endedID[rec.spanID] = true
				jc.ended = append(jc.ended, rec)
			}
		}
		if t := fromUnixNano(ev.T); t.After(jc.last) {
			jc.last = t
		}
	}
	jc.bad = jr.Bad()
	// Drop starts whose end came later, keeping file order.
	kept := jc.started[:0]
	for _, s := range jc.started {
		if !endedID[s.spanID] {
			kept = append(kept, s)
		}
	}
	jc.started = kept
	return jc
}

// recoveredRun builds the run file of a journal whose process stopped
// before finalising the run: stages that ended keep their records, stages
// that were running are marked so, and the run ends at the last event.
//
// status and why are the run's status and error; "" means crashed, with the
// process that stopped as the reason.
func (jc *journalContents) recoveredRun(journalPath, status, why string) (*Run, error) {
	if jc.run == nil {
		return nil, fmt.Errorf("jsonrun: journal %s has no readable run event", journalPath)
	}
	ev := jc.run
	if status == "" {
		status = StatusCrashed
		why = fmt.Sprintf("process %d on %s stopped before the run was finalised; recovered from its journal",
			ev.PID, orUnknown(ev.Host))
	}
	root := rootRecord{
		name:       ev.Name,
		start:      fromUnixNano(ev.T),
		end:        jc.last,
		failed:     true,
		status:     status,
		args:       string(ev.Args),
		provenance: string(ev.Provenance),
		outputFile: ev.OutputFile,
		stageCount: -1,
		argsSize:   -1,
		errMsg:     why,
		proc:       proc{host: ev.Host, pid: ev.PID},
	}
	if ev.TraceID != "" {
		id, err := journal.ParseTraceID(ev.TraceID)
		if err != nil {
			return nil, fmt.Errorf("jsonrun: journal %s: %w", journalPath, err)
		}
		root.traceID = id
	}
	if ev.SpanID != "" {
		id, err := journal.ParseSpanID(ev.SpanID)
		if err != nil {
			return nil, fmt.Errorf("jsonrun: journal %s: %w", journalPath, err)
		}
		root.spanID = id
	}
	if ev.ParentSpanID != "" {
		root.parentID, _ = journal.ParseSpanID(ev.ParentSpanID)
	}
	stages := append([]stageRecord(nil), jc.ended...)
	for _, s := range jc.started {
		s.status = StageRunning
		s.end = jc.last
		stages = append(stages, s)
	}
	run := assemble(&root, ev.RunID, stages, "recovered from journal "+filepath.Base(journalPath))
	for _, b := range jc.bad {
		run.Warnings = append(run.Warnings, "journal: skipped "+b.Error())
	}
	return run, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown host"
	}
	return s
}

// Recover turns the journals that crashed or killed processes left in the
// exporter's directory into run files, and returns their paths. A journal
// is taken only when no live process holds its lock (its owner and every
// joined child hold one while they may write): Recover locks it
// exclusively, without waiting, for as long as it recovers it, so that
// concurrent recoveries of one directory, in any processes, recover each
// run once. It removes a journal whose run file exists already (the process
// died between writing it and removing the journal), first completing the
// history, and the temporary files that interrupted writes left. Files
// that are not regular files are skipped, never opened for reading, and
// reported as a *SkippedError. Problems with individual journals are joined
// into the error; the others are still recovered.
//
// setup.Tracker calls Recover for its directory when it starts. Recover is
// safe for concurrent use.
func (e *Exporter) Recover(ctx context.Context) ([]string, error) {
	if !fsutil.LocksWork {
		return nil, nil // see lock_other.go: nothing tells a live journal from a dead one
	}
	// Journals of interrupted finishes first: the run file is theirs, and
	// the journal their finish's exporter may have left beside one is then
	// only a finalised run's leftover.
	var matches []string
	for _, suffix := range []string{journal.FinishingSuffix, JournalSuffix} {
		m, err := filepath.Glob(filepath.Join(fsutil.GlobEscape(e.cfg.dir), "*"+suffix))
		if err != nil {
			return nil, fmt.Errorf("jsonrun: recover %s: %w", e.cfg.dir, err)
		}
		matches = append(matches, m...)
	}
	var (
		paths []string
		errs  []error
	)
	for _, m := range matches {
		if err := ctx.Err(); err != nil {
			return paths, err
		}
		path, err := e.recoverJournal(m, false)
		switch {
		case errors.Is(err, errJournalLive):
		case err != nil:
			errs = append(errs, err)
		case path != "":
			paths = append(paths, path)
		}
	}
	errs = append(errs, fsutil.CleanTemps(e.cfg.dir))
	return paths, errors.Join(errs...)
}

// RecoverJournal turns one journal into a run file in the exporter's
// directory, <dir>/<run_id>.json, and returns its path, whatever host wrote
// it. It refuses, with an error, a journal that a live process still holds.
func (e *Exporter) RecoverJournal(ctx context.Context, path string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return e.recoverJournal(path, true)
}

var errJournalLive = errors.New("a live process still writes it")

// SkippedError reports a file that recovery did not read because it is not
// a regular file (a FIFO, a device, a symlink).
type SkippedError struct {
	Path string
	Mode os.FileMode
}

func (e *SkippedError) Error() string {
	return fmt.Sprintf("jsonrun: skipped %s: not a regular file (%s)", e.Path, e.Mode.Type())
}

func (e *Exporter) recoverJournal(path string, explicit bool) (string, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil // its run finished since the directory was listed
	}
	if err != nil {
		return "", fmt.Errorf("jsonrun: recover %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", &SkippedError{Path: path, Mode: fi.Mode()}
	}
	f, err := fsutil.OpenNoFollow(path, os.O_RDONLY)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("jsonrun: recover %s: %w", path, err)
	}
	defer f.Close() // drops the lock, after the journal is removed
	ok, err := fsutil.TryLockExclusive(f)
	if err != nil {
		return "", fmt.Errorf("jsonrun: recover %s: lock: %w", path, err)
	}
	if !ok {
		return "", fmt.Errorf("jsonrun: journal %s: %w", path, errJournalLive)
	}
	if !fsutil.SameFile(f, path) {
		return "", nil // another recovery, or its owner, finished it first
	}
	// A detached run (stagetrack start) has no process holding its lock
	// between its steps: its run event alone says whether to wait for it,
	// so that every step's start-up recovery costs the same however many
	// stages the run has.
	// A journal that stagetrack finish renamed aside is not waited for: its
	// finish was asked for, and died (its lock is free).
	finishing := strings.HasSuffix(path, journal.FinishingSuffix)
	if !explicit && !finishing && waitForDetached(f, time.Now()) {
		return "", fmt.Errorf("jsonrun: journal %s: %w", path, errJournalLive)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("jsonrun: recover %s: %w", path, err)
	}
	jc := readJournal(f)
	if jc.run == nil && len(jc.bad) == 0 && !explicit {
		return "", nil // empty: a run starting right now, or nothing to recover
	}
	status, why, skip := detachedRun(jc.run, explicit || finishing, time.Now())
	if finishing && status != "" {
		why = "stagetrack finish was interrupted; recovered from its journal"
	}
	if skip {
		return "", fmt.Errorf("jsonrun: journal %s: %w", path, errJournalLive)
	}
	run, err := jc.recoveredRun(path, status, why)
	if err != nil {
		return "", err
	}
	// The run file goes to the directory, whatever the journal says: a
	// journal planted there must not make recovery write anywhere else.
	runPath, err := e.w.path(run.RunID, "")
	if err != nil {
		return "", fmt.Errorf("jsonrun: recover %s: %w", path, err)
	}
	if _, err := os.Lstat(runPath); err == nil {
		// Finalised; only the journal's removal was lost, and perhaps the
		// history line after the file.
		if err := e.completeHistory(runPath); err != nil {
			return "", err
		}
		if err := os.Remove(path); err != nil {
			return "", fmt.Errorf("jsonrun: remove stale journal %s: %w", path, err)
		}
		return "", nil
	}
	written, err := e.w.write(run, "", false)
	if errors.Is(err, fs.ErrExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if err := os.Remove(path); err != nil {
		return written, fmt.Errorf("jsonrun: recovered %s but could not remove its journal: %w", written, err)
	}
	return written, nil
}

// DetachedMaxAge is how long a run that stagetrack start opened (its run
// event marked detached; no process owns it) waits for stagetrack finish:
// Recover skips its journal until then, since its next step may still come.
// Older, or recovered explicitly (RecoverJournal), it becomes an
// interrupted run with the stages it had.
const DetachedMaxAge = 24 * time.Hour

// detachedRun decides the recovery of a detached run's journal: skip it
// while it is younger than DetachedMaxAge and not asked for explicitly,
// else recover it as interrupted. Status "" is for a run that is not
// detached: its owner's liveness decides.
func detachedRun(ev *journal.Event, explicit bool, now time.Time) (status, why string, skip bool) {
	if ev == nil || !ev.Detached {
		return "", "", false
	}
	started := fromUnixNano(ev.T)
	if !explicit && now.Sub(started) < DetachedMaxAge {
		return "", "", true
	}
	return StatusInterrupted, fmt.Sprintf("started by stagetrack start at %s and never finished; recovered from its journal",
		started.Format(time.RFC3339)), false
}

// waitForDetached reads the first line of the journal f and reports
// whether it is the run event of a detached run young enough to wait for.
func waitForDetached(f *os.File, now time.Time) bool {
	ev, ok := journal.DetachedRun(journal.FirstLine(f))
	if !ok || ev == nil {
		return false // not detached, or cut short: let the full read report it
	}
	_, _, skip := detachedRun(ev, false, now)
	return skip
}

// completeHistory appends the run file at runPath to the history when the
// history holds no whole line of it: the process that wrote it was killed
// before or during its history append.
func (e *Exporter) completeHistory(runPath string) error {
	if e.cfg.history == "" {
		return nil
	}
	run, err := ReadFile(runPath)
	if err != nil {
		return nil // not ours to judge here; the run file stays as it is
	}
	runs, _ := ReadHistory(e.cfg.history)
	for _, r := range runs {
		if r.RunID == run.RunID {
			return nil
		}
	}
	return e.w.appendHistory(run)
}

// checkJournalOf checks that path is the journal of run runID: a name
// ending in JournalSuffix whose first line is the run event of runID.
func checkJournalOf(path, runID string) error {
	if _, err := runid.Canonical(runID); err != nil {
		return err
	}
	if !strings.HasSuffix(path, JournalSuffix) {
		return fmt.Errorf("%s is not a journal (no %s suffix)", path, JournalSuffix)
	}
	f, err := fsutil.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 4096).ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%s: no run event: %w", path, err)
	}
	// The run event is short: its args are the only long field, and they
	// come after run_id, so a prefix is enough to check.
	if !journal.IsRunEventOf(line, runID) {
		return fmt.Errorf("%s is not the journal of run %s", path, runID)
	}
	return nil
}

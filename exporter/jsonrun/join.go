package jsonrun

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/stage-tracker/stage-tracker/internal/runid"
)

// JournalPath returns where the exporter keeps the journal of an open run:
// <dir>/<run_id>.journal, whatever outputFile (a run started with
// tracker.WithOutputFile) says; outputFile is no longer used. Give it to
// processes that join the run (tracker.ChildEnv).
func (e *Exporter) JournalPath(runID, outputFile string) (string, error) {
	p, err := e.w.journalPath(runID)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// Join makes this exporter record the stages of a run that another process
// owns (its tracker joined it, tracker.Tracker.Join) in that run's journal
// at path, instead of buffering them: the owner merges them into its run
// file when it finishes. This process holds the journal's shared lock until
// Shutdown, so that no recovery takes the journal under it.
//
// Join fails, and this exporter then drops every stage of runID rather than
// write anything under the other process's run id, when path is not that
// run's journal (its first line is the run event of runID), when it is
// gone (the run has finished), or when a recovery holds it.
func (e *Exporter) Join(runID, path string) error {
	runID = canonicalOr(runID)
	j, err := e.joinJournal(runID, path)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		if j != nil {
			j.close()
		}
		return fmt.Errorf("jsonrun: join run %s: exporter is shut down", runID)
	}
	if old := e.takeLocked(runID); old != nil && old.joined {
		_ = old.closeJoined()
	}
	if err != nil {
		// Remembered as written, so that its spans are dropped.
		e.closed.add(runID)
		return fmt.Errorf("jsonrun: join run %s: %w", runID, err)
	}
	e.runs.add(&openRun{id: runID, joined: true, journal: j, self: proc{host: e.host, pid: os.Getpid()}})
	return nil
}

func (e *Exporter) joinJournal(runID, path string) (*runJournal, error) {
	if err := checkJournalOf(path, runID); err != nil {
		return nil, err
	}
	return joinJournal(path, e.cfg.journalSync)
}

// Disown tells the exporter that another process, on this host or another,
// owns run runID and writes its run file from spans it receives (a
// stagetrack run, a Collector with the jsonrun exporter): this exporter
// then writes nothing for runID, neither a file nor a journal, instead of
// an incomplete file under the owner's run id. The stages still reach the
// owner through the provider's other exporters. Stages already buffered
// for runID are dropped from here. Disown is safe for concurrent use.
func (e *Exporter) Disown(runID string) {
	runID = canonicalOr(runID)
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.takeLocked(runID); old != nil && old.joined {
		_ = old.closeJoined()
	}
	e.closed.add(runID)
}

// canonicalOr returns runID in its canonical spelling (package runid), or
// as it is when it is not a UUID: the paths that use it refuse it then.
func canonicalOr(runID string) string {
	if id, err := runid.Canonical(runID); err == nil {
		return id
	}
	return runID
}

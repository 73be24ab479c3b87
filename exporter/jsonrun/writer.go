package jsonrun

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/stage-tracker/stage-tracker/internal/runid"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// runWriter puts run files and history lines where the exporter's options
// say. It holds no state beyond them; it is safe for concurrent use.
type runWriter struct {
	dir     string
	history string
	perm    os.FileMode
	dirOnly bool // WithRunFilesInDirOnly: outputFile is ignored
	// lazy: files are written without their syncs; the caller makes them
	// durable (a run the store of open runs holds until fsutil.SyncFS).
	lazy bool
	// tmpDir, when set, holds the temporary files (the store's own
	// directory: fsutil.WriteAtomicIn).
	tmpDir string
}

// path returns where the run file of runID goes. Only a valid UUID becomes
// part of a file name, so no run id can point outside the directory.
func (w *runWriter) path(runID, outputFile string) (string, error) {
	if outputFile != "" && !w.dirOnly {
		return filepath.Clean(outputFile), nil
	}
	runID, err := checkRunID(runID)
	if err != nil {
		return "", err
	}
	return filepath.Join(w.dir, runID+".json"), nil
}

// journalPath returns where the journal of runID goes: always
// <dir>/<run_id>.journal, whatever the run's output file, so that two runs
// writing one output file share no journal.
func (w *runWriter) journalPath(runID string) (string, error) {
	runID, err := checkRunID(runID)
	if err != nil {
		return "", err
	}
	return filepath.Join(w.dir, runID+JournalSuffix), nil
}

// checkRunID returns runID's canonical spelling (package runid), the one
// a file name holds, or an error when it is not a UUID.
func checkRunID(runID string) (string, error) {
	id, err := runid.Canonical(runID)
	if err != nil {
		return "", fmt.Errorf("jsonrun: %w, so it is not used as a file name", err)
	}
	return id, nil
}

// write writes run's file atomically, then appends it to the history. With
// replace false, an existing file at the path is kept and the write fails:
// a run written without its run span (Shutdown) must never replace a run
// file that is complete.
func (w *runWriter) write(run *Run, outputFile string, replace bool) (string, error) {
	path, err := w.writeWith(run, outputFile, replace, func(f io.Writer) error { return runfile.Write(f, run) })
	if err != nil {
		return "", err
	}
	return path, w.appendHistory(run)
}

// writeWith writes run's file atomically with encode, which writes its
// content.
func (w *runWriter) writeWith(run *Run, outputFile string, replace bool, encode func(io.Writer) error) (string, error) {
	path, err := w.path(run.RunID, outputFile)
	if err != nil {
		return "", err
	}
	write := fsutil.WriteAtomicSync
	if w.tmpDir != "" {
		write = func(path string, perm os.FileMode, replace, sync bool, encode func(io.Writer) error) error {
			return fsutil.WriteAtomicIn(w.tmpDir, path, perm, replace, sync, encode)
		}
	}
	if err := write(path, w.perm, replace, !w.lazy, encode); err != nil {
		return "", fmt.Errorf("jsonrun: write run %s to %s: %w", run.RunID, path, err)
	}
	return path, nil
}

// appendHistory appends run to the history file, when there is one.
func (w *runWriter) appendHistory(run *Run) error {
	if w.history == "" {
		return nil
	}
	return runfile.AppendHistory(w.history, run, w.perm)
}

// badRunID is why a span's run id is refused, in one line.
func badRunID(id string) error {
	_, err := runid.Canonical(id)
	return err
}

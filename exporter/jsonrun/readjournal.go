package jsonrun

import (
	"fmt"
	"os"
	"strings"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/journal"
)

// ReadJournal reads the journal of a run that may still be open and
// returns the run so far: the stages that ended, the stages still running
// (status running, ending at the journal's last event), and the run itself
// with status running, because a journal alone cannot tell a live run from
// one whose process died. It only reads: it writes no run file, takes no
// lock and removes nothing, so it is safe to call on the journal of a live
// run. A path that is not a regular file (a FIFO, a device) is an error,
// never read.
//
// ReadJournal is safe for concurrent use.
func ReadJournal(path string) (*Run, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer.
	f, err := fsutil.OpenFile(path, os.O_RDONLY|fsutil.NonBlock, 0)
	if err != nil {
		return nil, fmt.Errorf("jsonrun: read journal: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("jsonrun: read journal: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("jsonrun: read journal %s: not a regular file", path)
	}
	jc := readJournal(f)
	run, err := jc.recoveredRun(path, StageRunning, "")
	if err != nil {
		return nil, err
	}
	// Not recovered: say what this is instead.
	warnings := []string{"the run so far, from its journal: not finished, or its process stopped"}
	for _, w := range run.Warnings {
		if !strings.HasPrefix(w, "recovered from journal") {
			warnings = append(warnings, w)
		}
	}
	run.Warnings = warnings
	return run, nil
}

// JournalFailure applies the run file's status rule to the stages that
// the journal at path holds now, as the run's owner merges them into its
// run file (stages that started and have not ended count as unfinished),
// and returns why they fail the run, or "" when they do not: the error the
// run file will carry. A process that owns a run whose stages other
// processes record (stagetrack run, stagetrack finish) calls it before
// ending the run span, so that the span, its exit code and the run file
// agree. Like ReadJournal it only reads, and refuses a path that is not a
// regular file.
//
// JournalFailure is safe for concurrent use.
func JournalFailure(path string) (string, error) {
	f, err := fsutil.OpenFile(path, os.O_RDONLY|fsutil.NonBlock, 0)
	if err != nil {
		return "", fmt.Errorf("jsonrun: read journal: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return "", fmt.Errorf("jsonrun: read journal: %w", err)
	} else if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("jsonrun: read journal %s: not a regular file", path)
	}
	jc := readJournal(f)
	stages := jc.ended
	for _, s := range jc.started {
		s.status = StageUnfinished
		stages = append(stages, s)
	}
	return stagesFailure(assemble(nil, "", stages, "").Stages), nil
}

// ScanJournalLines is a bufio.SplitFunc for journal files: each token is
// one event line with its terminator. Lines end in a newline; NUL bytes,
// which no JSON text holds, separate lines too and are skipped. A token
// that ends in NUL, or at the end of the file, without a newline is a torn
// line (docs/reliability.md).
//
// Deprecated: journals are read by the commands and the exporter; a
// program reading one should use ReadJournal.
func ScanJournalLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	return journal.ScanLines(data, atEOF)
}

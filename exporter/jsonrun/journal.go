package jsonrun

import (
	"fmt"
	"os"
	"time"

	"github.com/stage-tracker/stage-tracker/internal/journal"
)

// The journal of an open run is a JSON Lines file named by its run id in
// the exporter's directory, one event per line, each appended with a single
// write as it happens: the run's start, each stage's start, and each
// stage's end with its whole record. A stage that has ended is in the
// kernel's hands before End returns, so it survives the process being
// killed; recovery turns a journal left behind into a run file. The line
// format and the file are package internal/journal's; this file connects
// them to the exporter's records.

// JournalSuffix ends the name of every journal file.
const JournalSuffix = journal.Suffix

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// journalStage is r as the journal records it.
func journalStage(r *stageRecord) journal.Stage {
	return journal.Stage{
		SpanID:       r.spanID,
		ParentSpanID: r.parentID,
		Name:         r.name,
		Start:        unixNano(r.start),
		End:          unixNano(r.end),
		PID:          r.proc.pid,
		Host:         r.proc.host,
		Failed:       r.failed,
		Error:        r.errMsg,
		Status:       r.status,
		Data:         r.data,
		DataError:    r.dataErr,
		Stack:        r.stack,
		TimedOut:     r.timedOut,
		Provenance:   r.prov,

		ProcessStageCount: r.claim,
	}
}

// appendStageEvent encodes the start (end false) or end event of a stage
// as one journal line.
func appendStageEvent(b []byte, r *stageRecord, end bool) []byte {
	s := journalStage(r)
	return journal.AppendStage(b, &s, end)
}

// stageFromEvent rebuilds a stage record from an end or start event.
func stageFromEvent(ev *journal.Event) (stageRecord, error) {
	s, err := journal.StageOf(ev)
	if err != nil {
		return stageRecord{}, err
	}
	return stageRecord{
		name:     s.Name,
		spanID:   s.SpanID,
		parentID: s.ParentSpanID,
		start:    fromUnixNano(s.Start),
		end:      fromUnixNano(s.End),
		failed:   s.Failed,
		errMsg:   s.Error,
		status:   s.Status,
		data:     s.Data,
		dataErr:  s.DataError,
		stack:    s.Stack,
		timedOut: s.TimedOut,
		proc:     proc{host: s.Host, pid: s.PID},
		prov:     s.Provenance,
		claim:    max(0, min(s.ProcessStageCount, maxClaim)),
	}, nil
}

// runLog is where an open run keeps its events on disk: its own journal
// file (runJournal), or its part of the exporter's store of open runs
// (storeRun, WithRunStore). Both write the line format of
// internal/journal, and both are safe for concurrent use.
type runLog interface {
	// write appends encoded events (whole lines).
	write(lines []byte) error
	// writeStage appends the start (end false) or end event of a stage.
	writeStage(r *stageRecord, end bool) error
	// failed returns the first write error, or nil.
	failed() error
	// foreign reports whether another process appended events.
	foreign() bool
	// detached reports whether the log is gone from under its run.
	detached() bool
	// read returns the run's events so far.
	read() (journalContents, error)
	// close stops writing and keeps the events, for recovery or a later
	// exporter.
	close() error
	// remove discards the events: the run's file is written.
	remove() error
	// where names the log in messages.
	where() string
}

var (
	_ runLog = (*runJournal)(nil)
	_ runLog = (*storeRun)(nil)
)

// runJournal is the open journal of one run in this process (see
// journal.File), as the exporter's open runs use it. It is safe for
// concurrent use.
type runJournal struct {
	*journal.File
	path string
}

// openJournal creates the journal of a run that starts in this process.
func openJournal(path string, perm os.FileMode, sync bool) (*runJournal, error) {
	f, err := journal.Create(path, perm, sync)
	if err != nil {
		return nil, err
	}
	return &runJournal{File: f, path: path}, nil
}

// joinJournal opens the journal of a run that another process owns.
func joinJournal(path string, sync bool) (*runJournal, error) {
	f, err := journal.Join(path, sync)
	if err != nil {
		return nil, err
	}
	return &runJournal{File: f, path: path}, nil
}

func (j *runJournal) write(lines []byte) error { return wrapJournalErr(j.Write(lines)) }

// writeStage appends the start (end false) or end event of a stage.
func (j *runJournal) writeStage(r *stageRecord, end bool) error {
	s := journalStage(r)
	return wrapJournalErr(j.WriteStage(&s, end))
}

func wrapJournalErr(err error) error {
	if err != nil {
		return fmt.Errorf("jsonrun: %w", err)
	}
	return nil
}

func (j *runJournal) failed() error  { return wrapJournalErr(j.Err()) }
func (j *runJournal) foreign() bool  { return j.Foreign() }
func (j *runJournal) detached() bool { return j.Gone() }
func (j *runJournal) close() error   { return j.Close() }
func (j *runJournal) remove() error  { return wrapJournalErr(j.Remove()) }
func (j *runJournal) where() string  { return j.path }

// read parses what the journal's file holds now, other processes' events
// included.
func (j *runJournal) read() (journalContents, error) {
	f, err := j.Open()
	if err != nil {
		return journalContents{}, err
	}
	defer f.Close()
	return readJournal(f), nil
}

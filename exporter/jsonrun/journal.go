package jsonrun

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
	"go.opentelemetry.io/otel/trace"
)

// The journal of an open run is a JSON Lines file named by its run id in the
// exporter's directory, one event per line, each appended with a single write as it
// happens: the run's start, each stage's start, and each stage's end with its
// whole record. A stage that has ended is in the kernel's hands before End
// returns, so it survives the process being killed; recovery turns a journal
// left behind into a run file. docs/reliability.md describes the format.

// Journal event kinds, the "e" field of each line.
const (
	eventRun   = "run"   // the run started: ids, name, args, owner pid and host
	eventStart = "start" // a stage started
	eventEnd   = "end"   // a stage ended, with its whole record
)

// JournalSuffix ends the name of every journal file.
const JournalSuffix = ".journal"

// event is one journal line.
type event struct {
	E            string          `json:"e"`
	T            int64           `json:"t"` // when the event happened, Unix nanoseconds
	RunID        string          `json:"run_id,omitempty"`
	TraceID      string          `json:"trace_id,omitempty"`
	SpanID       string          `json:"span_id,omitempty"`
	ParentSpanID string          `json:"parent_span_id,omitempty"`
	Name         string          `json:"name,omitempty"`
	Args         json.RawMessage `json:"args,omitempty"`
	OutputFile   string          `json:"output_file,omitempty"`
	PID          int             `json:"pid,omitempty"`
	Host         string          `json:"host,omitempty"`
	Start        int64           `json:"start,omitempty"`
	End          int64           `json:"end,omitempty"`
	Failed       bool            `json:"failed,omitempty"`
	Error        string          `json:"error,omitempty"`
	Status       string          `json:"status,omitempty"`
	Data         json.RawMessage `json:"data,omitempty"`
	DataError    string          `json:"data_error,omitempty"`
	Stack        string          `json:"stack,omitempty"`
	// Detached marks the run event of a run that stagetrack start opened:
	// no process owns it until stagetrack finish (see detachedRun).
	Detached bool `json:"detached,omitempty"`
}

// appendEvent encodes ev as one journal line. It is the hot path of a
// journaled stage, so it appends by hand rather than through reflection.
func appendEvent(b []byte, ev *event) []byte {
	b = append(b, `{"e":`...)
	b = jsonscalar.AppendText(b, ev.E)
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, ev.T, 10)
	str := func(k, v string) {
		if v != "" {
			b = append(b, ',', '"')
			b = append(b, k...)
			b = append(b, '"', ':')
			b = jsonscalar.AppendText(b, v)
		}
	}
	num := func(k string, v int64) {
		if v != 0 {
			b = append(b, ',', '"')
			b = append(b, k...)
			b = append(b, '"', ':')
			b = strconv.AppendInt(b, v, 10)
		}
	}
	// raw writes a JSON value; data comes checked by newStageRecord. Args
	// are checked here: cut short by the span attribute length limit they
	// are not JSON, and written as they are they would make the run event,
	// and so the whole journal, unreadable. A value that spans lines
	// (pretty-printed by some producer other than the tracker) is compacted:
	// an event is one line.
	raw := func(k string, v []byte, check bool) {
		if len(v) == 0 || check && !json.Valid(v) {
			return
		}
		if bytes.IndexByte(v, '\n') >= 0 {
			var c bytes.Buffer
			if json.Compact(&c, v) != nil {
				return
			}
			v = c.Bytes()
		}
		b = append(b, ',', '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		b = append(b, v...)
	}
	str("run_id", ev.RunID)
	str("trace_id", ev.TraceID)
	str("span_id", ev.SpanID)
	str("parent_span_id", ev.ParentSpanID)
	str("name", ev.Name)
	raw("args", ev.Args, true)
	str("output_file", ev.OutputFile)
	num("pid", int64(ev.PID))
	str("host", ev.Host)
	num("start", ev.Start)
	num("end", ev.End)
	if ev.Failed {
		b = append(b, `,"failed":true`...)
	}
	str("error", ev.Error)
	str("status", ev.Status)
	raw("data", ev.Data, false)
	str("data_error", ev.DataError)
	str("stack", ev.Stack)
	return append(b, '}', '\n')
}

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

// appendStageEvent encodes the start (end false) or end event of a stage
// as one journal line, the bytes appendEvent would make of the same event,
// without building an event: the hot path of a journaled stage. A start
// event carries what recovery needs to show the stage as running; an end
// event the stage's whole record.
func appendStageEvent(b []byte, r *stageRecord, end bool) []byte {
	kind, t := eventStart, r.start
	if end {
		kind, t = eventEnd, r.end
	}
	b = append(b, `{"e":"`...)
	b = append(b, kind...)
	b = append(b, `","t":`...)
	b = strconv.AppendInt(b, unixNano(t), 10)
	b = append(b, `,"span_id":"`...)
	b = hex.AppendEncode(b, r.spanID[:])
	b = append(b, '"')
	if r.parentID.IsValid() {
		b = append(b, `,"parent_span_id":"`...)
		b = hex.AppendEncode(b, r.parentID[:])
		b = append(b, '"')
	}
	str := func(k, v string) {
		if v != "" {
			b = append(b, k...)
			b = jsonscalar.AppendText(b, v)
		}
	}
	num := func(k string, v int64) {
		if v != 0 {
			b = append(b, k...)
			b = strconv.AppendInt(b, v, 10)
		}
	}
	str(`,"name":`, r.name)
	if end {
		num(`,"pid":`, int64(r.proc.pid))
		str(`,"host":`, r.proc.host)
	}
	num(`,"start":`, unixNano(r.start))
	if !end {
		return append(b, '}', '\n')
	}
	num(`,"end":`, unixNano(r.end))
	if r.failed {
		b = append(b, `,"failed":true`...)
	}
	str(`,"error":`, r.errMsg)
	str(`,"status":`, r.status)
	if r.data != "" {
		b = append(b, `,"data":`...)
		if strings.IndexByte(r.data, '\n') < 0 {
			b = append(b, r.data...)
		} else {
			// Pretty-printed by some producer other than the tracker: an
			// event is one line. Data comes checked by newStageRecord.
			var c bytes.Buffer
			if json.Compact(&c, []byte(r.data)) != nil {
				b = b[:len(b)-len(`,"data":`)]
			} else {
				b = append(b, c.Bytes()...)
			}
		}
	}
	str(`,"data_error":`, r.dataErr)
	str(`,"stack":`, r.stack)
	return append(b, '}', '\n')
}

// stageFromEvent rebuilds a stage record from an end or start event.
func stageFromEvent(ev *event) (stageRecord, error) {
	r := stageRecord{
		name:    ev.Name,
		start:   fromUnixNano(ev.Start),
		end:     fromUnixNano(ev.End),
		failed:  ev.Failed,
		errMsg:  ev.Error,
		status:  ev.Status,
		dataErr: ev.DataError,
		stack:   ev.Stack,
		proc:    proc{host: ev.Host, pid: ev.PID},
	}
	if len(ev.Data) > 0 {
		r.data = string(ev.Data)
	}
	var err error
	if r.spanID, err = parseSpanID(ev.SpanID); err != nil {
		return r, err
	}
	if ev.ParentSpanID != "" {
		if r.parentID, err = parseSpanID(ev.ParentSpanID); err != nil {
			return r, err
		}
	}
	return r, nil
}

func parseSpanID(s string) (trace.SpanID, error) {
	var id trace.SpanID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("span id %q: want %d hex digits", s, 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("span id %q: %w", s, err)
	}
	return id, nil
}

// journal is the open journal file of one run in this process. The file
// is named by run id (<dir>/<run_id>.journal), never by the output path,
// and this process holds a shared flock on it from open to close, so that
// recovery leaves it alone while this process lives.
//
// The owner of a run (openJournal) writes its events into chunks of the
// file that it maps into memory (journal_mmap.go): an event is a copy, not
// a system call. Processes that join the run (joinJournal), and an owner
// with WithJournalSync or on a platform without mmap, append each event
// with one write(2) to the file opened O_APPEND, as before. Both kinds of
// writer append whole regions at the end of the file, so they never
// overwrite each other; the unfilled end of a chunk is NUL bytes, which
// readers skip.
//
// A journal is safe for concurrent use.
type journal struct {
	path   string
	f      *os.File
	sync   bool // fsync after every event; events are then written with write(2)
	joined bool // the journal of a run another process owns
	mapped bool // events go into mapped chunks (see above)

	mu        sync.Mutex
	buf       []byte // the encoded event, reused
	cur       chunk  // the mapped chunk being filled; empty before the first event
	chunkSize int    // the size of the next chunk: doubles up to maxChunk
	owned     int64  // bytes of the file this process appended: lines and chunks
	err       error  // the first write error; later events are skipped
	closed    bool
}

// Chunk sizes: a short run's journal stays small, a long one grows a chunk
// every few thousand stages at most.
const (
	minChunk = 64 << 10
	maxChunk = 4 << 20
)

// openJournal creates the journal of a run that starts in this process. It
// refuses a file that exists: run ids are unique, so one there is another
// run's or a planted one.
func openJournal(path string, perm os.FileMode, sync bool) (*journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	if err := fsutil.LockShared(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// With sync, an fsync per event costs milliseconds and a write(2)
	// microseconds: mapping would save nothing, and write(2) keeps a full
	// disk an error on every file system.
	return &journal{path: path, f: f, sync: sync, mapped: mapsJournals && !sync, chunkSize: minChunk}, nil
}

// joinJournal opens the journal of a run that another process owns, for
// appending, and takes its shared lock. It fails when the file is not a
// regular file, when a recovery holds it, or when it is gone by the time the
// lock is held (the owner finished and removed it).
func joinJournal(path string, sync bool) (*journal, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := fsutil.OpenNoFollow(path, os.O_WRONLY|os.O_APPEND)
	if err != nil {
		return nil, err
	}
	// A journal nobody holds is one whose owner died: not joinable. A
	// detached run (stagetrack start) has no owner by design: its steps
	// join it one after another until stagetrack finish.
	if !journalDetached(path) {
		if free, _ := fsutil.TryLockExclusive(f); free && fsutil.LocksWork {
			f.Close()
			return nil, fmt.Errorf("no live process holds %s: the run's owner has stopped", path)
		}
	}
	if err := fsutil.LockShared(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is being recovered: its owner stopped", path)
	}
	j := &journal{path: path, f: f, sync: sync, joined: true}
	if j.detached() {
		f.Close()
		return nil, fmt.Errorf("%s was removed: its run has finished", path)
	}
	return j, nil
}

// detached reports whether the journal's file is no longer at its path:
// its run was finished (or recovered) and the file removed.
func (j *journal) detached() bool {
	fi, err := j.f.Stat()
	if err != nil {
		return true
	}
	pi, err := os.Lstat(j.path)
	return err != nil || !os.SameFile(fi, pi)
}

// write appends encoded events (whole lines). After a failure (disk full,
// say) the journal stops: a later partial line would only make recovery
// harder, and the run file is still written from the spans.
func (j *journal) write(lines []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.writeLocked(lines)
}

// writeStage appends the start (end false) or end event of a stage,
// encoded into the journal's reused buffer.
func (j *journal) writeStage(r *stageRecord, end bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	j.buf = appendStageEvent(j.buf[:0], r, end)
	return j.writeLocked(j.buf)
}

func (j *journal) writeLocked(lines []byte) error {
	if j.err != nil {
		return j.err
	}
	if j.closed {
		return fmt.Errorf("jsonrun: journal %s: closed", j.path)
	}
	if j.mapped {
		if j.cur.free() >= len(lines) {
			j.cur.put(lines)
			return nil
		}
		if err := j.grow(len(lines)); err == nil {
			j.cur.put(lines)
			return nil
		}
		// No mapping (a file system without mmap, say): write(2) from now
		// on. A full disk fails that write too, and stops the journal.
		_ = j.cur.release()
		j.mapped = false
	}
	n, err := j.f.Write(lines)
	j.owned += int64(n)
	if err == nil && j.sync {
		err = j.f.Sync()
	}
	if err != nil {
		j.err = fmt.Errorf("jsonrun: journal %s: %w", j.path, err)
	}
	return j.err
}

// grow replaces the mapped chunk with a new one at the end of the file,
// with room for need bytes at least.
func (j *journal) grow(need int) error {
	if err := j.cur.release(); err != nil {
		return err
	}
	size := j.chunkSize
	for size < need+1 { // +1: a chunk's first byte stays NUL (newChunk)
		size *= 2
	}
	if j.chunkSize < maxChunk {
		j.chunkSize *= 2
	}
	c, err := newChunk(j.f, size)
	if err != nil {
		return err
	}
	j.cur = c
	j.owned += int64(size)
	return nil
}

// failed returns the first write error, or nil.
func (j *journal) failed() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// foreign reports whether another process appended to the journal: the file
// is longer than what this process appended.
func (j *journal) foreign() bool {
	j.mu.Lock()
	owned := j.owned
	j.mu.Unlock()
	fi, err := j.f.Stat()
	return err == nil && fi.Size() > owned
}

// close unmaps the chunk and closes the file, which drops the lock. The
// unfilled end of the chunk stays NUL: a joined process may be appending
// right after it, so cutting the file to what this process wrote could cut
// its line.
func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	err := j.cur.release()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// remove deletes the journal file while its lock is still held, then closes
// it: a recovery waiting for the lock then finds the path gone.
func (j *journal) remove() error {
	err := os.Remove(j.path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("jsonrun: remove journal %s: %w", j.path, err)
	}
	if cerr := j.close(); err == nil && cerr != nil {
		err = fmt.Errorf("jsonrun: close journal %s: %w", j.path, cerr)
	}
	return err
}

// read parses what the journal's file holds now, other processes' events
// included.
func (j *journal) read() (journalContents, error) {
	f, err := fsutil.OpenNoFollow(j.path, os.O_RDONLY)
	if err != nil {
		return journalContents{}, err
	}
	defer f.Close()
	return readJournal(f), nil
}

// journalDetached reports whether the journal at path is a detached run's:
// its first line, the run event, says "detached":true.
func journalDetached(path string) bool {
	f, err := fsutil.OpenNoFollow(path, os.O_RDONLY)
	if err != nil {
		return false
	}
	defer f.Close()
	return lineDetached(firstLine(f))
}

// firstLine is the start of f's first line, at most 64 KiB of it.
func firstLine(f *os.File) []byte {
	// A run event is short unless its args are long: read 4 KiB first.
	buf := make([]byte, 0, 4<<10)
	for {
		n, err := io.ReadFull(f, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			return buf[:i]
		}
		if err != nil || len(buf) >= 64<<10 {
			return buf
		}
		buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
	}
}

// lineDetached reports whether a journal's run event marks a detached run.
func lineDetached(line []byte) bool {
	return bytes.HasPrefix(line, []byte(`{"e":"run"`)) && bytes.Contains(line, []byte(`"detached":true`))
}

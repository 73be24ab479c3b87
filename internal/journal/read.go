package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/stage-tracker/stage-tracker/internal/runid"
)

// MaxLine bounds one journal line for readers: a stage's data is capped far
// below it.
const MaxLine = 1 << 30

// ScanLines is a bufio.SplitFunc for journal files: each token is one line
// with its terminator. Lines end in a newline; NUL bytes, which no JSON
// text holds, end lines too and are skipped (see the package doc). A token
// that ends in NUL, or at the end of the file, without a newline is a
// torn line, which Decode refuses.
func ScanLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	i := 0
	for i < len(data) && data[i] == 0 {
		i++
	}
	if i == len(data) {
		return i, nil, nil
	}
	if k := bytes.IndexAny(data[i:], "\n\x00"); k >= 0 {
		return i + k + 1, data[i : i+k+1], nil
	}
	if atEOF {
		return len(data), data[i:], nil
	}
	return i, nil, nil
}

// LineError reports a journal line that is not an event.
type LineError struct {
	Line int   // 1-based, counting the lines ScanLines finds
	Err  error // why it was skipped
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Reader reads the events of a journal in file order. Lines that are not
// events (torn, garbage, an unknown kind) are skipped and kept as
// *LineError in Bad; blank lines are skipped silently.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	sc   *bufio.Scanner
	n    int
	ev   Event
	bad  []error
	done bool
}

// NewReader returns a Reader of the journal in r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	sc.Split(ScanLines)
	return &Reader{sc: sc}
}

// Next reads the next event, and reports false at the end of the journal.
func (r *Reader) Next() bool {
	if r.done {
		return false
	}
	for r.sc.Scan() {
		r.n++
		line := r.sc.Bytes()
		if len(bytes.TrimSpace(bytes.TrimRight(line, "\x00"))) == 0 {
			continue
		}
		ev, err := Decode(line)
		if err != nil {
			r.bad = append(r.bad, &LineError{Line: r.n, Err: err})
			continue
		}
		r.ev = ev
		return true
	}
	if err := r.sc.Err(); err != nil {
		r.bad = append(r.bad, err)
	}
	r.done = true
	return false
}

// Event is the event Next read. It is valid until the next call of Next.
func (r *Reader) Event() *Event { return &r.ev }

// Line is the number of the line Next read the event from.
func (r *Reader) Line() int { return r.n }

// Skip records that the event Next read is not taken (a second run event,
// say), as a *LineError in Bad.
func (r *Reader) Skip(err error) { r.bad = append(r.bad, &LineError{Line: r.n, Err: err}) }

// Bad returns the lines skipped so far, each a *LineError, and the error
// that stopped reading, if any.
func (r *Reader) Bad() []error { return r.bad }

// FirstLine reads the start of the first line of r, at most 64 KiB of it,
// without its newline: the run event, whose long field (args) comes last
// but for detached and ci.
func FirstLine(r io.Reader) []byte {
	// A run event is short unless its args are long: read 4 KiB first.
	buf := make([]byte, 0, 4<<10)
	for {
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
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

// IsRunEventOf reports whether line, a journal's first line (whole or its
// start), is the run event of run runID. Only the start of the line is
// needed: the run id comes before the long fields.
func IsRunEventOf(line []byte, runID string) bool {
	if id, err := runid.Canonical(runID); err == nil {
		runID = id
	}
	return bytes.HasPrefix(line, []byte(`{"e":"run",`)) && bytes.Contains(line, []byte(`"run_id":"`+runID+`"`))
}

// IsDetached reports whether line, a journal's first line, is the run
// event of a detached run (one stagetrack start opened).
func IsDetached(line []byte) bool {
	_, ok := DetachedRun(line)
	return ok
}

// DetachedRun reports whether line, a journal's first line (with or
// without its newline), is the run event of a detached run, and returns
// that event; nil with true when the line is cut short (FirstLine reads
// 64 KiB at most) after the marker. Lines that cannot be one cost no
// allocation.
func DetachedRun(line []byte) (*Event, bool) {
	if !bytes.HasPrefix(line, []byte(`{"e":"run",`)) || !bytes.Contains(line, []byte(`"detached":true`)) {
		return nil, false
	}
	var ev Event
	if err := json.Unmarshal(line, &ev); err != nil {
		// Cut short (long args): the marker comes after them, whole or not
		// at all.
		return nil, true
	}
	if ev.Kind != KindRun || !ev.Detached {
		return nil, false
	}
	return &ev, true
}

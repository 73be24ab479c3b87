package journal

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
	"github.com/stage-tracker/stage-tracker/internal/runid"
)

// Suffix ends the name of every journal file: <run_id>.journal.
const Suffix = ".journal"

// FinishingSuffix ends the name of the journal of a run that stagetrack
// finish is writing: <run_id>.journal.finishing. Its finish holds its
// exclusive lock; a free one is an interrupted finish, which the next
// finish or recovery completes.
const FinishingSuffix = Suffix + ".finishing"

// Event kinds, the "e" field of each line.
const (
	KindRun   = "run"   // the run started: ids, name, args, owner pid and host
	KindStart = "start" // a stage started
	KindEnd   = "end"   // a stage ended, with its whole record
	// KindRoot is a run span that arrived at an exporter and waits for
	// the run's late stages: its whole record, so that a restart finishes
	// the run it acknowledged (the shared store of open runs).
	KindRoot = "root"
	// KindDone says that the run's file was written: the store's earlier
	// lines of the run are dead.
	KindDone = "done"
	// KindAnnotated: a step (stagetrack exec) told the CI system about the
	// stage span_id itself, with an annotation of Level; whoever
	// finalises the run leaves that one out.
	KindAnnotated = "annotated"
)

// Annotation levels of an annotated event.
const (
	LevelError   = "error"
	LevelWarning = "warning"
)

// Event is one journal line. Times are Unix nanoseconds, ids lower-case hex.
type Event struct {
	Kind         string          `json:"e"`
	T            int64           `json:"t"` // when the event happened
	RunID        string          `json:"run_id,omitempty"`
	TraceID      string          `json:"trace_id,omitempty"`
	SpanID       string          `json:"span_id,omitempty"`
	ParentSpanID string          `json:"parent_span_id,omitempty"`
	TraceState   string          `json:"trace_state,omitempty"`
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
	TimedOut     bool            `json:"timed_out,omitempty"`
	// Provenance is, in a run event, the run file's provenance object;
	// in an end event, the stage's inputs, outputs and tools
	// ({"inputs":[…],"outputs":[…],"tools":{…}}).
	Provenance json.RawMessage `json:"provenance,omitempty"`
	// Detached marks the run event of a run that stagetrack start opened:
	// no process owns it until stagetrack finish.
	Detached bool `json:"detached,omitempty"`
	// CI is what stagetrack start saw of the CI job, for finish.
	CI map[string]string `json:"ci,omitempty"`
	// StageCount is a root's stage_tracker.run.stage_count; nil when the
	// root did not say.
	StageCount *int `json:"stage_count,omitempty"`
	// Tracker marks a root that the tracker made: its stage count covers
	// only its own process's stages.
	Tracker bool `json:"tracker,omitempty"`
	// ProcessStageCount, on an end event, marks it as a count span's, not
	// a stage's: how many stages of the run its process (PID, Host)
	// ended.
	ProcessStageCount int `json:"process_stage_count,omitempty"`
	// Level is an annotated event's annotation level (LevelError,
	// LevelWarning).
	Level string `json:"level,omitempty"`
}

// Append encodes ev as one journal line and appends it to b. Args that are
// not valid JSON (cut short by a span attribute length limit) are left
// out: written as they are they would make the line, and so the run event
// and the whole journal, unreadable. Data must be valid JSON. A value that
// spans lines is compacted: an event is one line.
func Append(b []byte, ev *Event) []byte {
	b = append(b, `{"e":`...)
	b = jsonscalar.AppendText(b, ev.Kind)
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, ev.T, 10)
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
	raw := func(k string, v []byte, check bool) {
		if len(v) == 0 || check && !json.Valid(v) {
			return
		}
		b = appendRaw(b, k, v)
	}
	str(`,"run_id":`, ev.RunID)
	str(`,"trace_id":`, ev.TraceID)
	str(`,"span_id":`, ev.SpanID)
	str(`,"parent_span_id":`, ev.ParentSpanID)
	str(`,"trace_state":`, ev.TraceState)
	str(`,"name":`, ev.Name)
	raw(`,"args":`, ev.Args, true)
	str(`,"output_file":`, ev.OutputFile)
	num(`,"pid":`, int64(ev.PID))
	str(`,"host":`, ev.Host)
	num(`,"start":`, ev.Start)
	num(`,"end":`, ev.End)
	if ev.Failed {
		b = append(b, `,"failed":true`...)
	}
	str(`,"error":`, ev.Error)
	str(`,"status":`, ev.Status)
	raw(`,"data":`, ev.Data, false)
	str(`,"data_error":`, ev.DataError)
	str(`,"stack":`, ev.Stack)
	if ev.TimedOut {
		b = append(b, `,"timed_out":true`...)
	}
	raw(`,"provenance":`, ev.Provenance, true)
	num(`,"process_stage_count":`, int64(ev.ProcessStageCount))
	if ev.Detached {
		b = append(b, `,"detached":true`...)
	}
	if ev.StageCount != nil {
		b = append(b, `,"stage_count":`...)
		b = strconv.AppendInt(b, int64(*ev.StageCount), 10)
	}
	if ev.Tracker {
		b = append(b, `,"tracker":true`...)
	}
	if len(ev.CI) > 0 {
		b = append(b, `,"ci":{`...)
		for i, k := range slices.Sorted(maps.Keys(ev.CI)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonscalar.AppendText(b, k)
			b = append(b, ':')
			b = jsonscalar.AppendText(b, ev.CI[k])
		}
		b = append(b, '}')
	}
	str(`,"level":`, ev.Level)
	return append(b, '}', '\n')
}

// appendRaw appends the key k (with its leading comma and colon) and the
// JSON value v, compacted when it spans lines; nothing when it will not
// compact (it is not JSON).
func appendRaw(b []byte, k string, v []byte) []byte {
	if bytes.IndexByte(v, '\n') >= 0 {
		var c bytes.Buffer
		if json.Compact(&c, v) != nil {
			return b
		}
		v = c.Bytes()
	}
	b = append(b, k...)
	return append(b, v...)
}

// Stage is a stage's start or end event as its writer holds it: ids as
// bytes, times as Unix nanoseconds. AppendStage encodes it without
// building an Event: the hot path of a journaled stage.
type Stage struct {
	// RunID is written on the line only when set: a run's own journal
	// names its run once, in the run event; the shared store of open runs
	// names it on every line.
	RunID        string
	SpanID       [8]byte
	ParentSpanID [8]byte // zero: a child of the run span, or unknown
	Name         string
	Start, End   int64
	PID          int
	Host         string
	Failed       bool
	Error        string
	Status       string // "unfinished", "running", or "" for a stage that ended normally
	Data         string // JSON, valid (or empty)
	DataError    string
	Stack        string
	TimedOut     bool   // a time limit ended the stage
	Provenance   string // JSON, valid (or empty): the stage's inputs, outputs and tools
	// ProcessStageCount > 0 makes the end event a count span's: how many
	// stages of the run its process ended (docs/attributes.md).
	ProcessStageCount int
}

// AppendStage appends the start (end false) or end event of stage s as
// one journal line: the bytes Append makes of the same Event. A start
// event carries what recovery needs to show the stage as running (span
// ids, name, start); an end event the stage's whole record.
func AppendStage(b []byte, s *Stage, end bool) []byte {
	kind, t := KindStart, s.Start
	if end {
		kind, t = KindEnd, s.End
	}
	b = append(b, `{"e":"`...)
	b = append(b, kind...)
	b = append(b, `","t":`...)
	b = strconv.AppendInt(b, t, 10)
	if s.RunID != "" {
		b = append(b, `,"run_id":`...)
		b = jsonscalar.AppendText(b, s.RunID)
	}
	b = append(b, `,"span_id":"`...)
	b = hex.AppendEncode(b, s.SpanID[:])
	b = append(b, '"')
	if s.ParentSpanID != [8]byte{} {
		b = append(b, `,"parent_span_id":"`...)
		b = hex.AppendEncode(b, s.ParentSpanID[:])
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
	str(`,"name":`, s.Name)
	if end {
		num(`,"pid":`, int64(s.PID))
		str(`,"host":`, s.Host)
	}
	num(`,"start":`, s.Start)
	if !end {
		return append(b, '}', '\n')
	}
	num(`,"end":`, s.End)
	if s.Failed {
		b = append(b, `,"failed":true`...)
	}
	str(`,"error":`, s.Error)
	str(`,"status":`, s.Status)
	if s.Data != "" {
		if strings.IndexByte(s.Data, '\n') < 0 {
			b = append(b, `,"data":`...)
			b = append(b, s.Data...)
		} else {
			// Pretty-printed by some producer other than the tracker.
			b = appendRaw(b, `,"data":`, []byte(s.Data))
		}
	}
	str(`,"data_error":`, s.DataError)
	str(`,"stack":`, s.Stack)
	if s.TimedOut {
		b = append(b, `,"timed_out":true`...)
	}
	if s.Provenance != "" {
		b = appendRaw(b, `,"provenance":`, []byte(s.Provenance))
	}
	num(`,"process_stage_count":`, int64(s.ProcessStageCount))
	return append(b, '}', '\n')
}

// StageOf returns the stage that a start or end event records.
func StageOf(ev *Event) (Stage, error) {
	s := Stage{
		RunID:     ev.RunID,
		Name:      ev.Name,
		Start:     ev.Start,
		End:       ev.End,
		PID:       ev.PID,
		Host:      ev.Host,
		Failed:    ev.Failed,
		Error:     ev.Error,
		Status:    ev.Status,
		DataError: ev.DataError,
		Stack:     ev.Stack,
		TimedOut:  ev.TimedOut,

		ProcessStageCount: ev.ProcessStageCount,
	}
	if len(ev.Data) > 0 {
		s.Data = string(ev.Data)
	}
	if len(ev.Provenance) > 0 {
		s.Provenance = string(ev.Provenance)
	}
	var err error
	if s.SpanID, err = ParseSpanID(ev.SpanID); err != nil {
		return s, err
	}
	if ev.ParentSpanID != "" {
		if s.ParentSpanID, err = ParseSpanID(ev.ParentSpanID); err != nil {
			return s, err
		}
	}
	return s, nil
}

// StageEvent is the start (end false) or end Event of stage s: what
// AppendStage writes, as an Event.
func StageEvent(s *Stage, end bool) Event {
	ev := Event{Kind: KindStart, T: s.Start, RunID: s.RunID, SpanID: hex.EncodeToString(s.SpanID[:]), Name: s.Name, Start: s.Start}
	if s.ParentSpanID != [8]byte{} {
		ev.ParentSpanID = hex.EncodeToString(s.ParentSpanID[:])
	}
	if !end {
		return ev
	}
	ev.Kind, ev.T = KindEnd, s.End
	ev.PID, ev.Host, ev.End = s.PID, s.Host, s.End
	ev.Failed, ev.Error, ev.Status = s.Failed, s.Error, s.Status
	if s.Data != "" {
		ev.Data = json.RawMessage(s.Data)
	}
	ev.DataError, ev.Stack, ev.TimedOut = s.DataError, s.Stack, s.TimedOut
	ev.ProcessStageCount = s.ProcessStageCount
	if s.Provenance != "" {
		ev.Provenance = json.RawMessage(s.Provenance)
	}
	return ev
}

// ParseSpanID parses a span id of 16 hex digits.
func ParseSpanID(s string) ([8]byte, error) {
	var id [8]byte
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("span id %q: want %d hex digits", s, 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("span id %q: %w", s, err)
	}
	return id, nil
}

// ParseTraceID parses a trace id of 32 hex digits.
func ParseTraceID(s string) ([16]byte, error) {
	var id [16]byte
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("trace id %q: want %d hex digits", s, 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("trace id %q: %w", s, err)
	}
	return id, nil
}

// ErrTorn: a line that ends without its newline, at a NUL byte or at the
// end of the file.
var ErrTorn = errors.New("torn line (no newline at its end)")

// Decode parses one journal line, its newline included, into an event. A
// line without its newline is torn (ErrTorn); a run event must name its
// run, a start or end event its span; other kinds are errors.
func Decode(line []byte) (Event, error) {
	var ev Event
	if len(line) == 0 || line[len(line)-1] != '\n' {
		return ev, ErrTorn
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return ev, err
	}
	switch ev.Kind {
	case KindRun:
		if ev.RunID == "" {
			return ev, errors.New("run event without run_id")
		}
		// One spelling of a run id, whoever wrote the line; one that is
		// not a UUID is refused where it would name a file.
		if id, err := runid.Canonical(ev.RunID); err == nil {
			ev.RunID = id
		}
	case KindStart, KindEnd:
		if _, err := StageOf(&ev); err != nil {
			return ev, err
		}
	case KindRoot:
		if ev.RunID == "" {
			return ev, errors.New("root event without run_id")
		}
		if _, err := ParseSpanID(ev.SpanID); err != nil {
			return ev, err
		}
	case KindDone:
		if ev.RunID == "" {
			return ev, errors.New("done event without run_id")
		}
	case KindAnnotated:
		if _, err := ParseSpanID(ev.SpanID); err != nil {
			return ev, err
		}
		if ev.Level != LevelError && ev.Level != LevelWarning {
			return ev, fmt.Errorf("annotated event with level %q", ev.Level)
		}
	default:
		return ev, fmt.Errorf("unknown event %q", ev.Kind)
	}
	return ev, nil
}

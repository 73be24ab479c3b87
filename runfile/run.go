package runfile

import (
	"encoding/json"
	"time"
)

// SchemaVersion is the run-file format version this package writes.
// Additions that old readers can ignore keep the version; anything else
// bumps it. docs/run-file.md describes every version.
//
// Version 2 changed the keys of a stage name used more than once at one
// level: the last record (the attempt that decides the stage) is keyed by
// the plain name, the earlier ones name#1, name#2, ...; version 1 keyed
// the first by the plain name and the next name#2, name#3, .... Reading a
// version-1 file gives the keys version 2 would have (see UnmarshalJSON).
const SchemaVersion = 2

// Run statuses, the value of Run.Status.
const (
	// StatusOK: the run finished and every stage ended without error.
	StatusOK = "ok"
	// StatusFailed: the run finished and at least one stage ended with an
	// error or was never ended (unfinished).
	StatusFailed = "failed"
	// StatusIncomplete: stages are missing (spans dropped on the way, or the
	// run span never arrived and the run was written on eviction or Shutdown).
	StatusIncomplete = "incomplete"
	// StatusInterrupted: the run was cut short on purpose: by a signal
	// (tracker's FinalizeOnSignal) or by Run.Interrupt.
	StatusInterrupted = "interrupted"
	// StatusCrashed: the program panicked or died while the run was open.
	StatusCrashed = "crashed"
)

// Stage statuses, the value of Stage.Status.
const (
	// StageOK: the stage ended without error.
	StageOK = "ok"
	// StageError: the stage ended with an error, which Stage.Error holds.
	StageError = "error"
	// StageUnfinished: the stage was still open when the run was finalised.
	StageUnfinished = "unfinished"
	// StageRunning: the stage was running when its process stopped (a run
	// recovered from its journal).
	StageRunning = "running"
)

// Run is one run file: what ran, when, how long each stage took, what it
// produced and what went wrong. The first six fields are those of the Python
// stage-tracker, in its order; the rest are additions.
//
// A Run is a plain value: it is not safe for concurrent mutation.
type Run struct {
	RunID            string          // run_id: the run's UUID
	StartTime        time.Time       // start_time
	Args             json.RawMessage // args: any JSON value; null when none
	Stages           Stages          // stages: keyed by stage name, in start order
	CompletedAt      time.Time       // completed_at
	TotalDurationSec float64         // total_duration_sec

	SchemaVersion int    // schema_version
	Name          string // name: the run span's name
	Status        string // status: one of the Status* constants
	Error         string // error: why the run failed, was interrupted or crashed; "" for none
	Stack         string // stack: the panic stack of a crashed run
	TraceID       string // trace_id: hex, paste it into a tracing backend's search
	SpanID        string // span_id of the run span
	ParentSpanID  string // parent_span_id: the span the run was started under, if any
	StageCount    int    // stage_count: stage records in the file, nested ones included
	MissingStages int    // missing_stages: stages the run ended that never arrived
	LateStages    int    // late_stages: stages merged into the file after it was first written
	// ProcessCounts is process_counts: what each process that took part
	// in the run and sent a count span said of how many stages it ended,
	// one entry per count span, by span id; nil when none did.
	ProcessCounts []ProcessCount
	Warnings      []string
	Host          string // host: the host the run span came from, when its resource says (host.name)
	PID           int    // pid: its process (process.pid), or the journal's owner
	// Provenance is provenance: what the run was made of (code, command,
	// machine, tools, environment); nil when nothing was captured, and then
	// the file has no such key.
	Provenance *Provenance

	Notes []string // not in the file: what reading it assumed ("timestamps have no UTC offset; read as UTC")
}

// ProcessCount is one process's count of its stages of a run: a count span
// (stage_tracker.process.stage_count, docs/attributes.md) that a process
// which joined the run sent after its stages. missing_stages counts, for
// each such process, the stages it ended that are not in the file; the
// entries are kept so that a later merge counts again. It is a plain
// value, as Run is.
type ProcessCount struct {
	SpanID     string // span_id: the count span's id, hex; one span counts once
	Host       string // host: the process's host.name, when known
	PID        int    // pid: its process.pid, when known
	StageCount int    // stage_count: how many stages of the run it ended
}

// Stage is one stage record. A stage name used more than once at the same
// level gets one record per occurrence, its attempts in start order: the
// last (the one that decides the stage, as the Python stage-tracker's
// stages[name] held the last) under its name, the earlier ones under
// "name#1", "name#2" and so on (see Stage.Key). A key that a stage at the
// same level is literally named (a stage called "x#1") is never reused:
// the earlier attempt takes the next free number.
type Stage struct {
	Key         string          // the key in the stages object
	StartTime   time.Time       // start_time
	DurationSec float64         // duration_sec, microsecond precision
	Data        json.RawMessage // data: any JSON value; null when none
	Error       string          // error: the error message; "" is written as null

	Name    string    // name: the stage name (Key without the #N suffix)
	Attempt int       // attempt: 1 for the first occurrence of Name at its level, 2 for the next...
	EndTime time.Time // end_time
	Status  string    // status: one of the Stage* constants
	SpanID  string    // span_id, hex
	// ParentSpanID is parent_span_id: the span the stage was started under,
	// written only where the file does not say it otherwise: a top-level
	// stage whose parent is not the run span (a stage whose parent has not
	// arrived, or a run file without its run span). Readers that merge
	// parts of a run nest the stage by it.
	ParentSpanID string
	DataError    string            // data_error: why Data is null or incomplete
	Stack        string            // stack: the goroutine stack of a panic in the stage
	Host         string            // host: the host that ran the stage, where it differs from the run's
	PID          int               // pid: the process that ran the stage, where it differs from the run's
	TimedOut     bool              // timed_out: a time limit ended the stage (stagetrack exec --timeout); written only when true
	Inputs       []File            // inputs: the files the stage read, as they were when it started; written only when not empty
	Outputs      []File            // outputs: the files the stage wrote, as they were when it ended; written only when not empty
	Tools        map[string]string // tools: tool name → version of what the stage ran (stagetrack exec's interpreter); written only when not empty
	Stages       Stages            // stages: the stages started inside this one

	// DurationUnknown: duration_sec was null (the Python tool's default)
	// and there is no end_time to compute it from; DurationSec is 0.
	DurationUnknown bool
}

// Stages is an ordered set of stage records, written as a JSON object keyed
// by Stage.Key in start order.
type Stages []Stage

// Get returns the stage with the given key and whether there is one.
func (s Stages) Get(key string) (Stage, bool) {
	for _, st := range s {
		if st.Key == key {
			return st, true
		}
	}
	return Stage{}, false
}

// Walk calls fn with every stage record, parents before their children,
// in file order.
func (s Stages) Walk(fn func(*Stage)) {
	for i := range s {
		fn(&s[i])
		s[i].Stages.Walk(fn)
	}
}

// Seconds is d as the run file writes durations: seconds, rounded to the
// microsecond.
func Seconds(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)/time.Microsecond) / 1e6
}

// Duration returns the stage's duration.
func (s Stage) Duration() time.Duration {
	return time.Duration(s.DurationSec * float64(time.Second))
}

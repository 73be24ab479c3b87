package runfile

import (
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
)

// TimeLayout is the run file's timestamp format: UTC with microseconds and a
// numeric offset, as Python's datetime.isoformat writes it, so that
// datetime.fromisoformat reads it back ("2025-05-05T23:14:10.235518+00:00").
const TimeLayout = "2006-01-02T15:04:05.000000-07:00"

// MarshalJSON encodes r exactly as a run file holds it, keys in the
// documented order.
func (r *Run) MarshalJSON() ([]byte, error) {
	return appendRun(nil, r, false), nil
}

// AppendIndent appends the run file form of r, indented by two spaces, to b.
// This is what the exporter writes to disk.
func (r *Run) AppendIndent(b []byte) []byte {
	return appendRun(b, r, true)
}

// encoder writes JSON by appending to a byte slice. It exists because a run
// file has a fixed shape and key order, and encoding it without reflection is
// several times faster than encoding/json on runs of thousands of stages.
type encoder struct {
	b      []byte
	indent bool
	depth  int
	first  bool
	w      io.Writer // when not nil, b is written to w as it fills
	err    error     // the first error from w
	// stages, when not nil, writes the run's top-level stages in place of
	// Run.Stages: a run file streamed from a writer's buffer (WriteStages).
	stages func(*StageWriter)
}

// Write writes the run file form of r, indented by two spaces, to w,
// through a buffer of 64 KiB, so that a large run is never held whole in
// memory twice.
func Write(w io.Writer, r *Run) error {
	e := encoder{b: make([]byte, 0, min(2*streamChunk, sizeHint(r))), indent: true, w: w}
	e.run(r)
	e.flush()
	return e.err
}

// streamChunk is how much encoded output the encoder holds before it
// writes to its writer.
const streamChunk = 64 << 10

func (e *encoder) maybeFlush() {
	if e.w != nil && len(e.b) >= streamChunk {
		e.flush()
	}
}

func (e *encoder) flush() {
	if e.w == nil {
		return
	}
	if e.err == nil {
		_, e.err = e.w.Write(e.b)
	}
	e.b = e.b[:0]
}

func appendRun(b []byte, r *Run, indent bool) []byte {
	e := encoder{b: b, indent: indent}
	e.run(r)
	return e.b
}

func (e *encoder) run(r *Run) {
	indent := e.indent
	e.open()
	e.key("run_id")
	e.string(r.RunID)
	e.key("start_time")
	e.time(r.StartTime)
	e.key("args")
	e.raw(r.Args)
	e.key("stages")
	if e.stages != nil {
		e.stageFunc(e.stages)
	} else {
		e.stageSet(r.Stages)
	}
	e.key("completed_at")
	e.time(r.CompletedAt)
	e.key("total_duration_sec")
	e.float(r.TotalDurationSec)
	e.key("schema_version")
	e.int(r.SchemaVersion)
	e.key("name")
	e.string(r.Name)
	e.key("status")
	e.string(r.Status)
	e.key("error")
	e.nullableString(r.Error)
	if r.Stack != "" {
		e.key("stack")
		e.string(r.Stack)
	}
	e.key("trace_id")
	e.string(r.TraceID)
	e.key("span_id")
	e.string(r.SpanID)
	if r.ParentSpanID != "" {
		e.key("parent_span_id")
		e.string(r.ParentSpanID)
	}
	e.key("stage_count")
	e.int(r.StageCount)
	if r.MissingStages != 0 {
		e.key("missing_stages")
		e.int(r.MissingStages)
	}
	if r.LateStages != 0 {
		e.key("late_stages")
		e.int(r.LateStages)
	}
	if len(r.ProcessCounts) > 0 {
		e.key("process_counts")
		e.processCounts(r.ProcessCounts)
	}
	if r.Host != "" {
		e.key("host")
		e.string(r.Host)
	}
	if r.PID != 0 {
		e.key("pid")
		e.int(r.PID)
	}
	if len(r.Warnings) > 0 {
		e.key("warnings")
		e.stringList(r.Warnings)
	}
	if r.Provenance != nil {
		e.key("provenance")
		e.provenance(r.Provenance)
	}
	e.close()
	if indent {
		e.b = append(e.b, '\n')
	}
}

// processCounts writes process_counts: an array of one-line objects.
func (e *encoder) processCounts(pcs []ProcessCount) {
	sep, colon := ",", ":"
	if e.indent {
		sep, colon = ", ", ": "
	}
	e.b = append(e.b, '[')
	e.depth++
	for i := range pcs {
		pc := &pcs[i]
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.newline()
		e.b = append(e.b, `{"span_id"`+colon...)
		e.string(pc.SpanID)
		if pc.Host != "" {
			e.b = append(e.b, sep+`"host"`+colon...)
			e.string(pc.Host)
		}
		if pc.PID != 0 {
			e.b = append(e.b, sep+`"pid"`+colon...)
			e.int(pc.PID)
		}
		e.b = append(e.b, sep+`"stage_count"`+colon...)
		e.int(pc.StageCount)
		e.b = append(e.b, '}')
	}
	e.depth--
	e.newline()
	e.b = append(e.b, ']')
	e.first = false
}

func (e *encoder) stageSet(s Stages) {
	if len(s) == 0 {
		e.b = append(e.b, "{}"...)
		return
	}
	e.open()
	for i := range s {
		e.stage(&s[i])
	}
	e.close()
}

// StageWriter writes the stages object of a run file one stage at a time
// (WriteStages). It is not safe for concurrent use.
type StageWriter struct {
	e     *encoder
	empty bool
}

// Stage writes st, a top-level stage record, and its nested stages. The
// writer does not keep st.
func (sw *StageWriter) Stage(st *Stage) {
	if sw.empty {
		sw.e.open()
		sw.empty = false
	}
	sw.e.stage(st)
}

// stageFunc writes a stages object of the records that stages writes.
func (e *encoder) stageFunc(stages func(*StageWriter)) {
	sw := StageWriter{e: e, empty: true}
	stages(&sw)
	if sw.empty {
		e.b = append(e.b, "{}"...)
		return
	}
	e.close()
}

// stage writes one member of a stages object: st's key and record.
func (e *encoder) stage(st *Stage) {
	e.key(st.Key)
	e.open()
	e.key("start_time")
	e.time(st.StartTime)
	e.key("duration_sec")
	if st.DurationUnknown {
		e.raw(nil) // null
	} else {
		e.float(st.DurationSec)
	}
	e.key("data")
	e.raw(st.Data)
	e.key("error")
	e.nullableString(st.Error)
	e.key("name")
	e.string(st.Name)
	e.key("attempt")
	e.int(st.Attempt)
	e.key("end_time")
	e.time(st.EndTime)
	e.key("status")
	e.string(st.Status)
	e.key("span_id")
	e.string(st.SpanID)
	if st.ParentSpanID != "" {
		e.key("parent_span_id")
		e.string(st.ParentSpanID)
	}
	if st.DataError != "" {
		e.key("data_error")
		e.string(st.DataError)
	}
	if st.Stack != "" {
		e.key("stack")
		e.string(st.Stack)
	}
	if st.Host != "" {
		e.key("host")
		e.string(st.Host)
	}
	if st.PID != 0 {
		e.key("pid")
		e.int(st.PID)
	}
	if st.TimedOut {
		e.key("timed_out")
		e.b = append(e.b, "true"...)
	}
	if len(st.Inputs) > 0 {
		e.key("inputs")
		e.fileList(st.Inputs)
	}
	if len(st.Outputs) > 0 {
		e.key("outputs")
		e.fileList(st.Outputs)
	}
	if len(st.Tools) > 0 {
		e.key("tools")
		e.stringMap(st.Tools)
	}
	if len(st.Stages) > 0 {
		e.key("stages")
		e.stageSet(st.Stages)
	}
	e.close()
	e.maybeFlush()
}

func (e *encoder) open() {
	e.b = append(e.b, '{')
	e.depth++
	e.first = true
}

func (e *encoder) close() {
	e.depth--
	e.newline()
	e.b = append(e.b, '}')
	e.first = false
}

func (e *encoder) newline() {
	if !e.indent {
		return
	}
	e.b = append(e.b, '\n')
	for range min(e.depth, maxIndentDepth) {
		e.b = append(e.b, ' ', ' ')
	}
}

// maxIndentDepth is the deepest level that gets its own indentation: 20
// levels of nested stages. Deeper lines keep that indentation, so that a
// deeply nested run's file grows with its stages, not with their square.
const maxIndentDepth = 40

func (e *encoder) key(k string) {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.newline()
	e.b = jsonscalar.AppendText(e.b, k)
	e.b = append(e.b, ':')
	if e.indent {
		e.b = append(e.b, ' ')
	}
}

func (e *encoder) string(s string) { e.b = jsonscalar.AppendText(e.b, s) }

func (e *encoder) nullableString(s string) {
	if s == "" {
		e.b = append(e.b, "null"...)
		return
	}
	e.b = jsonscalar.AppendText(e.b, s)
}

func (e *encoder) int(n int) { e.b = strconv.AppendInt(e.b, int64(n), 10) }

func appendInt64(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

func (e *encoder) float(f float64) { e.b = strconv.AppendFloat(e.b, f, 'f', -1, 64) }

// raw writes an already-encoded JSON value; the exporter validated it.
// Valid JSON can still hold invalid UTF-8 inside its strings (a span
// attribute or journal line that encoding/json did not make): each such byte
// becomes U+FFFD, as a JSON decoder would read it, so that the file is UTF-8
// as RFC 8259 requires and Python can read it.
func (e *encoder) raw(v []byte) {
	if len(v) == 0 {
		e.b = append(e.b, "null"...)
		return
	}
	if !utf8.Valid(v) {
		e.b = append(e.b, jsonscalar.ValidUTF8(string(v))...)
		return
	}
	e.b = append(e.b, v...)
}

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, "null"...)
		return
	}
	e.b = append(e.b, '"')
	e.b = appendTime(e.b, t)
	e.b = append(e.b, '"')
}

// appendTime appends t in UTC as TimeLayout formats it, without parsing
// the layout on every call as Time.AppendFormat does.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeLayout)
	}
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1000, 6)
	return append(b, "+00:00"...)
}

// appendDigits appends n, which is not negative, as exactly width digits.
func appendDigits(b []byte, n, width int) []byte {
	var d [8]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, d[:width]...)
}

// sizeHint estimates the size of run's indented file.
func sizeHint(run *Run) int {
	n := 1024 + len(run.Args) + provenanceSize(run.Provenance)
	run.Stages.Walk(func(st *Stage) {
		n += 400 + 2*len(st.Key) + len(st.Data) + len(st.Error) + len(st.DataError) + len(st.Stack) +
			200*(len(st.Inputs)+len(st.Outputs)) + 40*len(st.Tools)
	})
	return n
}

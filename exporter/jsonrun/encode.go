package jsonrun

import (
	"strconv"
	"time"
	"unicode/utf8"
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
}

func appendRun(b []byte, r *Run, indent bool) []byte {
	e := encoder{b: b, indent: indent}
	e.open()
	e.key("run_id")
	e.string(r.RunID)
	e.key("start_time")
	e.time(r.StartTime)
	e.key("args")
	e.raw(r.Args)
	e.key("stages")
	e.stages(r.Stages)
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
	if len(r.Warnings) > 0 {
		e.key("warnings")
		e.b = append(e.b, '[')
		for i, w := range r.Warnings {
			if i > 0 {
				e.b = append(e.b, ',')
				if e.indent {
					e.b = append(e.b, ' ')
				}
			}
			e.string(w)
		}
		e.b = append(e.b, ']')
	}
	e.close()
	if indent {
		e.b = append(e.b, '\n')
	}
	return e.b
}

func (e *encoder) stages(s Stages) {
	if len(s) == 0 {
		e.b = append(e.b, "{}"...)
		return
	}
	e.open()
	for i := range s {
		st := &s[i]
		e.key(st.Key)
		e.open()
		e.key("start_time")
		e.time(st.StartTime)
		e.key("duration_sec")
		e.float(st.DurationSec)
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
		if st.DataError != "" {
			e.key("data_error")
			e.string(st.DataError)
		}
		if st.Stack != "" {
			e.key("stack")
			e.string(st.Stack)
		}
		if len(st.Stages) > 0 {
			e.key("stages")
			e.stages(st.Stages)
		}
		e.close()
	}
	e.close()
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
	for range e.depth {
		e.b = append(e.b, ' ', ' ')
	}
}

func (e *encoder) key(k string) {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.newline()
	e.b = appendString(e.b, k)
	e.b = append(e.b, ':')
	if e.indent {
		e.b = append(e.b, ' ')
	}
}

func (e *encoder) string(s string) { e.b = appendString(e.b, s) }

func (e *encoder) nullableString(s string) {
	if s == "" {
		e.b = append(e.b, "null"...)
		return
	}
	e.b = appendString(e.b, s)
}

func (e *encoder) int(n int) { e.b = strconv.AppendInt(e.b, int64(n), 10) }

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
		e.b = append(e.b, validUTF8(string(v))...)
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
	e.b = t.UTC().AppendFormat(e.b, TimeLayout)
	e.b = append(e.b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does; U+2028 and U+2029 are escaped so the output is also
// valid JavaScript.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

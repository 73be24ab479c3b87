package runfile

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// scanStages decodes the stages object (or null) b as decodeStagesFrom
// does, straight from the bytes: no token values, no reflection, a handful
// of allocations a stage instead of about a hundred. It reads what valid
// JSON can hold in a run file; ok is false for anything else (a field of
// the wrong type, a timestamp that does not parse, a syntax error), and
// the caller then decodes b with decodeStagesFrom, whose errors are the
// reader's. So every input decodes to the same value or fails with the
// same error as before; FuzzScanStages holds the two to that.
func scanStages(b []byte) (_ Stages, naive, ok bool) {
	s := scanner{b: b}
	s.ws()
	if s.literal("null") {
		s.ws()
		return nil, false, s.i == len(s.b)
	}
	out, naive, ok := s.stages(1)
	s.ws()
	return out, naive, ok && s.i == len(s.b)
}

// scanner reads JSON from b at i. Its methods return false, never panic,
// on input they do not expect.
type scanner struct {
	b []byte
	i int
	// release, when set, is called after each of the run's own stages
	// with i: nothing before it is read again (see Run.scanReleasing).
	release func(int)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and consumes c if it comes next.
func (s *scanner) next(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// literal consumes lit (null, true, false) if it comes next, followed by
// something that can end a value.
func (s *scanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return false
	}
	if end := s.i + len(lit); end < len(s.b) && !isDelim(s.b[end]) {
		return false
	}
	s.i += len(lit)
	return true
}

func isDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', '}', ']', ':':
		return true
	}
	return false
}

// stages reads a stages object at depth (1 for the run's).
func (s *scanner) stages(depth int) (_ Stages, naive, ok bool) {
	var out Stages
	if depth == 1 {
		// Room for every stage at once: growing the slice by appending
		// copies the records again and again (a third of reading a
		// 100,000-stage run) and leaves up to twice the room they need.
		out = make(Stages, 0, s.members())
	}
	if depth > MaxNesting || !s.next('{') {
		return nil, false, false
	}
	if s.next('}') {
		return nil, false, true
	}
	for {
		s.ws()
		raw, ok := s.str()
		if !ok || !s.next(':') {
			return nil, false, false
		}
		key, ok := unquote(raw)
		if !ok {
			return nil, false, false
		}
		st, n, ok := s.stage(key, depth)
		if !ok {
			return nil, false, false
		}
		naive = naive || n
		out = append(out, st)
		if depth == 1 && s.release != nil {
			s.release(s.i)
		}
		if s.next('}') {
			return out, naive, true
		}
		if !s.next(',') {
			return nil, false, false
		}
	}
}

// members counts the members of the object at s, without consuming it;
// it stops counting where the object is not one it can read.
func (s scanner) members() int {
	n := 0
	if !s.next('{') || s.next('}') {
		return n
	}
	for {
		s.ws()
		if _, ok := s.str(); !ok || !s.next(':') {
			return n
		}
		s.ws()
		if !s.skip() {
			return n
		}
		n++
		if !s.next(',') {
			return n
		}
	}
}

// stage reads the stage object of key, as decodeStage does.
func (s *scanner) stage(key string, depth int) (_ Stage, naive, ok bool) {
	if !s.next('{') {
		return Stage{}, false, false
	}
	st := Stage{Key: key, Name: key}
	var (
		start, end  isoTime
		duration    float64
		hasDuration bool
		nestedNaive bool
	)
	if !s.next('}') {
		for {
			s.ws()
			raw, ok := s.str()
			if !ok || !s.next(':') {
				return Stage{}, false, false
			}
			s.ws()
			field, ok := fieldName(raw)
			if !ok {
				return Stage{}, false, false
			}
			vstart := s.i
			if field == "stages" {
				if s.literal("null") {
					st.Stages, nestedNaive = nil, false
				} else if st.Stages, nestedNaive, ok = s.stages(depth + 1); !ok {
					return Stage{}, false, false
				}
			} else {
				if !s.skip() {
					return Stage{}, false, false
				}
				v := s.b[vstart:s.i]
				isNull := string(v) == "null"
				switch field {
				case "start_time":
					ok = start.UnmarshalJSON(v) == nil
				case "end_time":
					ok = end.UnmarshalJSON(v) == nil
				case "duration_sec":
					hasDuration = !isNull
					if hasDuration {
						duration, ok = number(v)
					}
				case "data":
					st.Data = nil
					if !isNull {
						st.Data = bytes.Clone(v)
					}
				case "error":
					st.Error, ok = optString(v, isNull, "")
				case "name":
					st.Name, ok = optString(v, isNull, key)
				case "attempt":
					st.Attempt, ok = integer(v, isNull, st.Attempt)
				case "pid":
					st.PID, ok = integer(v, isNull, st.PID)
				case "status":
					st.Status, ok = keepString(v, isNull, st.Status)
				case "span_id":
					st.SpanID, ok = keepString(v, isNull, st.SpanID)
				case "parent_span_id":
					st.ParentSpanID, ok = keepString(v, isNull, st.ParentSpanID)
				case "data_error":
					st.DataError, ok = keepString(v, isNull, st.DataError)
				case "stack":
					st.Stack, ok = keepString(v, isNull, st.Stack)
				case "host":
					st.Host, ok = keepString(v, isNull, st.Host)
				case "inputs":
					// Rare and small: encoding/json, into the same value
					// as the slow path, keeps its semantics exactly.
					// Into a local: &st.Inputs would move every stage
					// read to the heap.
					files := st.Inputs
					ok = json.Unmarshal(v, &files) == nil
					st.Inputs = files
				case "outputs":
					files := st.Outputs
					ok = json.Unmarshal(v, &files) == nil
					st.Outputs = files
				case "tools":
					tools := st.Tools
					ok = json.Unmarshal(v, &tools) == nil
					st.Tools = tools
				case "timed_out":
					// As encoding/json: null leaves it, anything but a
					// boolean is an error (the slow path says which).
					switch string(v) {
					case "true":
						st.TimedOut = true
					case "false":
						st.TimedOut = false
					default:
						ok = isNull
					}
				}
				if !ok {
					return Stage{}, false, false
				}
			}
			if s.next('}') {
				break
			}
			if !s.next(',') {
				return Stage{}, false, false
			}
		}
	}
	if checkTime("start_time", start.t) != nil || checkTime("end_time", end.t) != nil {
		return Stage{}, false, false
	}
	st.StartTime, st.EndTime = start.t, end.t
	if st.Attempt == 0 {
		st.Attempt = 1
	}
	switch {
	case hasDuration:
		st.DurationSec = duration
	case !start.t.IsZero() && !end.t.IsZero():
		st.DurationSec = Seconds(end.t.Sub(start.t))
	default:
		st.DurationUnknown = true
	}
	return st, start.naive || end.naive || nestedNaive, true
}

// fields are the names of a stage's fields, in lower case.
var fields = [...]string{"stages", "start_time", "duration_sec", "data", "error", "name", "attempt",
	"end_time", "status", "span_id", "parent_span_id", "data_error", "stack", "host", "pid", "timed_out",
	"inputs", "outputs", "tools"}

// fieldName is the stage field raw (a quoted key) names, as decodeStage
// matches it: "stages" case-folded, the others by their lower case; ""
// for a field a stage does not have. The name returned is one of fields,
// so that matching a plain key allocates nothing.
func fieldName(raw []byte) (string, bool) {
	if plainASCII(raw) { // no escape, no upper case
		for _, f := range fields {
			if string(raw[1:len(raw)-1]) == f {
				return f, true
			}
		}
		return "", true
	}
	key, ok := unquote(raw)
	if !ok {
		return "", false
	}
	if strings.EqualFold(key, "stages") {
		return "stages", true
	}
	lower := strings.ToLower(key)
	for _, f := range fields[1:] {
		if lower == f {
			return f, true
		}
	}
	return "", true
}

// plainASCII reports whether the quoted string raw has only printable
// ASCII other than upper-case letters and backslashes.
func plainASCII(raw []byte) bool {
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c >= 0x80 || c == '\\' || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// str consumes a string and returns it with its quotes.
func (s *scanner) str() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	for i := s.i + 1; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '\\':
			i++
		case c == '"':
			raw := s.b[s.i : i+1]
			s.i = i + 1
			return raw, true
		case c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// skip consumes one value.
func (s *scanner) skip() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	}
	start := s.i // a number or a literal
	for s.i < len(s.b) && !isDelim(s.b[s.i]) {
		s.i++
	}
	return s.i > start
}

// unquote is the string the quoted raw holds, as encoding/json decodes it
// (invalid UTF-8 as U+FFFD).
func unquote(raw []byte) (string, bool) {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), true
	}
	var out string
	return out, json.Unmarshal(raw, &out) == nil
}

// optString decodes a string that may be null (then def).
func optString(v []byte, isNull bool, def string) (string, bool) {
	switch {
	case isNull:
		return def, true
	case len(v) < 2 || v[0] != '"':
		return "", false
	case string(v[1:len(v)-1]) == def && bytes.IndexByte(v, '\\') < 0: // the name is most often the key
		return def, true
	}
	return unquote(v)
}

// keepString decodes a string; null keeps what was there, as
// encoding/json leaves a string field alone for null.
func keepString(v []byte, isNull bool, was string) (string, bool) {
	switch {
	case isNull:
		return was, true
	case len(v) < 2 || v[0] != '"':
		return "", false
	}
	switch string(v[1 : len(v)-1]) { // the statuses, without an allocation
	case StageOK:
		return StageOK, true
	case StageError:
		return StageError, true
	case StageUnfinished:
		return StageUnfinished, true
	case StageRunning:
		return StageRunning, true
	}
	return unquote(v)
}

// number decodes a JSON number into a float64 as encoding/json does.
func number(v []byte) (float64, bool) {
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}

// integer decodes a JSON number into an int as encoding/json does; null
// keeps what was there.
func integer(v []byte, isNull bool, was int) (int, bool) {
	if isNull {
		return was, true
	}
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v), 10, strconv.IntSize)
	return int(n), err == nil
}

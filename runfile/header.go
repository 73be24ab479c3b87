package runfile

import (
	"encoding/json"
	"time"
)

// Header is what a listing of runs needs of a run file: its top-level
// fields, without its stages.
type Header struct {
	RunID            string
	Name             string
	Status           string // "" when the file has none (the Python tool's)
	Error            string
	StartTime        time.Time
	CompletedAt      time.Time
	TotalDurationSec float64
	StageCount       int             // stage records, nested ones included
	Args             json.RawMessage // shares b's memory; nil for none
}

// ScanHeader reads the header of the run file b without decoding its
// stages: a listing of a thousand runs reads each file's top-level fields
// and skips the rest. ok is false when it cannot tell the header from the
// top level alone, and the caller then reads the file with DecodeRuns: b
// is not a single valid JSON object (a history, a torn file), a field has
// an unexpected type, or the file lacks status or stage_count (as the
// Python tool's files do, whose status follows from their stages).
func ScanHeader(b []byte) (h Header, ok bool) {
	if !json.Valid(b) || Nesting(b) > MaxNesting {
		return Header{}, false
	}
	s := scanner{b: b}
	if !s.next('{') {
		return Header{}, false
	}
	var hasStatus, hasCount, hasTotal bool
	if !s.next('}') {
		for {
			s.ws()
			raw, ok := s.str()
			if !ok || !s.next(':') {
				return Header{}, false
			}
			s.ws()
			vstart := s.i
			if !s.skip() {
				return Header{}, false
			}
			v := s.b[vstart:s.i]
			isNull := string(v) == "null"
			ok = true
			// The writers write these keys in lower case without escapes;
			// a file that spells them otherwise takes the slow path.
			switch string(raw[1 : len(raw)-1]) {
			case "run_id":
				h.RunID, ok = keepString(v, isNull, "")
			case "name":
				h.Name, ok = keepString(v, isNull, "")
			case "status":
				h.Status, ok = keepString(v, isNull, "")
				hasStatus = h.Status != ""
			case "error":
				h.Error, ok = optString(v, isNull, "")
			case "start_time", "completed_at":
				var t isoTime
				ok = t.UnmarshalJSON(v) == nil && checkTime("", t.t) == nil
				if raw[1] == 's' {
					h.StartTime = t.t
				} else {
					h.CompletedAt = t.t
				}
			case "total_duration_sec":
				if !isNull {
					h.TotalDurationSec, ok = number(v)
					hasTotal = true
				}
			case "stage_count":
				h.StageCount, ok = integer(v, isNull, 0)
				hasCount = !isNull
			case "args":
				if !isNull {
					h.Args = v
				}
			default:
				ok = plainASCII(raw) // a key in upper case may be one of the above
			}
			if !ok {
				return Header{}, false
			}
			if s.next('}') {
				break
			}
			if !s.next(',') {
				return Header{}, false
			}
		}
	}
	s.ws()
	if s.i != len(s.b) || !hasStatus || !hasCount {
		return Header{}, false
	}
	if !hasTotal && !h.StartTime.IsZero() && !h.CompletedAt.IsZero() {
		h.TotalDurationSec = Seconds(h.CompletedAt.Sub(h.StartTime))
	}
	return h, true
}

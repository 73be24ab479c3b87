package jsonrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/internal/limits"
)

// runJSON mirrors the run file for decoding; Run.MarshalJSON is its inverse.
type runJSON struct {
	RunID            string          `json:"run_id"`
	StartTime        time.Time       `json:"start_time"`
	Args             json.RawMessage `json:"args"`
	Stages           Stages          `json:"stages"`
	CompletedAt      time.Time       `json:"completed_at"`
	TotalDurationSec float64         `json:"total_duration_sec"`
	SchemaVersion    int             `json:"schema_version"`
	Name             string          `json:"name"`
	Status           string          `json:"status"`
	Error            *string         `json:"error"`
	Stack            string          `json:"stack"`
	TraceID          string          `json:"trace_id"`
	SpanID           string          `json:"span_id"`
	ParentSpanID     string          `json:"parent_span_id"`
	StageCount       int             `json:"stage_count"`
	MissingStages    int             `json:"missing_stages"`
	Warnings         []string        `json:"warnings"`
	Host             string          `json:"host"`
	PID              int             `json:"pid"`
}

type stageJSON struct {
	StartTime   time.Time       `json:"start_time"`
	DurationSec float64         `json:"duration_sec"`
	Data        json.RawMessage `json:"data"`
	Error       *string         `json:"error"`
	Name        *string         `json:"name"`
	Attempt     int             `json:"attempt"`
	EndTime     time.Time       `json:"end_time"`
	Status      string          `json:"status"`
	SpanID      string          `json:"span_id"`
	DataError   string          `json:"data_error"`
	Stack       string          `json:"stack"`
	Host        string          `json:"host"`
	PID         int             `json:"pid"`
	// Stages are decoded by decodeStages, from the same token stream.
}

// UnmarshalJSON decodes a run file. Files written by the Python
// stage-tracker decode too: fields it does not write keep their zero values,
// except that a stage's Name defaults to its key and Attempt to 1.
//
// A file nested deeper than MaxNesting levels of JSON is refused before it
// is decoded: decoding re-reads each level of stages, so a hostile file of a
// few kilobytes could otherwise take seconds.
func (r *Run) UnmarshalJSON(b []byte) error {
	if d := nesting(b); d > MaxNesting {
		return fmt.Errorf("run file nested %d levels deep, more than %d", d, MaxNesting)
	}
	var j runJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if err := checkTime("start_time", j.StartTime); err != nil {
		return err
	}
	if err := checkTime("completed_at", j.CompletedAt); err != nil {
		return err
	}
	*r = Run{
		RunID:            j.RunID,
		StartTime:        j.StartTime,
		Args:             nullToEmpty(j.Args),
		Stages:           j.Stages,
		CompletedAt:      j.CompletedAt,
		TotalDurationSec: j.TotalDurationSec,
		SchemaVersion:    j.SchemaVersion,
		Name:             j.Name,
		Status:           j.Status,
		Error:            deref(j.Error),
		Stack:            j.Stack,
		TraceID:          j.TraceID,
		SpanID:           j.SpanID,
		ParentSpanID:     j.ParentSpanID,
		StageCount:       j.StageCount,
		MissingStages:    j.MissingStages,
		Warnings:         j.Warnings,
		Host:             j.Host,
		PID:              j.PID,
	}
	return nil
}

// UnmarshalJSON decodes a stages object, keeping its keys in file order.
// Nested stages are decoded from the same token stream, so that a file is
// read once whatever its depth.
func (s *Stages) UnmarshalJSON(b []byte) error {
	if d := nesting(b); d > MaxNesting {
		return fmt.Errorf("stages nested %d levels deep, more than %d", d, MaxNesting)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	out, err := decodeStages(dec)
	if err != nil {
		return err
	}
	*s = out
	return nil
}

// decodeStages reads a stages object (or null) from dec.
func decodeStages(dec *json.Decoder) (Stages, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil { // null
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("stages: want an object, got %v", tok)
	}
	var out Stages
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key := tok.(string) // object keys are always strings
		st, err := decodeStage(dec, key)
		if err != nil {
			return nil, fmt.Errorf("stages[%q]: %w", key, err)
		}
		out = append(out, st)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	return out, nil
}

// decodeStage reads the stage object of key from dec: its fields as
// stageJSON declares them, its "stages" by decodeStages.
func decodeStage(dec *json.Decoder, key string) (Stage, error) {
	tok, err := dec.Token()
	if err != nil {
		return Stage{}, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return Stage{}, fmt.Errorf("want an object, got %v", tok)
	}
	var (
		j      stageJSON
		nested Stages
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Stage{}, err
		}
		field := tok.(string)
		if field == "stages" {
			if nested, err = decodeStages(dec); err != nil {
				return Stage{}, err
			}
			continue
		}
		if err := decodeStageField(dec, &j, field); err != nil {
			return Stage{}, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return Stage{}, err
	}
	if err := checkTime("start_time", j.StartTime); err != nil {
		return Stage{}, err
	}
	if err := checkTime("end_time", j.EndTime); err != nil {
		return Stage{}, err
	}
	st := Stage{
		Key:         key,
		StartTime:   j.StartTime,
		DurationSec: j.DurationSec,
		Data:        nullToEmpty(j.Data),
		Error:       deref(j.Error),
		Name:        key,
		Attempt:     j.Attempt,
		EndTime:     j.EndTime,
		Status:      j.Status,
		SpanID:      j.SpanID,
		DataError:   j.DataError,
		Stack:       j.Stack,
		Host:        j.Host,
		PID:         j.PID,
		Stages:      nested,
	}
	if j.Name != nil {
		st.Name = *j.Name
	}
	if st.Attempt == 0 {
		st.Attempt = 1
	}
	return st, nil
}

// decodeStageField decodes the value of one field of a stage object into
// j, as encoding/json would: by the field's JSON name, case-insensitively,
// an unknown field skipped.
func decodeStageField(dec *json.Decoder, j *stageJSON, field string) error {
	var dst any
	switch strings.ToLower(field) {
	case "start_time":
		dst = &j.StartTime
	case "duration_sec":
		dst = &j.DurationSec
	case "data":
		dst = &j.Data
	case "error":
		dst = &j.Error
	case "name":
		dst = &j.Name
	case "attempt":
		dst = &j.Attempt
	case "end_time":
		dst = &j.EndTime
	case "status":
		dst = &j.Status
	case "span_id":
		dst = &j.SpanID
	case "data_error":
		dst = &j.DataError
	case "stack":
		dst = &j.Stack
	case "host":
		dst = &j.Host
	case "pid":
		dst = &j.PID
	default:
		dst = new(json.RawMessage)
	}
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

// checkTime rejects a time that the run-file format, UTC with a four-digit
// year, cannot hold, such as 0000-01-01T00:30:00+01:00: written back it
// would be a file that no reader accepts.
func checkTime(field string, t time.Time) error {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("%s %s is outside the years 0000 to 9999 in UTC", field, t.Format(time.RFC3339Nano))
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// nullToEmpty normalises a JSON null to an empty RawMessage, which the
// encoder writes back as null: one representation of "no value".
func nullToEmpty(b json.RawMessage) json.RawMessage {
	if string(b) == "null" {
		return nil
	}
	return b
}

// The limits of the run-file format: Finalize writes nothing that ReadFile
// refuses. Stages nested deeper than MaxStageDepth are attached at that
// depth with a warning; data or args nested deeper than MaxDataDepth are
// dropped and marked; a file nested deeper than MaxNesting is refused
// before it is decoded.
const (
	MaxStageDepth = limits.StageDepth
	MaxDataDepth  = limits.DataDepth
	MaxNesting    = limits.FileNesting
)

// nesting returns how deeply the JSON value b nests objects and arrays.
func nesting(b []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

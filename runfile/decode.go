package runfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/jsonscan"
	"github.com/stage-tracker/stage-tracker/internal/limits"
	"github.com/stage-tracker/stage-tracker/internal/stagekey"
)

// runJSON mirrors the run file for decoding; Run.MarshalJSON is its inverse.
type runJSON struct {
	RunID            string             `json:"run_id"`
	StartTime        isoTime            `json:"start_time"`
	Args             json.RawMessage    `json:"args"`
	Stages           stagesJSON         `json:"stages"`
	CompletedAt      isoTime            `json:"completed_at"`
	TotalDurationSec *float64           `json:"total_duration_sec"`
	SchemaVersion    int                `json:"schema_version"`
	Name             string             `json:"name"`
	Status           string             `json:"status"`
	Error            *string            `json:"error"`
	Stack            string             `json:"stack"`
	TraceID          string             `json:"trace_id"`
	SpanID           string             `json:"span_id"`
	ParentSpanID     string             `json:"parent_span_id"`
	StageCount       int                `json:"stage_count"`
	MissingStages    int                `json:"missing_stages"`
	LateStages       int                `json:"late_stages"`
	ProcessCounts    []processCountJSON `json:"process_counts"`
	Warnings         []string           `json:"warnings"`
	Host             string             `json:"host"`
	PID              int                `json:"pid"`
	Provenance       *Provenance        `json:"provenance"`
}

type processCountJSON struct {
	SpanID     string `json:"span_id"`
	Host       string `json:"host"`
	PID        int    `json:"pid"`
	StageCount int    `json:"stage_count"`
}

type stageJSON struct {
	StartTime   isoTime           `json:"start_time"`
	DurationSec *float64          `json:"duration_sec"`
	Data        json.RawMessage   `json:"data"`
	Error       *string           `json:"error"`
	Name        *string           `json:"name"`
	Attempt     int               `json:"attempt"`
	EndTime     isoTime           `json:"end_time"`
	Status      string            `json:"status"`
	SpanID      string            `json:"span_id"`
	ParentSpan  string            `json:"parent_span_id"`
	DataError   string            `json:"data_error"`
	Stack       string            `json:"stack"`
	Host        string            `json:"host"`
	PID         int               `json:"pid"`
	TimedOut    bool              `json:"timed_out"`
	Inputs      []File            `json:"inputs"`
	Outputs     []File            `json:"outputs"`
	Tools       map[string]string `json:"tools"`
	// Stages are decoded by decodeStagesFrom, from the same token stream.
}

// UnmarshalJSON decodes a run file. Files written by the Python
// stage-tracker decode too: fields it does not write keep their zero values,
// except that a stage's Name defaults to its key and Attempt to 1. Its
// timestamps may lack the fraction (isoformat() drops a zero microsecond)
// or the offset (read as UTC, with a note in Notes); a duration_sec of null
// is computed from end_time where the stage has one, else the stage's
// DurationUnknown is set; a total_duration_sec of null is computed from
// completed_at.
//
// A file of schema_version 1 is re-keyed as it is read: at each level, by
// the stages' names in file (start) order, the last record of each name
// gets the plain name and the earlier ones name#1, name#2, ..., as version
// 2 writes them, and attempts are numbered 1, 2, ... in that order, as both
// versions write them. Run.SchemaVersion stays 1, what the file says. Files
// without a schema_version (the Python tool's) and of later versions keep
// their keys.
//
// A file nested deeper than MaxNesting levels of JSON is refused before it
// is decoded.
func (r *Run) UnmarshalJSON(b []byte) error { return r.decode(b, false) }

// decode is UnmarshalJSON of b; valid says b is known to be valid JSON.
// A valid run is scanned from its bytes (scanRun); anything the scanner
// does not expect, and every error, is encoding/json's as before.
func (r *Run) decode(b []byte, valid bool) error {
	if d := Nesting(b); d > MaxNesting {
		return fmt.Errorf("run file nested %d levels deep, more than %d", d, MaxNesting)
	}
	if (valid || json.Valid(b)) && r.scan(b) {
		return nil
	}
	var j runJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	return r.set(&j)
}

// set makes r the run j decodes to.
func (r *Run) set(j *runJSON) error {
	if err := checkTime("start_time", j.StartTime.t); err != nil {
		return err
	}
	if err := checkTime("completed_at", j.CompletedAt.t); err != nil {
		return err
	}
	var total float64
	switch {
	case j.TotalDurationSec != nil:
		total = *j.TotalDurationSec
	case !j.StartTime.t.IsZero() && !j.CompletedAt.t.IsZero():
		total = Seconds(j.CompletedAt.t.Sub(j.StartTime.t))
	}
	*r = Run{
		RunID:            j.RunID,
		StartTime:        j.StartTime.t,
		Args:             nullToEmpty(j.Args),
		Stages:           j.Stages.s,
		CompletedAt:      j.CompletedAt.t,
		TotalDurationSec: total,
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
		LateStages:       j.LateStages,
		ProcessCounts:    processCounts(j.ProcessCounts),
		Warnings:         j.Warnings,
		Host:             j.Host,
		PID:              j.PID,
		Provenance:       j.Provenance,
	}
	if j.StartTime.naive || j.CompletedAt.naive || j.Stages.naive {
		r.Notes = append(r.Notes, naiveNote)
	}
	if j.SchemaVersion == 1 {
		rekey(r.Stages)
	}
	return nil
}

func processCounts(pc []processCountJSON) []ProcessCount {
	if len(pc) == 0 {
		return nil
	}
	out := make([]ProcessCount, len(pc))
	for i, c := range pc {
		out[i] = ProcessCount(c)
	}
	return out
}

// rekey gives the records of s, at every level, the keys and attempts of
// the current schema version, by their names in start order.
func rekey(s Stages) {
	if len(s) == 0 {
		return
	}
	var names stagekey.Level
	names.Grow(len(s))
	for i := range s {
		names.Count(s[i].Name)
	}
	for i := range s {
		s[i].Key, s[i].Attempt = names.Next(s[i].Name)
		rekey(s[i].Stages)
	}
}

// naiveNote is the note on a run whose timestamps have no UTC offset.
const naiveNote = "timestamps have no UTC offset; read as UTC"

// stagesJSON decodes a stages object and remembers whether any timestamp
// in it, at any level, had no offset.
type stagesJSON struct {
	s     Stages
	naive bool
}

// UnmarshalJSON is called by encoding/json only, with b checked to be
// valid JSON, and only from Run.UnmarshalJSON, which checked how deeply
// the whole file nests.
func (sj *stagesJSON) UnmarshalJSON(b []byte) error {
	s, naive, err := decodeStages(b, true)
	*sj = stagesJSON{s, naive}
	return err
}

// UnmarshalJSON decodes a stages object, keeping its keys in file order.
func (s *Stages) UnmarshalJSON(b []byte) error {
	out, _, err := decodeStages(b, false)
	if err != nil {
		return err
	}
	*s = out
	return nil
}

// decodeStages decodes a stages object, and reports whether any of its
// timestamps had no offset. valid says b is known to be valid JSON and
// not nested too deeply (part of a run file already checked). The
// stages of a file that reads without error are scanned from the bytes
// (scanStages); the others, and every error, are the token decoder's, in
// which nested stages are decoded from the same token stream, so that a
// file is read once whatever its depth.
func decodeStages(b []byte, valid bool) (_ Stages, naive bool, _ error) {
	if !valid {
		if d := Nesting(b); d > MaxNesting {
			return nil, false, fmt.Errorf("stages nested %d levels deep, more than %d", d, MaxNesting)
		}
	}
	if valid || json.Valid(b) {
		if s, naive, ok := scanStages(b); ok {
			return s, naive, nil
		}
	}
	return decodeStagesFrom(json.NewDecoder(bytes.NewReader(b)))
}

// decodeStagesFrom reads a stages object (or null) from dec.
func decodeStagesFrom(dec *json.Decoder) (_ Stages, naive bool, _ error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, false, err
	}
	if tok == nil { // null
		return nil, false, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, false, fmt.Errorf("stages: want an object, got %v", tok)
	}
	var out Stages
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		key := tok.(string) // object keys are always strings
		st, n, err := decodeStage(dec, key)
		if err != nil {
			return nil, false, fmt.Errorf("stages[%q]: %w", key, err)
		}
		naive = naive || n
		out = append(out, st)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, false, err
	}
	return out, naive, nil
}

// decodeStage reads the stage object of key from dec: its fields as
// stageJSON declares them, its "stages" by decodeStagesFrom.
func decodeStage(dec *json.Decoder, key string) (_ Stage, naive bool, _ error) {
	tok, err := dec.Token()
	if err != nil {
		return Stage{}, false, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return Stage{}, false, fmt.Errorf("want an object, got %v", tok)
	}
	var (
		j           stageJSON
		nested      Stages
		nestedNaive bool
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Stage{}, false, err
		}
		field := tok.(string)
		if strings.EqualFold(field, "stages") {
			if nested, nestedNaive, err = decodeStagesFrom(dec); err != nil {
				return Stage{}, false, err
			}
			continue
		}
		if err := decodeStageField(dec, &j, field); err != nil {
			return Stage{}, false, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return Stage{}, false, err
	}
	if err := checkTime("start_time", j.StartTime.t); err != nil {
		return Stage{}, false, err
	}
	if err := checkTime("end_time", j.EndTime.t); err != nil {
		return Stage{}, false, err
	}
	st := Stage{
		Key:          key,
		StartTime:    j.StartTime.t,
		Data:         nullToEmpty(j.Data),
		Error:        deref(j.Error),
		Name:         key,
		Attempt:      j.Attempt,
		EndTime:      j.EndTime.t,
		Status:       j.Status,
		SpanID:       j.SpanID,
		DataError:    j.DataError,
		ParentSpanID: j.ParentSpan,
		Stack:        j.Stack,
		Host:         j.Host,
		PID:          j.PID,
		TimedOut:     j.TimedOut,
		Inputs:       j.Inputs,
		Outputs:      j.Outputs,
		Tools:        j.Tools,
		Stages:       nested,
	}
	if j.Name != nil {
		st.Name = *j.Name
	}
	if st.Attempt == 0 {
		st.Attempt = 1
	}
	switch {
	case j.DurationSec != nil:
		st.DurationSec = *j.DurationSec
	case !j.StartTime.t.IsZero() && !j.EndTime.t.IsZero():
		st.DurationSec = Seconds(j.EndTime.t.Sub(j.StartTime.t))
	default: // the Python tool writes null unless the caller passed one
		st.DurationUnknown = true
	}
	return st, j.StartTime.naive || j.EndTime.naive || nestedNaive, nil
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
	case "parent_span_id":
		dst = &j.ParentSpan
	case "data_error":
		dst = &j.DataError
	case "stack":
		dst = &j.Stack
	case "timed_out":
		dst = &j.TimedOut
	case "host":
		dst = &j.Host
	case "pid":
		dst = &j.PID
	case "inputs":
		dst = &j.Inputs
	case "outputs":
		dst = &j.Outputs
	case "tools":
		dst = &j.Tools
	default:
		dst = new(json.RawMessage)
	}
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

// isoTime decodes a run file's timestamps: RFC 3339 with or without a
// fraction, and, as the Python tool's naive datetimes write them, ISO 8601
// without an offset, read as UTC. null and a missing value are zero.
type isoTime struct {
	t     time.Time
	naive bool
}

func (it *isoTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*it = isoTime{}
		return nil
	}
	var s string
	if plainString(b) { // what the writers write: no reflection
		s = string(b[1 : len(b)-1])
	} else if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp %s is not a string", truncate(b))
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		*it = isoTime{t: t}
		return nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		*it = isoTime{t: t.UTC(), naive: true}
		return nil
	}
	return fmt.Errorf("timestamp %q is not an ISO 8601 time such as 2025-05-05T23:14:10.235518+00:00", truncate([]byte(s)))
}

// plainString reports whether b is a quoted JSON string of printable
// ASCII without escapes, whose value is b without its quotes.
func plainString(b []byte) bool {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return false
	}
	for _, c := range b[1 : len(b)-1] {
		if c < 0x20 || c > 0x7e || c == '\\' || c == '"' {
			return false
		}
	}
	return true
}

// truncate shortens a value quoted in an error to one readable line.
func truncate(b []byte) string {
	const limit = 40
	if len(b) <= limit {
		return string(b)
	}
	i := limit
	for i > 0 && !utf8.RuneStart(b[i]) {
		i--
	}
	return string(b[:i]) + "…"
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

// Nesting returns how deeply the JSON value b nests objects and arrays.
// Strings are skipped a quote at a time (bytes.IndexByte), not a byte at a
// time: most of a run file is in strings.
func Nesting(b []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			if i = jsonscan.StringEnd(b, i); i < 0 {
				return deepest
			}
			i-- // at the closing quote; the loop steps past it
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// ReadRuns reads the runs in a file: a run file, the Python stage-tracker's
// history (history/pipeline_history.json: a JSON array of runs, rewritten
// whole on each finalize), or a JSON Lines history written with
// WithHistory. An element of an array that is not a run is reported as
// "path[i]: why", a line of JSON Lines as "line n: why", joined into the
// returned error next to every run that was read.
//
// A path that is not a regular file (a FIFO, a device such as /dev/zero,
// also behind a symbolic link) is refused with ErrNotRegular without being
// read: reading it could block or never end.
//
// On Linux a run file of 8 MiB or more is read into memory outside the Go
// heap that is given back as its stages are decoded, so that the file and
// the run are not both held whole (see readRunOffHeap); the result is
// DecodeRuns' of the file's bytes.
func ReadRuns(path string) ([]*Run, error) { return readRuns(path, offHeapMin, releaseChunk) }

// readRuns is ReadRuns, reading files of at least offHeap bytes outside
// the Go heap and giving back their pages chunk bytes at a time (see
// readRunOffHeap); tests set both small.
func readRuns(path string, offHeap int64, chunk int) ([]*Run, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size >= offHeap {
		if r, ok := readRunOffHeap(f, size, chunk); ok {
			return []*Run{r}, nil
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	b, err := readSized(f, size)
	if err != nil {
		return nil, err
	}
	return DecodeRuns(b, path)
}

// ErrNotRegular is returned for a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ReadRegular reads the regular file at path, following symbolic links. It
// opens without blocking, so that a FIFO is refused rather than waited on,
// and checks what it opened before reading it.
func ReadRegular(path string) ([]byte, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readSized(f, size)
}

// openRegular opens the regular file at path as ReadRegular reads it and
// returns its size; the caller closes it.
func openRegular(path string) (*os.File, int64, error) {
	f, err := fsutil.OpenFile(path, os.O_RDONLY|fsutil.NonBlock, 0)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		if fi.IsDir() {
			return nil, 0, &os.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
		}
		return nil, 0, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, fsutil.FileKind(fi.Mode()))
	}
	return f, fi.Size(), nil
}

// readSized reads f to its end into a buffer of the size f had: io.ReadAll
// grows its buffer by copying, a file's worth of garbage and copies for a
// large run. A file that grew meanwhile is still read whole.
func readSized(f io.Reader, size int64) ([]byte, error) {
	n := 512
	if size > 0 && size < 1<<40 {
		n = int(size) + 1 // the 1: the read that sees the end
	}
	b := make([]byte, 0, n)
	for {
		m, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// DecodeRuns is ReadRuns of the content b of the file named path.
func DecodeRuns(b []byte, path string) ([]*Run, error) {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		return decodeArray(trimmed, path)
	case isJSONLines(trimmed):
		return readHistory(bytes.NewReader(b), path)
	}
	r, err := decodeOne(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, readable(err))
	}
	return []*Run{r}, nil
}

// decodeOne is json.Unmarshal of b into a Run, checking b's syntax once
// (json.Unmarshal checks it, then Run.UnmarshalJSON again).
func decodeOne(b []byte) (*Run, error) {
	var r Run
	if v := bytes.Trim(b, " \t\r\n"); len(v) > 0 && v[0] == '{' && json.Valid(v) {
		// What encoding/json hands UnmarshalJSON: the value, no space.
		return &r, r.decode(v, true)
	}
	return &r, json.Unmarshal(b, &r)
}

// isJSONLines reports whether b holds more than one top-level JSON value,
// one a line, as a history written with WithHistory does. It finds where
// the first value ends by its brackets, and checks that value's syntax only
// when something follows it: a run file, one value, costs one quick pass.
func isJSONLines(b []byte) bool {
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	end := jsonscan.ValueEnd(b, 0) // brackets only: the syntax is checked below
	if end < 0 {
		return false
	}
	rest := bytes.TrimLeft(b[end:], " \t\r")
	return len(rest) > 0 && rest[0] == '\n' && len(bytes.TrimSpace(rest)) > 0 && json.Valid(b[:end])
}

func decodeArray(b []byte, path string) ([]*Run, error) {
	if d := Nesting(b); d > MaxNesting+1 {
		return nil, fmt.Errorf("%s: nested %d levels deep, more than %d", path, d, MaxNesting+1)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		return nil, fmt.Errorf("%s: %w", path, readable(err))
	}
	runs := make([]*Run, 0, len(elems))
	var errs []error
	for i, el := range elems {
		r, err := decodeOne(el)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", path, i, readable(err)))
			continue
		}
		if r.RunID == "" && r.StartTime.IsZero() && len(r.Stages) == 0 {
			errs = append(errs, fmt.Errorf("%s[%d]: not a run (no run_id, start_time or stages)", path, i))
			continue
		}
		runs = append(runs, r)
	}
	return runs, errors.Join(errs...)
}

// readable rewords encoding/json's type errors, which name Go types
// ("cannot unmarshal array into Go value of type jsonrun.runJSON"), in the
// file's terms.
func readable(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON at byte %d: %s", se.Offset, se.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		where := te.Field
		if where == "" {
			return fmt.Errorf("a JSON %s where a run object belongs", te.Value)
		}
		return fmt.Errorf("%s is a JSON %s, which this field cannot be", where, te.Value)
	}
	return err
}

package jsonrun

// Fuzz targets for everything that turns untrusted or arbitrary bytes into a
// run file: reading run files back, reading and recovering journals, the
// span-to-run conversion and the hand-written JSON string encoder.
//
// Run one for a while with
//
//	go test -run='^$' -fuzz='^FuzzJournal$' -fuzztime=60s ./exporter/jsonrun
//
// or all of them briefly with scripts/fuzz.sh. Plain `go test` runs every
// seed: the f.Add calls below and the files in testdata/fuzz/<FuzzName>/,
// which include the golden run files and a real journal. Rewrite the
// generated seed files with
//
//	go test ./exporter/jsonrun -run '^TestWriteFuzzSeeds$' -fuzz-seeds
//
// Crashers the fuzzer finds go into the same directories, under the name it
// gives them, with the fix.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/journal"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/jsontest"

	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// FuzzReadRunFile feeds arbitrary bytes to the run-file decoder, as ReadFile
// does. Whatever decodes must encode, indented and compact, to valid JSON
// that decodes to an equal Run, and the encoding must be a fixed point: a
// file written from a file read back is the same file.
func FuzzReadRunFile(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`null`,
		`{"run_id":"x","stages":{"a":{"data":1},"a":{"data":2}}}`,
		`{"stages":{"":{"name":null,"attempt":0,"error":""}}}`,
		`{"start_time":"2025-05-05T23:14:10.235518999+02:00","completed_at":"0001-01-01T00:00:00Z"}`,
		`{"start_time":"0000-01-01T00:30:00+01:00"}`,
		`{"start_time":"9999-12-31T23:30:00-01:00"}`,
		`{"args":{"b":[1, 2,  {"c":null}]},"warnings":[]}`,
		`{"stages":{"\ud800x":{"stages":{"\u2028":{"data":"\u0000"}}}}}`,
		"{\"name\":\"\xff\xfe\",\"stages\":{\"\xed\xa0\x80\":{}}}",
		`{"total_duration_sec":1e308,"stage_count":-1,"RUN_ID":"upper"}`,
		`{"stages":{"a":{"stages":{"b":{"stages":{"c":{"data":[{}]}}}}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Run
		if err := json.Unmarshal(b, &r); err != nil {
			return
		}
		indented := r.AppendIndent(nil)
		compact, err := r.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		for _, enc := range []struct {
			name string
			b    []byte
		}{{"AppendIndent", indented}, {"MarshalJSON", compact}} {
			back := checkEncoding(t, enc.name, &r, enc.b)
			if again := back.AppendIndent(nil); !bytes.Equal(again, indented) {
				t.Fatalf("%s: encoding is not a fixed point:\nfirst:  %s\nsecond: %s", enc.name, indented, again)
			}
		}
	})
}

// checkEncoding checks that b, the encoding of want, is valid JSON in valid
// UTF-8 (as RFC 8259 requires, and Python's json module needs to read it)
// that decodes to a Run equal to want. It returns the decoded Run.
func checkEncoding(t *testing.T, name string, want *Run, b []byte) *Run {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("%s: invalid JSON:\n%s", name, b)
	}
	if !utf8.Valid(b) {
		t.Fatalf("%s: invalid UTF-8:\n%q", name, b)
	}
	var got Run
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: the encoding does not decode: %v\n%s", name, err, b)
	}
	if d := runDiff(want, &got); d != "" {
		t.Fatalf("%s: decoded run differs from the encoded one: %s\n%s", name, d, b)
	}
	return &got
}

// runDiff describes the first difference between want, a Run in memory,
// and got, the Run decoded from its encoding, or returns "". Times compare
// at the file's microsecond precision, raw JSON after compaction, strings
// after the encoder's replacement of invalid UTF-8, and a nil slice equals
// an empty one.
func runDiff(want, got *Run) string {
	var d differ
	d.str("run_id", want.RunID, got.RunID)
	d.time("start_time", want.StartTime, got.StartTime)
	d.raw("args", want.Args, got.Args)
	d.stages("stages", want.Stages, got.Stages)
	d.time("completed_at", want.CompletedAt, got.CompletedAt)
	d.eq("total_duration_sec", want.TotalDurationSec, got.TotalDurationSec)
	d.eq("schema_version", want.SchemaVersion, got.SchemaVersion)
	d.str("name", want.Name, got.Name)
	d.str("status", want.Status, got.Status)
	d.str("error", want.Error, got.Error)
	d.str("stack", want.Stack, got.Stack)
	d.str("trace_id", want.TraceID, got.TraceID)
	d.str("span_id", want.SpanID, got.SpanID)
	d.str("parent_span_id", want.ParentSpanID, got.ParentSpanID)
	d.eq("stage_count", want.StageCount, got.StageCount)
	d.eq("missing_stages", want.MissingStages, got.MissingStages)
	d.eq("len(warnings)", len(want.Warnings), len(got.Warnings))
	for i := range min(len(want.Warnings), len(got.Warnings)) {
		d.str(fmt.Sprintf("warnings[%d]", i), want.Warnings[i], got.Warnings[i])
	}
	return d.first
}

type differ struct{ first string }

func (d *differ) fail(field string, want, got any) {
	if d.first == "" {
		d.first = fmt.Sprintf("%s: want %#v, got %#v", field, want, got)
	}
}

func (d *differ) eq(field string, want, got any) {
	if want != got {
		d.fail(field, want, got)
	}
}

func (d *differ) str(field, want, got string) { d.eq(field, jsontest.Decoded(want), got) }

func (d *differ) time(field string, want, got time.Time) {
	if !want.Truncate(time.Microsecond).Equal(got.Truncate(time.Microsecond)) {
		d.fail(field, want.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano))
	}
}

func (d *differ) raw(field string, want, got json.RawMessage) {
	if w, g := jsontest.Compact(want), jsontest.Compact(got); w != g {
		d.fail(field, w, g)
	}
}

func (d *differ) stages(field string, want, got Stages) {
	if len(want) != len(got) {
		d.fail("len("+field+")", len(want), len(got))
		return
	}
	for i := range want {
		w, g := &want[i], &got[i]
		p := fmt.Sprintf("%s[%d]", field, i)
		d.str(p+".key", w.Key, g.Key)
		d.time(p+".start_time", w.StartTime, g.StartTime)
		d.eq(p+".duration_sec", w.DurationSec, g.DurationSec)
		d.raw(p+".data", w.Data, g.Data)
		d.str(p+".error", w.Error, g.Error)
		d.str(p+".name", w.Name, g.Name)
		d.eq(p+".attempt", w.Attempt, g.Attempt)
		d.time(p+".end_time", w.EndTime, g.EndTime)
		d.str(p+".status", w.Status, g.Status)
		d.str(p+".span_id", w.SpanID, g.SpanID)
		d.str(p+".data_error", w.DataError, g.DataError)
		d.str(p+".stack", w.Stack, g.Stack)
		d.stages(p+".stages", w.Stages, g.Stages)
	}
}

// checkKeysUnique fails t when a stages object, at any level, would hold a
// key twice once written: a JSON reader keeps only one of them.
func checkKeysUnique(t *testing.T, name string, s Stages) {
	t.Helper()
	seen := make(map[string]bool, len(s))
	for _, st := range s {
		k := jsontest.Decoded(st.Key)
		if seen[k] {
			t.Fatalf("%s: key %q twice at one level", name, k)
		}
		seen[k] = true
		checkKeysUnique(t, name, st.Stages)
	}
}

// FuzzJournal feeds arbitrary bytes to the journal reader and, when they
// hold a run event, recovers the run from them. Nothing may panic; the
// recovered run encodes to valid JSON that reads back equal; every stage
// whose end is in the journal appears exactly once; every stage that only
// started appears once, as running; and no other stage appears.
func FuzzJournal(f *testing.F) {
	run := `{"e":"run","t":1746486850235518000,"run_id":"af3c980c-3d22-46e8-83cd-7ff99abee586","trace_id":"5747a6e05747a6e00000000000000001","span_id":"5a00000000000002","name":"etl","args":{"n":1},"pid":1,"host":"h"}` + "\n"
	start := func(id, parent string) string {
		return `{"e":"start","t":1746486851000000000,"span_id":"` + id + `","parent_span_id":"` + parent + `","name":"s","start":1746486851000000000}` + "\n"
	}
	end := func(id, parent, extra string) string {
		return `{"e":"end","t":1746486852000000000,"span_id":"` + id + `","parent_span_id":"` + parent + `","name":"s","start":1746486851000000000,"end":1746486852000000000` + extra + "}\n"
	}
	for _, s := range []string{
		"",
		run,
		run[:len(run)-1],
		run + start("5a00000000000003", "5a00000000000002"),
		run + start("5a00000000000003", "5a00000000000002") + end("5a00000000000003", "5a00000000000002", `,"data":{"rows":1}`),
		run + end("5a00000000000003", "5a00000000000002", "") + end("5a00000000000003", "5a00000000000002", `,"failed":true,"error":"again"`),
		run + start("5a00000000000003", "5a00000000000004") + start("5a00000000000004", "5a00000000000003"),
		run + end("5a00000000000003", "5a00000000000003", `,"status":"unfinished","data":null`),
		run + "garbage\n" + `{"e":"nope","t":1}` + "\n" + end("5A0000000000000F", "zz", ""),
		run + run + end("5a00000000000003", "", `,"data_error":"dropped","stack":"goroutine 1"`)[:40],
		strings.Replace(run, "5747a6e05747a6e00000000000000001", "5747a6e05747a6e0000000000000000100", 1),
		strings.Replace(run, `"t":1746486850235518000`, `"t":-1`, 1) + end("0000000000000000", "", `,"end":-9223372036854775808`),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		jc := readJournal(bytes.NewReader(b))
		if jc.run == nil {
			return
		}
		run, err := jc.recoveredRun("fuzz"+JournalSuffix, "", "")
		if err != nil {
			return // a run event with a bad id: reported, not recovered
		}
		for _, enc := range []struct {
			name string
			b    []byte
		}{{"AppendIndent", run.AppendIndent(nil)}, {"MarshalJSON", mustMarshal(run)}} {
			back := checkEncoding(t, enc.name, run, enc.b)
			checkKeysUnique(t, enc.name+" (decoded)", back.Stages)
		}

		ended, started := journalSpanIDs(b)
		seen := map[string]int{}
		run.Stages.Walk(func(st *Stage) {
			seen[st.SpanID]++
			switch ev := ended[st.SpanID]; {
			case ev != nil:
				if st.Name != ev.Name || jsontest.Compact(st.Data) != jsontest.Compact(ev.Data) || st.Error != ev.Error && ev.Failed {
					t.Errorf("stage %s: name %q, data %s, error %q; its end event has name %q, data %s, error %q",
						st.SpanID, st.Name, jsontest.Compact(st.Data), st.Error, ev.Name, jsontest.Compact(ev.Data), ev.Error)
				}
			case started[st.SpanID]:
				if st.Status != StageRunning {
					t.Errorf("stage %q (span %s) only started, but its status is %q", st.Key, st.SpanID, st.Status)
				}
			default:
				t.Errorf("stage %q has span id %s, which no start or end event of the journal has", st.Key, st.SpanID)
			}
		})
		for id := range ended {
			if seen[id] != 1 {
				t.Errorf("stage span %s ended in the journal; the run has %d records of it, want 1", id, seen[id])
			}
		}
		for id := range started {
			if ended[id] == nil && seen[id] != 1 {
				t.Errorf("stage span %s started in the journal; the run has %d records of it, want 1", id, seen[id])
			}
		}
		if n := countStages(run.Stages); n != run.StageCount {
			t.Errorf("stage_count %d, but the run has %d stage records", run.StageCount, n)
		}
	})
}

// journalSpanIDs returns the stages that the journal b says ended, each
// with its first end event, and the span ids of those it says started:
// every complete line that is a valid start or end event. It reads the
// lines itself rather than through readJournal, which it checks.
func journalSpanIDs(b []byte) (ended map[string]*journal.Event, started map[string]bool) {
	ended, started = map[string]*journal.Event{}, map[string]bool{}
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 || line[len(line)-1] != '\n' {
			continue // a torn last line
		}
		var ev journal.Event
		if json.Unmarshal(line, &ev) != nil || (ev.Kind != journal.KindStart && ev.Kind != journal.KindEnd) {
			continue
		}
		s, err := journal.StageOf(&ev)
		if err != nil {
			continue
		}
		id := trace.SpanID(s.SpanID).String()
		if ev.Kind == journal.KindStart {
			started[id] = true
		} else if ended[id] == nil {
			ended[id] = &ev
		}
	}
	return ended, started
}

// FuzzToRun builds the spans of a run from fuzzed input (see decodeToRunInput)
// and checks the conversion: ToRun, and assemble for a run whose run span
// never arrived, never panic; the run encodes to valid JSON that reads back
// equal; there is one stage record per stage span; keys are unique per level;
// a stage's data is what the tracker gave when it is valid and whole, and
// otherwise null with data_error saying why; and the result does not depend
// on the order of the spans.
func FuzzToRun(f *testing.F) {
	for _, in := range toRunSeeds() {
		f.Add(in.encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := decodeToRunInput(b)
		spans := in.spans()
		var run *Run
		if in.noRoot {
			if _, err := ToRun(spans.Snapshots()); err == nil {
				t.Fatal("ToRun without a run span: want an error")
			}
			var recs []stageRecord
			for _, s := range spans.Snapshots() {
				if _, role := classify(s, AttributeRoots); role == roleStage {
					recs = append(recs, newStageRecord(s, nil))
				}
			}
			run = assemble(nil, fuzzRunID, recs, "fuzz: no run span")
		} else {
			var err error
			run, err = ToRun(spans.Snapshots())
			if err != nil {
				t.Fatalf("ToRun: %v", err)
			}
		}

		indented := run.AppendIndent(nil)
		back := checkEncoding(t, "AppendIndent", run, indented)
		checkKeysUnique(t, "AppendIndent (decoded)", back.Stages)
		compact, _ := run.MarshalJSON()
		checkEncoding(t, "MarshalJSON", run, compact)

		if n := countStages(run.Stages); n != len(in.stages) || run.StageCount != n {
			t.Fatalf("%d stage spans, %d stage records, stage_count %d", len(in.stages), n, run.StageCount)
		}
		bySpan := make(map[string]*toRunStage, len(in.stages))
		for i := range in.stages {
			bySpan[stageSpanID(i).String()] = &in.stages[i]
		}
		run.Stages.Walk(func(st *Stage) {
			s := bySpan[st.SpanID]
			if s == nil {
				t.Fatalf("stage %q has span id %s, which no stage span has", st.Key, st.SpanID)
			}
			delete(bySpan, st.SpanID) // a second record of it fails above
			if st.Name != s.name {
				t.Errorf("stage %s: name %q, want %q", st.SpanID, st.Name, s.name)
			}
			whole := s.hasData && json.Valid([]byte(s.data)) && (!s.hasSize || s.size == len(s.data))
			switch {
			case whole && string(st.Data) != s.data:
				t.Errorf("stage %q: data %q, want %q as given", st.Key, st.Data, s.data)
			case !whole && st.Data != nil:
				t.Errorf("stage %q: data %q, want null: given %q (has %v), data_size %d (has %v)", st.Key, st.Data, s.data, s.hasData, s.size, s.hasSize)
			case !whole && (s.hasData || s.hasSize) && st.DataError == "":
				t.Errorf("stage %q: data null without data_error: given %q (has %v), data_size %d (has %v)", st.Key, s.data, s.hasData, s.size, s.hasSize)
			}
		})

		// The same spans in reverse order make the same file.
		rev := slices.Clone(spans)
		slices.Reverse(rev)
		var again *Run
		if in.noRoot {
			var recs []stageRecord
			for _, s := range rev.Snapshots() {
				if _, role := classify(s, AttributeRoots); role == roleStage {
					recs = append(recs, newStageRecord(s, nil))
				}
			}
			again = assemble(nil, fuzzRunID, recs, "fuzz: no run span")
		} else {
			again, _ = ToRun(rev.Snapshots())
		}
		if b2 := again.AppendIndent(nil); !bytes.Equal(b2, indented) {
			t.Fatalf("the order of the spans changes the run file:\n%s\nreversed:\n%s", indented, b2)
		}
	})
}

const fuzzRunID = "af3c980c-3d22-46e8-83cd-7ff99abee586"

// fuzzT0 is the time the fuzzed offsets count from.
var fuzzT0 = time.Date(2025, 5, 5, 23, 14, 10, 235518000, time.UTC)

// toRunInput is the run that FuzzToRun builds spans for.
type toRunInput struct {
	noRoot       bool   // no run span: the run is assembled as incomplete
	failed       bool   // the run span's status is Error, with errMsg
	errMsg       string //
	status       string // keys.RunStatus, "" for none
	args         string
	hasArgs      bool
	argsSize     int // keys.RunArgsSize, when hasArgsSize
	hasArgsSize  bool
	stageCount   int // keys.RunStageCount, when hasStageCount
	hasCount     bool
	dropped      int // the run span's dropped attribute count
	start, end   time.Time
	stages       []toRunStage
	foreignFirst bool // put the span of another tracer first rather than last
}

// toRunStage is one stage span.
type toRunStage struct {
	name       string
	parent     int  // 0: the run span; k: the span of stage k-1, itself and later ones included
	parentAttr bool // give the parent by keys.StageParent, under a foreign span
	data       string
	hasData    bool
	size       int // keys.StageDataSize, when hasSize
	hasSize    bool
	dataErr    string // keys.StageDataError, "" for none
	failed     bool   // status Error with errMsg
	errMsg     string
	unfinished bool // keys.StageStatus = unfinished
	dropped    int
	start, end time.Time
}

// maxFuzzStages bounds the stages of one FuzzToRun input.
const maxFuzzStages = 64

// decodeToRunInput turns any bytes into a run. The format, which encode
// writes for the seeds, is a header and then one record per stage:
//
//	header: flags byte, args str, args size delta byte, stage count byte,
//	        error str, start time, end time
//	stage:  flags byte, parent byte, name str, data str, size delta byte,
//	        data error str, error str, dropped byte, start time, end time
//
// A str is a length byte and that many bytes; a time is 4 bytes, a signed
// offset from fuzzT0 in units of 999,999 ns (so sub-microsecond digits
// vary), except that the offset math.MinInt32 is the zero time. A size delta
// is a signed byte added to the length of the value it describes. Missing
// bytes read as zero.
func decodeToRunInput(b []byte) toRunInput {
	r := fuzzReader{b: b}
	var in toRunInput
	h := r.byte()
	in.noRoot = h&1 != 0
	in.failed = h&2 != 0
	in.hasArgs = h&4 != 0
	in.hasArgsSize = h&8 != 0
	in.hasCount = h&16 != 0
	in.status = [...]string{"", keys.StatusInterrupted, keys.StatusCrashed, "weird\n"}[h>>5&3]
	in.foreignFirst = h&128 != 0
	in.args = r.str()
	in.argsSize = len(in.args) + int(int8(r.byte()))
	in.stageCount = int(r.byte())
	in.errMsg = r.str()
	in.start, in.end = r.time(), r.time()
	if in.hasCount && in.stageCount == 255 {
		in.dropped = 1
	}
	for len(r.b) > 0 && len(in.stages) < maxFuzzStages {
		var s toRunStage
		sf := r.byte()
		s.hasData = sf&1 != 0
		s.hasSize = sf&2 != 0
		s.failed = sf&4 != 0
		s.unfinished = sf&8 != 0
		s.parentAttr = sf&16 != 0
		s.parent = int(r.byte())
		s.name = r.str()
		s.data = r.str()
		s.size = len(s.data) + int(int8(r.byte()))
		s.dataErr = r.str()
		s.errMsg = r.str()
		s.dropped = int(r.byte())
		s.start, s.end = r.time(), r.time()
		in.stages = append(in.stages, s)
	}
	for i := range in.stages {
		in.stages[i].parent %= len(in.stages) + 1
	}
	return in
}

// encode is the inverse of decodeToRunInput, for writing seeds.
func (in toRunInput) encode() []byte {
	var w fuzzWriter
	h := byte(0)
	for i, bit := range []bool{in.noRoot, in.failed, in.hasArgs, in.hasArgsSize, in.hasCount} {
		if bit {
			h |= 1 << i
		}
	}
	h |= byte(slices.Index([]string{"", keys.StatusInterrupted, keys.StatusCrashed, "weird\n"}, in.status)) << 5
	if in.foreignFirst {
		h |= 128
	}
	w.byte(h)
	w.str(in.args)
	w.byte(byte(int8(in.argsSize - len(in.args))))
	w.byte(byte(in.stageCount))
	w.str(in.errMsg)
	w.time(in.start)
	w.time(in.end)
	for _, s := range in.stages {
		sf := byte(0)
		for i, bit := range []bool{s.hasData, s.hasSize, s.failed, s.unfinished, s.parentAttr} {
			if bit {
				sf |= 1 << i
			}
		}
		w.byte(sf)
		w.byte(byte(s.parent))
		w.str(s.name)
		w.str(s.data)
		w.byte(byte(int8(s.size - len(s.data))))
		w.str(s.dataErr)
		w.str(s.errMsg)
		w.byte(byte(s.dropped))
		w.time(s.start)
		w.time(s.end)
	}
	return w.b
}

func stageSpanID(i int) trace.SpanID {
	var id trace.SpanID
	binary.BigEndian.PutUint64(id[:], 0x5a00000000000100+uint64(i))
	return id
}

var (
	fuzzTraceID    = trace.TraceID{0: 0x57, 15: 1}
	fuzzRootSpanID = trace.SpanID{0: 0x5a, 7: 1}
	fuzzOtherSpan  = trace.SpanID{0: 0x0f, 7: 1} // the span a library puts between a stage and its child
)

func fuzzSC(id trace.SpanID) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: fuzzTraceID, SpanID: id, TraceFlags: trace.FlagsSampled})
}

// spans returns the spans of the run, stages in input order, then the run
// span (unless noRoot), and a span of another tracer and trace, which must
// be ignored.
func (in toRunInput) spans() tracetest.SpanStubs {
	scope := instrumentation.Scope{Name: keys.ScopeName}
	var out tracetest.SpanStubs
	for i, s := range in.stages {
		attrs := []attribute.KeyValue{
			attribute.String(keys.StageName, s.name),
			attribute.String(keys.RunID, fuzzRunID),
		}
		parent := fuzzSC(fuzzRootSpanID)
		if s.parent > 0 {
			parent = fuzzSC(stageSpanID(s.parent - 1))
		}
		if s.parentAttr {
			attrs = append(attrs, attribute.String(keys.StageParent, parent.SpanID().String()))
			parent = fuzzSC(fuzzOtherSpan)
		}
		if s.hasData {
			attrs = append(attrs, attribute.String(keys.StageData, s.data))
		}
		if s.hasSize {
			attrs = append(attrs, attribute.Int(keys.StageDataSize, s.size))
		}
		if s.dataErr != "" {
			attrs = append(attrs, attribute.String(keys.StageDataError, s.dataErr))
		}
		if s.unfinished {
			attrs = append(attrs, attribute.String(keys.StageStatus, keys.StatusUnfinished))
		}
		st := sdktrace.Status{}
		if s.failed {
			st = sdktrace.Status{Code: codes.Error, Description: s.errMsg}
		}
		out = append(out, tracetest.SpanStub{
			Name:                 s.name,
			SpanContext:          fuzzSC(stageSpanID(i)),
			Parent:               parent,
			StartTime:            s.start,
			EndTime:              s.end,
			Attributes:           attrs,
			Status:               st,
			DroppedAttributes:    s.dropped,
			InstrumentationScope: scope,
		})
	}
	if !in.noRoot {
		attrs := []attribute.KeyValue{attribute.String(keys.RunID, fuzzRunID)}
		if in.hasArgs {
			attrs = append(attrs, attribute.String(keys.RunArgs, in.args))
		}
		if in.hasArgsSize {
			attrs = append(attrs, attribute.Int(keys.RunArgsSize, in.argsSize))
		}
		if in.hasCount {
			attrs = append(attrs, attribute.Int(keys.RunStageCount, in.stageCount))
		}
		if in.status != "" {
			attrs = append(attrs, attribute.String(keys.RunStatus, in.status))
		}
		st := sdktrace.Status{}
		if in.failed {
			st = sdktrace.Status{Code: codes.Error, Description: in.errMsg}
		}
		out = append(out, tracetest.SpanStub{
			Name:                 in.errMsg,
			SpanContext:          fuzzSC(fuzzRootSpanID),
			StartTime:            in.start,
			EndTime:              in.end,
			Attributes:           attrs,
			Status:               st,
			DroppedAttributes:    in.dropped,
			InstrumentationScope: scope,
		})
	}
	// Of another trace, naming no run: not part of the run (the run
	// convention makes a span that names no run a stage of its trace's run).
	otherTrace := trace.TraceID{0: 0x0f, 15: 1}
	foreign := tracetest.SpanStub{
		Name:        "db.query",
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: otherTrace, SpanID: fuzzOtherSpan, TraceFlags: trace.FlagsSampled}),
		Parent:      trace.NewSpanContext(trace.SpanContextConfig{TraceID: otherTrace, SpanID: fuzzRootSpanID, TraceFlags: trace.FlagsSampled}),
		StartTime:   in.start,
		EndTime:     in.end,
		Attributes: []attribute.KeyValue{
			attribute.String("db.statement", "SELECT 1"),
		},
		InstrumentationScope: instrumentation.Scope{Name: "database/sql"},
	}
	if in.foreignFirst {
		return append(tracetest.SpanStubs{foreign}, out...)
	}
	return append(out, foreign)
}

type fuzzReader struct{ b []byte }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *fuzzReader) str() string {
	n := min(int(r.byte()), len(r.b))
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// timeUnit is the unit of fuzzed time offsets: just under a millisecond, so
// that every digit below the microsecond varies.
const timeUnit = 999_999 * time.Nanosecond

func (r *fuzzReader) time() time.Time {
	var v uint32
	for range 4 {
		v = v<<8 | uint32(r.byte())
	}
	if int32(v) == math.MinInt32 {
		return time.Time{}
	}
	return fuzzT0.Add(time.Duration(int32(v)) * timeUnit)
}

type fuzzWriter struct{ b []byte }

func (w *fuzzWriter) byte(c byte) { w.b = append(w.b, c) }

func (w *fuzzWriter) str(s string) {
	if len(s) > 255 {
		panic("fuzz seed string longer than 255 bytes") // a bug in a seed, not in the code
	}
	w.b = append(w.b, byte(len(s)))
	w.b = append(w.b, s...)
}

func (w *fuzzWriter) time(t time.Time) {
	v := int32(math.MinInt32)
	if !t.IsZero() {
		v = int32(t.Sub(fuzzT0) / timeUnit)
	}
	w.b = binary.BigEndian.AppendUint32(w.b, uint32(v))
}

// at returns the time n units after fuzzT0.
func at(n int) time.Time { return fuzzT0.Add(time.Duration(n) * timeUnit) }

// toRunSeeds are readable runs for FuzzToRun to start from.
func toRunSeeds() []toRunInput {
	ok := func(name string, parent int, data string, start, end int) toRunStage {
		return toRunStage{name: name, parent: parent, data: data, hasData: true, size: len(data), hasSize: true, start: at(start), end: at(end)}
	}
	quickstart := toRunInput{
		hasArgs: true, args: `"Reconnaissance_M1"`, hasArgsSize: true, argsSize: 19,
		hasCount: true, stageCount: 2, errMsg: "Reconnaissance_M1", start: at(0), end: at(10),
		stages: []toRunStage{
			ok("Detection", 0, `{"status":"clean"}`, 1, 4),
			ok("Enrichment", 0, `{"added_cves":3}`, 5, 9),
		},
	}
	nested := quickstart
	nested.stages = []toRunStage{
		ok("extract", 0, `{"tables":2}`, 1, 9),
		ok("table", 1, `{"table":"users"}`, 2, 4),
		ok("query", 2, `{"rows":500}`, 3, 4),
		ok("table", 1, `{"table":"orders"}`, 5, 8),
		ok("query", 4, `{"rows":600}`, 6, 7),
		ok("load", 0, `[1,2,3]`, 9, 10),
	}
	nested.stageCount = 6
	nested.stages[2].parentAttr = true
	repeated := quickstart
	repeated.stages = nil
	for i, name := range []string{"parse", "parse#2", "parse", "merge", "merge", "merge#2", "", "#", "a#1"} {
		repeated.stages = append(repeated.stages, ok(name, 0, strconv.Quote(name), i, i))
	}
	repeated.stageCount = 9
	hostile := toRunInput{
		failed: true, errMsg: "boom\nline\u2028", status: keys.StatusCrashed, hasArgs: true, args: `{"a":`,
		start: at(100), end: at(-100), foreignFirst: true,
		stages: []toRunStage{
			{name: "\xff", hasData: true, data: "\"\xff\"", start: at(0), end: at(-5)},
			{name: "\xfe", hasData: true, data: `nope`, start: at(0), end: at(1)},
			{name: "�", hasData: true, data: `{"big":1}`, hasSize: true, size: 99, start: at(0), end: at(1)},
			{name: "line\nbreak/../x", hasSize: true, size: 3, start: time.Time{}, end: time.Time{}},
			{name: "cycle-a", parent: 6, data: " 1 ", hasData: true, start: at(3), end: at(2)},
			{name: "cycle-b", parent: 5, failed: true, start: at(3), end: at(4), dropped: 3},
			{name: "self", parent: 7, parentAttr: true, unfinished: true, dataErr: "data cannot be encoded", start: at(1), end: at(1)},
			{name: "", hasData: true, data: "", start: at(math.MaxInt32), end: at(math.MinInt32 + 1)},
		},
	}
	noRoot := hostile
	noRoot.noRoot = true
	return []toRunInput{quickstart, nested, repeated, hostile, noRoot}
}

// FuzzAppendString checks the hand-written JSON string encoder against
// encoding/json: both read back as the same string, invalid UTF-8 becoming
// U+FFFD in each, and its output is valid UTF-8 with U+2028 and U+2029
// escaped.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{
		"", "plain", `"quoted" \back\slash/`, "\x00\x01\x1f\x7f", "\t\n\r\b\f",
		"\xff", "a\xffb\xfe", "\xed\xa0\x80", "\xef\xbf\xbd", "\xf4\x90\x80\x80", "\xe2\x82",
		"\u2028\u2029", "<script>&amp;</script>", "日本語", "🙂", "\U0010FFFF",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := jsonscalar.AppendText([]byte("x"), s)[1:]
		if !utf8.Valid(out) {
			t.Fatalf("jsonscalar.AppendText(%q) = %q: not valid UTF-8", s, out)
		}
		if bytes.ContainsRune(out, '\u2028') || bytes.ContainsRune(out, '\u2029') {
			t.Fatalf("jsonscalar.AppendText(%q) = %q: U+2028 or U+2029 not escaped", s, out)
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("jsonscalar.AppendText(%q) = %q: %v", s, out, err)
		}
		ref, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("json.Marshal(%q): %v", s, err)
		}
		var want string
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatalf("json.Unmarshal(%q): %v", ref, err)
		}
		if got != want {
			t.Fatalf("jsonscalar.AppendText(%q) = %q reads back as %q; encoding/json's %q reads back as %q", s, out, got, ref, want)
		}
		if want != jsontest.Decoded(s) {
			t.Fatalf("jsontest.Decoded(%q) = %q, encoding/json reads back %q", s, jsontest.Decoded(s), want)
		}
	})
}

var writeFuzzSeeds = flag.Bool("fuzz-seeds", false, "rewrite the generated seed files in testdata/fuzz")

// TestWriteFuzzSeeds writes the seed files that are made rather than written
// by hand: the golden run files, a real journal with torn copies of it, and
// the FuzzToRun seeds in their byte form. It only runs with -fuzz-seeds; the
// files it wrote are committed and run by every `go test`.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeFuzzSeeds {
		t.Skip("writes seed files; run with -fuzz-seeds")
	}
	golden, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil || len(golden) == 0 {
		t.Fatalf("golden run files: %v (%d)", err, len(golden))
	}
	for _, g := range golden {
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(g), ".json")
		writeSeed(t, "FuzzReadRunFile", "golden-"+name, b)
		// The same run as one history line, and torn.
		var r Run
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		line, _ := r.MarshalJSON()
		writeSeed(t, "FuzzReadRunFile", "history-line-"+name, line)
		writeSeed(t, "FuzzReadRunFile", "torn-"+name, b[:len(b)*2/3])
	}

	j := realJournal(t)
	writeSeed(t, "FuzzJournal", "real", j)
	lines := bytes.SplitAfter(j, []byte("\n"))
	writeSeed(t, "FuzzJournal", "torn-mid-line", j[:len(j)-len(lines[len(lines)-2])/2-1])
	writeSeed(t, "FuzzJournal", "torn-after-run-event", j[:len(lines[0])+7])
	writeSeed(t, "FuzzJournal", "no-run-event", j[len(lines[0]):])
	writeSeed(t, "FuzzJournal", "zero-filled-tail", append(slices.Clone(j), make([]byte, 64)...))
	writeSeed(t, "FuzzJournal", "crlf", bytes.ReplaceAll(j, []byte("\n"), []byte("\r\n")))

	for i, in := range toRunSeeds() {
		writeSeed(t, "FuzzToRun", fmt.Sprintf("seed-%d", i), in.encode())
	}

	// A run file as the Python stage-tracker writes it: its six fields only.
	writeSeed(t, "FuzzReadRunFile", "python-stage-tracker", []byte(`{
    "run_id": "af3c980c-3d22-46e8-83cd-7ff99abee586",
    "start_time": "2025-05-05T23:14:10.235518",
    "args": "Reconnaissance_M1",
    "stages": {
        "Detection": {"start_time": "2025-05-05T23:14:10.235600+00:00", "duration_sec": 0.000012, "data": {"status": "clean"}, "error": null},
        "Enrichment": {"start_time": "2025-05-05T23:14:10.235700+00:00", "duration_sec": 1e-06, "data": null, "error": "boom"}
    },
    "completed_at": "2025-05-05T23:14:10.235800+00:00",
    "total_duration_sec": 0.000282
}`))

	// The inputs behind the fixes these targets led to, by name.
	runEvent := `{"e":"run","t":1746486850235518000,"run_id":"af3c980c-3d22-46e8-83cd-7ff99abee586","trace_id":"5747a6e05747a6e00000000000000001","span_id":"5a00000000000002","pid":1,"host":"h"}` + "\n"
	writeSeed(t, "FuzzReadRunFile", "crasher-year-minus-1-in-utc", []byte(`{"start_time":"0000-01-01T00:30:00+01:00"}`))
	writeSeed(t, "FuzzReadRunFile", "crasher-year-10000-in-utc", []byte(`{"stages":{"a":{"end_time":"9999-12-31T23:30:00-01:00"}}}`))
	writeSeed(t, "FuzzJournal", "crasher-trace-id-too-long", []byte(strings.Replace(runEvent, `00001"`, `0000100"`, 1)))
	writeSeed(t, "FuzzJournal", "crasher-parent-cycle", []byte(runEvent+
		`{"e":"end","t":2,"span_id":"5a00000000000003","parent_span_id":"5a00000000000004","name":"a","start":1,"end":2}`+"\n"+
		`{"e":"start","t":3,"span_id":"5a00000000000004","parent_span_id":"5a00000000000003","name":"b","start":3}`+"\n"))
	writeSeed(t, "FuzzToRun", "crasher-invalid-utf8-names-and-data", toRunSeeds()[3].encode())
	// FuzzAppendEvent's corpus is internal/journal's, where it moved.

	for name, s := range map[string]string{
		"controls":        "\x00\x01\x1f\x7f\t\n\r\b\f\"\\/",
		"invalid-utf8":    "a\xffb\xfe\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82",
		"replacement":     "\ufffd\xef\xbf\xbd",
		"line-separators": "\u2028\u2029\u0085",
		"html":            "<script>&amp;</script>",
		"multibyte":       "日本語🙂\U0010FFFF",
	} {
		dir := filepath.Join("testdata", "fuzz", "FuzzAppendString")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		content := "go test fuzz v1\nstring(" + strconv.Quote(s) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeSeed writes b as a one-value []byte corpus file.
func writeSeed(t *testing.T, target, name string, b []byte) {
	t.Helper()
	writeCorpusFile(t, target, name, b)
}

// writeCorpusFile writes vals as a corpus file of target, in the format of
// `go test fuzz v1`.
func writeCorpusFile(t *testing.T, target, name string, vals ...any) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	content := "go test fuzz v1\n"
	for _, v := range vals {
		switch v := v.(type) {
		case []byte:
			content += "[]byte(" + strconv.Quote(string(v)) + ")\n"
		case string:
			content += "string(" + strconv.Quote(v) + ")\n"
		case int64, int, bool:
			content += fmt.Sprintf("%T(%v)\n", v, v)
		default:
			t.Fatalf("corpus value of type %T", v)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// realJournal runs a pipeline through NewProcessor and returns its journal
// as it stood before Finalize: the run event, stages that started and ended
// (nested, failed, with data that cannot be encoded) and one still running.
func realJournal(t *testing.T) []byte {
	dir := t.TempDir()
	exp, err := New(WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewProcessor(exp)))
	defer tp.Shutdown(context.Background())
	var (
		mu  sync.Mutex
		now = fuzzT0
	)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(1234567 * time.Microsecond)
		return now
	}
	tr := tracker.New(tracker.WithTracerProvider(tp), tracker.WithClock(clock))
	ctx, run := tr.Start(t.Context(), map[string]any{"model": "resnet50", "epochs": 2}, tracker.WithRunID(fuzzRunID), tracker.WithRunName("train"))
	if err := run.Stage(ctx, "load", func(ctx context.Context) (any, error) {
		return map[string]any{"rows": 120000}, run.Stage(ctx, "read\nshard#1", func(context.Context) (any, error) {
			return []any{"a.parquet", 1.5, nil}, nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	_, s := run.StartStage(ctx, "train")
	s.End(map[string]any{"epoch": 1, "loss": 0.75}, fmt.Errorf("CUDA out of memory"))
	_, s = run.StartStage(ctx, "train")
	s.End(map[string]any{"ch": make(chan int)}, nil)
	run.StartStage(ctx, "evaluate") // still running when the journal is copied

	j, err := os.ReadFile(filepath.Join(dir, fuzzRunID+JournalSuffix))
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Finalize(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The host name of the machine that made the seed is nobody's business.
	if host, _ := os.Hostname(); host != "" {
		j = bytes.ReplaceAll(j, []byte(strconv.Quote(host)), []byte(`"seed-host"`))
	}
	return j
}

func mustMarshal(r *Run) []byte {
	b, _ := r.MarshalJSON()
	return b
}

func countStages(s Stages) int {
	n := 0
	s.Walk(func(*Stage) { n++ })
	return n
}

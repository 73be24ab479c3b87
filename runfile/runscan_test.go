package runfile

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// runSeeds are runs the scanner and encoding/json must read alike.
var runSeeds = []struct{ name, in string }{
	{"empty", `{}`},
	{"plain", `{"run_id":"00000000-0000-4000-8000-000000000001","start_time":"2025-05-05T23:14:10.235518+00:00","args":{"a":1},"stages":{"a":{"start_time":"2025-05-05T23:14:10.235518+00:00","duration_sec":1,"status":"ok"}},"completed_at":"2025-05-05T23:14:11.235518+00:00","total_duration_sec":1,"schema_version":2,"name":"n","status":"ok","error":null,"trace_id":"","span_id":"","stage_count":1,"warnings":["w"],"host":"h","pid":3}`},
	{"python", `{"run_id":"x","start_time":"2025-05-05T23:14:10","args":null,"stages":{"a":{"start_time":"2025-05-05T23:14:10.5","duration_sec":null,"data":null,"error":null}},"completed_at":null,"total_duration_sec":null}`},
	{"stages first, null, duplicated", `{"stages":{"a":{}},"name":"x","stages":null}`},
	{"stages last wins", `{"stages":null,"stages":{"b":{"name":"c"}}}`},
	{"upper-case keys", `{"STAGES":{"a":{}},"Run_ID":"r","Status":"ok","Stages":{"b":{}}}`},
	{"folded stages key", "{\"\u017ftages\":{\"a\":{}}}"},
	{"escaped stages key", `{"st\u0061ges":{"a":{}}}`},
	{"version 1 re-keyed", `{"schema_version":1,"stages":{"e":{"name":"e"},"e#2":{"name":"e"}}}`},
	{"unknown keys", `{"x":[1,{"stages":"}"}],"provenance":{"git":"abc"},"stages":{}}`},
	{"white space", " {\n \"run_id\" :\t\"r\" , \"stages\" : { } \r\n} "},
	{"wrong type", `{"run_id":1,"stages":{}}`},
	{"bad stages", `{"stages":[]}`},
	{"bad stage", `{"stages":{"a":{"attempt":"x"}}}`},
	{"bad time", `{"start_time":"yesterday","stages":{}}`},
	{"year 10000", `{"completed_at":"9999-12-31T23:30:00-01:00"}`},
	{"duplicate warnings", `{"warnings":["a"],"warnings":null}`},
	{"null", `null`},
	{"array", `[]`},
	{"number", `1`},
}

// slowRun is UnmarshalJSON without the scanner: the reference.
func slowRun(b []byte) (*Run, error) {
	if Nesting(b) > MaxNesting {
		return nil, nil
	}
	var j runJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, err
	}
	var r Run
	return &r, r.set(&j)
}

// TestScanRunSameAsDecoder checks that reading a run with the scanner
// gives what encoding/json alone gives, on the seeds and on every run
// file in the repository's test data, and that the writers' files take
// the scanner's way.
func TestScanRunSameAsDecoder(t *testing.T) {
	for _, c := range runSeeds {
		t.Run(c.name, func(t *testing.T) { sameRun(t, []byte(c.in)) })
	}
	files, _ := filepath.Glob("../exporter/jsonrun/testdata/golden/*.json")
	more, _ := filepath.Glob("../cmd/stagetrack/internal/cli/testdata/*/*.json")
	for _, f := range append(files, more...) {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var top map[string]json.RawMessage
			if json.Unmarshal(b, &top) != nil || top["stages"] == nil {
				t.Skip("not a run file")
			}
			var r Run
			if !r.scan(b) {
				t.Errorf("the scanner leaves a file the writers wrote to encoding/json")
			}
			sameRun(t, b)
		})
	}
}

func FuzzScanRun(f *testing.F) {
	for _, c := range runSeeds {
		f.Add([]byte(c.in))
	}
	f.Fuzz(sameRun)
}

func sameRun(t *testing.T, b []byte) {
	if !json.Valid(b) || Nesting(b) > MaxNesting {
		return // decode does not scan these
	}
	want, werr := slowRun(b)
	var got Run
	if !got.scan(b) {
		if werr == nil && b[0] == '{' && !strings.Contains(string(b), `\`) && !hasNonASCII(b) {
			// Not an error: the slow way reads it. Only say so for input
			// the scanner is meant to read.
			t.Logf("%q: the scanner leaves it to encoding/json", b)
		}
		return
	}
	if werr != nil {
		t.Fatalf("scanned %q, which encoding/json refuses: %v", b, werr)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Fatalf("%q:\n scanned %#v\ndecoded %#v", b, got, *want)
	}
	// And the public way, which takes the scanner's.
	var pub Run
	if err := json.Unmarshal(b, &pub); err != nil || !reflect.DeepEqual(&pub, want) {
		t.Fatalf("%q: json.Unmarshal gives %#v, %v", b, pub, err)
	}
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

func TestScanRunNeverPanics(t *testing.T) {
	in := runSeeds[1].in
	for i := range len(in) + 1 {
		for _, s := range []string{in[:i], in[:i] + "}", strings.Repeat("{", i)} {
			var r Run
			r.scan([]byte(s))
		}
	}
}

// TestReadRegularSized checks that a file is read whole whatever its size
// against the buffer: empty, smaller, exactly the size, larger.
func TestReadRegularSized(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 70_000} {
		p := filepath.Join(dir, "f")
		want := []byte(strings.Repeat("x", n))
		if err := os.WriteFile(p, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadRegular(p)
		if err != nil || string(got) != string(want) {
			t.Fatalf("%d bytes: read %d, %v", n, len(got), err)
		}
	}
	// A file that grew after Stat: the sized buffer is outgrown.
	want := strings.Repeat("y", 10_000)
	got, err := readSized(strings.NewReader(want), 10)
	if err != nil || string(got) != want {
		t.Fatalf("grown: read %d bytes, %v", len(got), err)
	}
}

// TestScanStagesSizedOnce checks that the run's stages are allocated once,
// at their number: a slice grown by appending has room to spare.
func TestScanStagesSizedOnce(t *testing.T) {
	for _, n := range []int{1, 2, 5, 1000} {
		var b strings.Builder
		b.WriteString(`{"stages":{`)
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"s%d":{"status":"ok","stages":{"x":{},"y":{}}}`, i)
		}
		b.WriteString(`}}`)
		var r Run
		if !r.scan([]byte(b.String())) {
			t.Fatalf("%d stages: not scanned", n)
		}
		if len(r.Stages) != n || cap(r.Stages) != n {
			t.Errorf("%d stages: len %d, cap %d; want both %d", n, len(r.Stages), cap(r.Stages), n)
		}
	}
}

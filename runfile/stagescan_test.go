package runfile

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// stageSeeds are stages objects the two decoders must agree on: what the
// writers write, and what a file may say otherwise.
var stageSeeds = []struct{ name, in string }{
	{"empty", `{}`},
	{"null", `null`},
	{"plain", `{"a":{"start_time":"2025-05-05T23:14:10.235518+00:00","end_time":"2025-05-05T23:14:11.235518+00:00","duration_sec":1,"status":"ok","data":{"rows":1},"span_id":"0000000000000001","attempt":1,"name":"a"}}`},
	{"python", `{"a":{"start_time":"2025-05-05T23:14:10.235518","end_time":"2025-05-05T23:14:11","duration_sec":null,"data":null,"error":null}}`},
	{"no duration, no end", `{"a":{"start_time":"2025-05-05T23:14:10Z"}}`},
	{"nested", `{"t":{"stages":{"e#1":{"name":"e","attempt":1},"e":{"name":"e","attempt":2,"stages":null}}}}`},
	{"escaped key and name", `{"a\"b\u00e9":{"name":"a\"b\u00e9"},"x\\\\y":{"name":"x\\y"}}`},
	{"name with a backslash equal to the key's text", `{"x\\\\y":{"name":"x\\\\y"},"p\\\\q":{"name":"p\\q"}}`},
	{"upper-case fields", `{"a":{"STATUS":"error","Error":"boom","Name":"n","ATTEMPT":3,"Stages":{"b":{}}}}`},
	{"folded fields", "{\"a\":{\"\u017ftages\":{\"b\":{}},\"stac\u212a\":\"s\",\"\u017ftatus\":\"x\"}}"},
	{"duplicates and nulls", `{"a":{"status":"ok","status":null,"attempt":2,"attempt":null,"name":"x","name":null,"error":"e","error":null,"data":1,"data":null,"duration_sec":1,"duration_sec":null,"stages":{"b":{}},"stages":null}}`},
	{"unknown fields", `{"a":{"x":[1,{"y":"}"}],"z":"\"","w":null,"v":true,"u":-1.5e3}}`},
	{"white space", " {\n \"a\" :\t{ \"status\" : \"ok\" , \"data\" : [ 1 , 2 ] } \r\n} "},
	{"invalid UTF-8", "{\"a\xff\":{\"name\":\"b\xfe\",\"status\":\"\xff\"}}"},
	{"wrong types", `{"a":{"attempt":"1"}}`},
	{"float attempt", `{"a":{"attempt":1.0}}`},
	{"huge duration", `{"a":{"duration_sec":1e400}}`},
	{"string duration", `{"a":{"duration_sec":"1"}}`},
	{"bad time", `{"a":{"start_time":"yesterday"}}`},
	{"year 10000", `{"a":{"start_time":"9999-12-31T23:30:00-01:00"}}`},
	{"stage not an object", `{"a":[1]}`},
	{"stages not an object", `{"a":{"stages":[]}}`},
	{"escaped time", `{"a":{"start_time":"2025-05-05T23:14:10\u002e5Z"}}`},
	{"timed out", `{"a":{"status":"error","error":"timed out after 2s","timed_out":true},"b":{"timed_out":false}}`},
	{"timed out: null and duplicates", `{"a":{"timed_out":true,"timed_out":null},"b":{"TIMED_OUT":true,"timed_out":false}}`},
	{"timed out: wrong type", `{"a":{"timed_out":"yes"}}`},
	{"timed out: number", `{"a":{"timed_out":1}}`},
	{"inputs and outputs", `{"a":{"inputs":[{"path":"d.csv","size":3,"mtime":"2025-05-05T23:14:10.235518+00:00","sha256":"ab"},{"path":"m","size":0,"mtime":null}],"outputs":[],"tools":{"python":"Python 3.11.2"}}}`},
	{"inputs: null and duplicates", `{"a":{"inputs":[{"path":"x"}],"inputs":null,"tools":{"a":"1"},"tools":{"b":"2"},"OUTPUTS":[{"path":"y"}],"outputs":[{"size":1}]}}`},
	{"inputs: naive mtime", `{"a":{"inputs":[{"path":"x","mtime":"2025-05-05T23:14:10"}]}}`},
	{"inputs: wrong types", `{"a":{"inputs":{"path":"x"}}}`},
	{"inputs: bad mtime", `{"a":{"inputs":[{"mtime":"yesterday"}]}}`},
	{"inputs: year 10000", `{"a":{"inputs":[{"mtime":"9999-12-31T23:30:00-01:00"}]}}`},
	{"tools: not strings", `{"a":{"tools":{"python":3}}}`},
	{"array", `[]`},
	{"number", `1`},
}

// TestScanStagesSameAsDecoder checks scanStages against the token decoder
// on the seeds and on the stages of every run file in the repository's
// test data.
func TestScanStagesSameAsDecoder(t *testing.T) {
	for _, c := range stageSeeds {
		t.Run(c.name, func(t *testing.T) { sameStages(t, []byte(c.in)) })
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
			if _, _, ok := scanStages(top["stages"]); !ok {
				t.Errorf("the scanner leaves a file the writers wrote to the token decoder")
			}
			sameStages(t, top["stages"])
		})
	}
}

func FuzzScanStages(f *testing.F) {
	for _, c := range stageSeeds {
		f.Add([]byte(c.in))
	}
	f.Fuzz(sameStages)
}

func sameStages(t *testing.T, b []byte) {
	if !json.Valid(b) || Nesting(b) > MaxNesting {
		return // decodeStages does not scan these
	}
	want, wantNaive, err := decodeStagesFrom(json.NewDecoder(bytes.NewReader(b)))
	got, gotNaive, ok := scanStages(b)
	if !ok {
		if err == nil {
			t.Fatalf("%q: the decoder reads it, the scanner does not", b)
		}
		return
	}
	if err != nil {
		t.Fatalf("scanned %q, which the decoder refuses: %v", b, err)
	}
	if !reflect.DeepEqual(got, want) || gotNaive != wantNaive {
		t.Fatalf("%q:\n scanned %#v (naive %v)\ndecoded %#v (naive %v)", b, got, gotNaive, want, wantNaive)
	}
}

// FuzzPlainTimestamp checks the timestamp's fast path: a string it takes
// as it is, encoding/json decodes to the same.
func FuzzPlainTimestamp(f *testing.F) {
	for _, s := range []string{`"2025-05-05T23:14:10Z"`, `"a\"b"`, `""`, `"`, `"\u0041"`, "\"\x7f\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !plainString(b) {
			return
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil || s != string(b[1:len(b)-1]) {
			t.Errorf("%q: encoding/json says %q, %v", b, s, err)
		}
	})
}

func TestScanStagesNeverPanics(t *testing.T) {
	in := stageSeeds[2].in
	for i := range len(in) + 1 {
		for _, s := range []string{in[:i], in[:i] + "}", strings.Repeat("{", i)} {
			scanStages([]byte(s))
		}
	}
}

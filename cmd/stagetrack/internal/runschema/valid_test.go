package runschema_test

import (
	"encoding/json"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runschema"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestValidSameAsValidate checks the byte-level check against Validate on
// the repository's run files and their mutations (TestSameAsLibrary's, sampled alike):
// Valid says true only when Validate finds no problem, and false only when
// it finds one (checked on every eighth variant), for documents of the
// writers' form; for the original files, which are valid, it takes the
// quick way.
func TestValidSameAsValidate(t *testing.T) {
	sch, err := runschema.Compile(runfile.Schema())
	if err != nil {
		t.Fatal(err)
	}
	quick := 0
	for name, doc := range corpus(t) {
		for i, m := range mutations(doc) {
			if !sampled(i) {
				continue
			}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			valid := sch.Valid(b)
			if !valid && i%8 != 0 {
				// Validate is the cost: asked for every document Valid
				// passes, which must have no problem, and for every
				// eighth it refuses, which should have one.
				continue
			}
			found, err := sch.Validate(b)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case valid && len(found) > 0:
				t.Fatalf("%s, mutation %d: Valid says yes, Validate finds %d problems:\n%s", name, i, len(found), b)
			case !valid && len(found) == 0:
				t.Fatalf("%s, mutation %d: Valid says no, Validate finds none:\n%s", name, i, b)
			case valid:
				quick++
			}
		}
	}
	if quick == 0 {
		t.Fatal("no document was valid")
	}
}

// FuzzValid: whatever the bytes, Valid never says yes where Validate
// finds a problem.
func FuzzValid(f *testing.F) {
	sch, err := runschema.Compile(runfile.Schema())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{`{}`, `[]`, `{"run_id":1}`, `{"stages":{"a":{"attempt":0}}}`, `{"a":1,"a":2}`,
		`{"run_id":"00000000-0000-4000-8000-000000000001","start_time":null,"args":null,"stages":{},"completed_at":null,"total_duration_sec":0,"schema_version":2,"name":"","status":"ok","error":null,"trace_id":"","span_id":"","stage_count":0}`,
		`{"run_id":"00000000-0000-4000-8000-000000000001","start_time":null,"args":null,"stages":{},"completed_at":null,"total_duration_sec":0,"schema_version":2.0,"name":"","status":"ok","error":null,"trace_id":"","span_id":"","stage_count":1e0,"pid":-0,"warnings":["\u0041"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		found, err := sch.Validate(b)
		if err == nil && sch.Valid(b) && len(found) > 0 {
			t.Fatalf("%q: Valid says yes, Validate finds %d problems", b, len(found))
		}
	})
}

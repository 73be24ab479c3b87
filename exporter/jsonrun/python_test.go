package jsonrun_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// pythonHistory is the Python stage-tracker's history as its finalize
// writes it, made by testdata/python/make_history.py (a reimplementation
// from its documented behaviour).
const pythonHistory = "../../testdata/python/history/pipeline_history.json"

func TestReadRunsPythonHistory(t *testing.T) {
	runs, err := jsonrun.ReadRuns(pythonHistory)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 {
		t.Fatalf("%d runs; want the array's 4", len(runs))
	}
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	stage := func(r *jsonrun.Run, key string) jsonrun.Stage {
		t.Helper()
		st, ok := r.Stages.Get(key)
		if !ok {
			t.Fatalf("run %s: no stage %q", r.RunID, key)
		}
		return st
	}
	for _, tc := range []struct {
		name      string
		run       int
		start     time.Time
		stage     string
		dur       float64
		unknown   bool
		total     float64
		naiveNote bool
		args      string
	}{
		{"null duration from end_time", 0, utc("2025-05-05T23:14:10.235518Z"), "Detection", 2, false, 4.05, false, `"Reconnaissance_M1"`},
		{"no fraction, duration passed", 1, utc("2025-05-06T08:00:00Z"), "Detection", 3, false, 8, false, `{"target": "10.0.0.0/24", "depth": 2}`},
		{"naive timestamps read as UTC", 2, utc("2025-05-04T12:00:00.5Z"), "Enrichment", 1.5, false, 6.5, true, `["--fast", "--dry-run"]`},
		{"null duration, no end_time", 3, utc("2025-05-07T09:30:00Z"), "Detection", 0, true, 5, false, `42`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runs[tc.run]
			if !r.StartTime.Equal(tc.start) {
				t.Errorf("start_time %v; want %v", r.StartTime, tc.start)
			}
			st := stage(r, tc.stage)
			if st.DurationSec != tc.dur || st.DurationUnknown != tc.unknown {
				t.Errorf("%s: duration %v (unknown %v); want %v (unknown %v)", tc.stage, st.DurationSec, st.DurationUnknown, tc.dur, tc.unknown)
			}
			if r.TotalDurationSec != tc.total {
				t.Errorf("total_duration_sec %v; want %v from completed_at", r.TotalDurationSec, tc.total)
			}
			if got := len(r.Notes) > 0 && strings.Contains(r.Notes[0], "read as UTC"); got != tc.naiveNote {
				t.Errorf("notes %q; want the naive-timestamp note: %v", r.Notes, tc.naiveNote)
			}
			var args, want bytes.Buffer
			json.Compact(&args, r.Args)
			json.Compact(&want, []byte(tc.args))
			if args.String() != want.String() {
				t.Errorf("args %s; want %s", &args, &want)
			}
		})
	}
}

// TestUnknownDurationWrittenAsNull: a stage whose duration is unknown is
// written back as null, never as 0.
func TestUnknownDurationWrittenAsNull(t *testing.T) {
	runs, err := jsonrun.ReadRuns(pythonHistory)
	if err != nil {
		t.Fatal(err)
	}
	b, err := runs[3].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"duration_sec":null`)) {
		t.Errorf("unknown duration not written as null: %s", b)
	}
}

func TestReadRunsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string
		runs          int
	}{
		{"bad element named by index", `[{"run_id":"a","start_time":"2025-05-05T23:14:10+00:00"},{"run_id":"b","start_time":"yesterday"}]`,
			[]string{"h.json[1]: ", `"yesterday" is not an ISO 8601 time`}, 1},
		{"not a run", `[{"run_id":"a"},{"x":1}]`, []string{"h.json[1]: not a run"}, 1},
		{"array of numbers", `[1]`, []string{"h.json[0]: a JSON number where a run object belongs"}, 0},
		{"bad time in a run file", `{"run_id":"a","start_time":"2025-05-05 23:14"}`, []string{"h.json: ", `"2025-05-05 23:14" is not an ISO 8601 time`}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			runs, err := jsonrun.ReadRuns(path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			for _, leak := range []string{"2006-01-02", "Go value", "jsonrun.run"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q names Go internals (%q)", msg, leak)
				}
			}
			if len(runs) != tc.runs {
				t.Errorf("%d runs read; want %d", len(runs), tc.runs)
			}
		})
	}
}

// TestWithHistoryRefusesJSONArray: appending a line after the Python
// tool's JSON array would make it invalid, and Python's next finalize
// would rewrite it from nothing. The exporter refuses and leaves it alone.
func TestWithHistoryRefusesJSONArray(t *testing.T) {
	orig, err := os.ReadFile(pythonHistory)
	if err != nil {
		t.Fatal(err)
	}
	hist := filepath.Join(t.TempDir(), "pipeline_history.json")
	if err := os.WriteFile(hist, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	exp, _ := newExporter(t, jsonrun.WithHistory(hist))
	err = exp.ExportSpans(t.Context(), runStubs(id1, 1, 1).Snapshots())
	if err == nil || !strings.Contains(err.Error(), "JSON array") {
		t.Errorf("export error %v; want a refusal naming the JSON array", err)
	}
	if got, _ := os.ReadFile(hist); !bytes.Equal(got, orig) {
		t.Error("the Python history file was changed")
	}
}

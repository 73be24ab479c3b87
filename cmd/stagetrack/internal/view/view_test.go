package view_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/rundiff"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runstats"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (go test -update creates it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update accepts it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func fixtures(t *testing.T) map[string]*runfile.Run {
	t.Helper()
	fx, err := runfixture.Fixtures(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*runfile.Run{}
	for _, f := range fx {
		m[f.Name] = f.Run
	}
	return m
}

// pythonRun is a run file as the Python stage-tracker writes it: no status,
// no end_time, no ids.
const pythonRun = `{
  "run_id": "c355abaa-cb8c-4cad-ae67-47bce23be244",
  "start_time": "2025-05-05T23:14:10.235518+00:00",
  "args": "Reconnaissance_M1",
  "stages": {
    "Detection": {"start_time": "2025-05-05T23:14:10.235600+00:00", "duration_sec": 0.5, "data": {"status": "clean"}, "error": null},
    "Enrichment": {"start_time": "2025-05-05T23:14:10.736000+00:00", "duration_sec": 0.25, "data": null, "error": "timeout\nwhile calling nvd"}
  },
  "completed_at": "2025-05-05T23:14:11.000000+00:00",
  "total_duration_sec": 0.764482
}`

func TestWaterfallGolden(t *testing.T) {
	fx := fixtures(t)
	var py runfile.Run
	if err := json.Unmarshal([]byte(pythonRun), &py); err != nil {
		t.Fatal(err)
	}
	hostile := runfixture.Synthetic(2)
	hostile.Name = "evil\x1b]0;pwned\x07name"
	hostile.Stages[0].Key = "fetch\x1b[2J"
	hostile.Stages[1].Error = "line one\nline two"
	cases := []struct {
		name string
		run  *runfile.Run
		o    view.Options
	}{
		{"security-color", fx["security"], view.Options{Color: true, Width: 100}},
		{"train-b-width-40", fx["train-b"], view.Options{Width: 40}},
		{"python", &py, view.Options{Width: 90}},
		{"control-characters", hostile, view.Options{Width: 100}},
		{"no-stages", &runfile.Run{RunID: "e3d6c4d4-0000-4000-8000-000000000000", Status: "ok", StartTime: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}, view.Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := view.Waterfall(c.run, c.o)
			if !c.o.Color && strings.Contains(got, "\x1b") {
				t.Errorf("escape character in output without colour:\n%q", got)
			}
			golden(t, "waterfall-"+c.name+".golden", got)
		})
	}
}

func TestDiffAndStatsColor(t *testing.T) {
	fx := fixtures(t)
	d := rundiff.Compare(fx["train-a"], fx["train-b"])
	golden(t, "diff-color.golden", view.Diff(d, view.Options{Color: true}))
	var a runstats.Aggregator
	for _, r := range fx {
		a.Add(r)
	}
	golden(t, "stats-color.golden", view.Stats(a.Summary(), view.Options{Color: true}))
}

func TestDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{850 * time.Microsecond, "850µs"},
		{999_700 * time.Nanosecond, "1.00ms"},
		{30_512 * time.Microsecond, "30.5ms"},
		{999_600 * time.Microsecond, "1.00s"},
		{1200 * time.Millisecond, "1.20s"},
		{12_345 * time.Millisecond, "12.3s"},
		{59_960 * time.Millisecond, "1m00s"},
		{123 * time.Second, "2m03s"},
		{time.Hour + 2*time.Minute + 40*time.Second, "1h03m"},
		{-1500 * time.Millisecond, "-1.50s"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			if got := view.Duration(c.d); got != c.want {
				t.Errorf("Duration(%v) = %q, want %q", c.d, got, c.want)
			}
		})
	}
}

func TestChangeFormats(t *testing.T) {
	cases := []struct {
		name      string
		got, want string
	}{
		{"slower", view.SignedDuration(150 * time.Millisecond), "+150ms"},
		{"faster", view.SignedDuration(-2 * time.Second), "-2.00s"},
		{"same", view.SignedDuration(0), "±0s"},
		{"percent up", view.Percent(15.44), "+15.4%"},
		{"percent down", view.Percent(-3), "-3.0%"},
		{"percent zero", view.Percent(0.01), "±0%"},
		{"percent huge", view.Percent(1234.5), "+1234%"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
}

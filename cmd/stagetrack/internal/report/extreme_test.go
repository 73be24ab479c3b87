package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/report"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestWriteExtremeTimes checks that run files with absurd times produce a
// report of bounded size in bounded time. On the original code a run ending
// in 2262 made the axis loop overflow and grow ticks until memory ran out.
func TestWriteExtremeTimes(t *testing.T) {
	run := func(start, end, stageStart, stageEnd string, dur float64) string {
		return fmt.Sprintf(`{"run_id":"r","status":"ok","start_time":%q,"completed_at":%q,"total_duration_sec":%g,
"stages":{"s":{"start_time":%q,"end_time":%q,"duration_sec":%g,"status":"ok"}}}`, start, end, dur, stageStart, stageEnd, dur)
	}
	cases := []struct {
		name string
		file string
	}{
		{"ends in 2262", run("1970-01-01T00:00:00Z", "2262-04-11T23:47:16Z", "1970-01-01T00:00:00Z", "2262-04-11T23:47:16Z", 9.2e9)},
		{"far past to far future", run("0001-01-01T00:00:01Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:01Z", "9999-12-31T23:59:59Z", 1e18)},
		{"just under the saturation", run("1970-01-01T00:00:00Z", "2262-04-11T23:47:00Z", "1970-01-01T00:00:00Z", "2262-04-11T23:47:00Z", 9.2e9)},
		{"zero duration", run("2025-05-06T01:14:10Z", "2025-05-06T01:14:10Z", "2025-05-06T01:14:10Z", "2025-05-06T01:14:10Z", 0)},
		{"start after end", run("2025-05-06T01:14:10Z", "2025-05-06T01:00:00Z", "2025-05-06T01:14:10Z", "2025-05-06T01:00:00Z", -850)},
		{"stage before the run by centuries", run("2025-05-06T01:14:10Z", "2025-05-06T01:14:20Z", "1700-01-01T00:00:00Z", "2025-05-06T01:14:20Z", 10)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r runfile.Run
			if err := json.Unmarshal([]byte(c.file), &r); err != nil {
				t.Fatalf("fixture is not a readable run file: %v", err)
			}
			done := make(chan error, 1)
			var b bytes.Buffer
			go func() { done <- report.Write(&b, []report.Input{{Run: &r}, {Run: &r}}, report.Options{}) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("report.Write did not finish in 10s")
			}
			if b.Len() > 200<<10 {
				t.Errorf("report of two one-stage runs is %d bytes, want under 200 KiB", b.Len())
			}
		})
	}
}

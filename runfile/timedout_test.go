package runfile_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// A stage that a time limit ended says so in the file (timed_out: true);
// other stages do not carry the key at all, so files without it read as
// before.
func TestStageTimedOutRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		timedOut bool
		wantKey  bool
	}{
		{name: "timed out", timedOut: true, wantKey: true},
		{name: "ended on its own", timedOut: false, wantKey: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &runfile.Run{RunID: "r", SchemaVersion: runfile.SchemaVersion, Status: runfile.StatusFailed, StartTime: t0, CompletedAt: t0.Add(3 * time.Second),
				Stages: runfile.Stages{{Key: "train", Name: "train", Attempt: 1, StartTime: t0, EndTime: t0.Add(2 * time.Second), DurationSec: 2,
					Status: runfile.StageError, Error: "timed out after 2s", TimedOut: tc.timedOut}}}
			var b bytes.Buffer
			if err := runfile.Write(&b, r); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(b.String(), `"timed_out": true`) || strings.Contains(b.String(), `"timed_out":true`); got != tc.wantKey {
				t.Errorf("timed_out written %v, want %v:\n%s", got, tc.wantKey, b.String())
			}
			runs, err := runfile.DecodeRuns(b.Bytes(), "r.json")
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || len(runs[0].Stages) != 1 || runs[0].Stages[0].TimedOut != tc.timedOut {
				t.Fatalf("read back %+v, want one stage with TimedOut %v", runs, tc.timedOut)
			}
		})
	}
}

package runfile_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestScanHeaderAgreesWithDecode: what ScanHeader reads from a run file's
// top level is what decoding the whole file gives, and it declines (ok
// false) every file it cannot read that way, leaving it to DecodeRuns.
func TestScanHeaderAgreesWithDecode(t *testing.T) {
	synth := string(runfixture.Synthetic(9).AppendIndent(nil))
	python := `{"run_id":"p","start_time":"2025-05-05T10:00:00","args":{"a":1},"stages":{"s":{"start_time":"2025-05-05T10:00:00","duration_sec":null,"data":null,"error":"x"}},"completed_at":null,"total_duration_sec":null}`
	for _, tc := range []struct {
		name   string
		file   string
		wantOK bool
	}{
		{"synthetic", synth, true},
		{"large", string(runfixture.Large(50, 1).AppendIndent(nil)), true},
		{"no total duration", strings.Replace(synth, `"total_duration_sec": `, `"x_total": `, 1), true},
		{"python tool's run: no status", python, false},
		{"json lines", synth + "\n" + synth, false},
		{"array", "[" + synth + "]", false},
		{"torn", synth[:len(synth)/2], false},
		{"upper-case key", strings.Replace(synth, `"status": "failed"`, `"STATUS": "ok", "status": "failed"`, 1), false},
		{"escaped key", strings.Replace(synth, `"run_id":`, `"run\u005fid":`, 1), false},
		{"status not a string", strings.Replace(synth, `"status": "failed"`, `"status": 3`, 1), false},
		{"bad time", strings.Replace(synth, `"start_time": "2025`, `"start_time": "x2025`, 1), false},
		{"trailing garbage", synth + "}", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := runfile.ScanHeader([]byte(tc.file))
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				return
			}
			runs, err := runfile.DecodeRuns([]byte(tc.file), "f.json")
			if err != nil || len(runs) != 1 {
				t.Fatalf("DecodeRuns: %d runs, %v", len(runs), err)
			}
			r := runs[0]
			if h.RunID != r.RunID || h.Name != r.Name || h.Status != r.Status || h.Error != r.Error ||
				!h.StartTime.Equal(r.StartTime) || !h.CompletedAt.Equal(r.CompletedAt) ||
				h.StageCount != r.StageCount || string(h.Args) != string(r.Args) ||
				time.Duration(h.TotalDurationSec*1e9) != time.Duration(r.TotalDurationSec*1e9) {
				t.Errorf("header %+v\ndiffers from the run's %+v", h, *r)
			}
		})
	}
}

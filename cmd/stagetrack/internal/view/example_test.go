package view_test

import (
	"encoding/json"
	"fmt"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Waterfall renders a run file, here one written by the Python
// stage-tracker, for a terminal 72 columns wide.
func ExampleWaterfall() {
	var r runfile.Run
	err := json.Unmarshal([]byte(`{
	  "run_id": "c355abaa-cb8c-4cad-ae67-47bce23be244",
	  "start_time": "2025-05-05T23:14:10.235518+00:00",
	  "args": "Reconnaissance_M1",
	  "stages": {
	    "Detection": {"start_time": "2025-05-05T23:14:10.235518+00:00", "duration_sec": 0.030477, "data": {"status": "clean"}, "error": null},
	    "Enrichment": {"start_time": "2025-05-05T23:14:10.265995+00:00", "duration_sec": 0.011247, "data": {"added_cves": 3}, "error": null}
	  },
	  "completed_at": "2025-05-05T23:14:10.277552+00:00",
	  "total_duration_sec": 0.042034
	}`), &r)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(view.Waterfall(&r, view.Options{Width: 72}))
	// Output:
	// run c355abaa-cb8c-4cad-ae67-47bce23be244  ok
	// started 2025-05-05 23:14:10.235 UTC · took 42.0ms · 2 stages
	// args "Reconnaissance_M1"
	//
	// STAGE      0                 21.0ms             42.0ms  DURATION  STATUS
	// Detection  ███████████████████████████████▏               30.5ms  ok
	// Enrichment                                ▐██████████▋    11.2ms  ok
}

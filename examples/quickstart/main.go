// Command quickstart is the Python stage-tracker's quick start in Go: a
// security pipeline with a Detection and an Enrichment stage, recorded as a
// run file (run_output.json) and as an OpenTelemetry trace.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

func main() {
	ctx := context.Background()
	tr, shutdown, err := setup.Tracker(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer shutdown(ctx)

	// Initialize a run for the given args.
	ctx, run := tr.Start(ctx, "Reconnaissance_M1", tracker.WithOutputFile("run_output.json"))

	// Track stages.
	run.StartStage(ctx, "Detection")
	time.Sleep(30 * time.Millisecond) // ... run detection logic ...
	run.EndStage("Detection", map[string]any{"status": "clean"}, nil)

	run.StartStage(ctx, "Enrichment")
	time.Sleep(10 * time.Millisecond) // ... enrichment logic ...
	run.EndStage("Enrichment", map[string]any{"added_cves": 3}, nil)

	// Finalize: returns once run_output.json is on disk.
	if err := run.Finalize(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("run %s written to %s (trace %s)\n", run.ID(), run.File(), run.TraceID())
}

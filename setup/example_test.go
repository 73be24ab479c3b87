package setup_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
)

// Tracker writes one run file per run. Set OTEL_TRACES_EXPORTER=otlp (and
// OTEL_EXPORTER_OTLP_ENDPOINT) in the environment to send the same run to
// Jaeger or any OTLP backend as well, with no change to the code.
func ExampleTracker() {
	dir, err := os.MkdirTemp("", "runs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	tr, shutdown, err := setup.Tracker(ctx, setup.WithDir(dir))
	if err != nil {
		log.Fatal(err) // an *setup.EnvError names the variable at fault
	}
	defer shutdown(ctx)

	ctx, run := tr.Start(ctx, "nightly-etl")
	_ = run.Stage(ctx, "extract", func(context.Context) (any, error) {
		return map[string]any{"rows": 1200}, nil
	})
	_ = run.Stage(ctx, "load", func(context.Context) (any, error) {
		return nil, errors.New("warehouse unavailable")
	})
	if err := run.Finalize(ctx); err != nil {
		log.Fatal(err)
	}

	rf, err := runfile.ReadFile(run.File())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("status:", rf.Status)
	for _, s := range rf.Stages {
		fmt.Printf("%s: %s data=%s error=%q\n", s.Key, s.Status, s.Data, s.Error)
	}
	// Output:
	// status: failed
	// extract: ok data={"rows":1200} error=""
	// load: error data= error="warehouse unavailable"
}

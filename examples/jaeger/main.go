// Command jaeger records a small pipeline once and finds it in two places:
// the run file (runs/<run_id>.json) and a trace in a Jaeger on localhost.
//
// Start Jaeger v2 with the repository's config (every listener on
// 127.0.0.1, in-memory storage, OTLP on 4317 and 4318, query API on 16686).
// scripts/jaeger-e2e.sh builds the binary into
// ~/.cache/stage-tracker/jaeger-1.76.0/jaeger the first time it runs:
//
//	~/.cache/stage-tracker/jaeger-1.76.0/jaeger --config=file:scripts/jaeger-config.yaml
//
// or, with Docker, Jaeger's own image:
//
//	docker run --rm -p 127.0.0.1:16686:16686 -p 127.0.0.1:4317:4317 -p 127.0.0.1:4318:4318 jaegertracing/jaeger:latest
//
// Then, from the repository root:
//
//	go run ./examples/jaeger                                   # run file + Jaeger
//	OTEL_TRACES_EXPORTER=otlp,console go run ./examples/jaeger # run file + Jaeger + spans on stdout
//	OTEL_TRACES_EXPORTER=none go run ./examples/jaeger         # run file only
//
// The program sends to Jaeger unless OTEL_TRACES_EXPORTER says otherwise,
// and prints the run's trace id, the run file's trace_id. Paste it into the
// search box of Jaeger's UI (http://localhost:16686), open
// http://localhost:16686/trace/<trace_id>, or ask the query API:
//
//	curl -s http://localhost:16686/api/traces/$(jq -r .trace_id runs/<run_id>.json)
//
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL (grpc) and
// OTEL_SERVICE_NAME work as for any OpenTelemetry program; docs/backends.md
// has the details.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

func main() {
	ctx := context.Background()
	tr, shutdown, err := setup.Tracker(ctx,
		setup.WithDefaultExporters(setup.ExporterOTLP), // the environment can override it
		setup.WithServiceName("stage-tracker-example"),
	)
	if err != nil {
		log.Fatal(err) // a bad OTEL_* value: the message names the variable
	}
	defer func() {
		// Sends what the batch processor still holds to Jaeger.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			log.Print(err)
		}
	}()

	ctx, run := tr.Start(ctx, map[string]any{"dataset": "transactions-2025-05", "threshold": 0.8},
		tracker.WithRunName("fraud-scoring"))

	_ = run.Stage(ctx, "download", func(context.Context) (any, error) {
		time.Sleep(15 * time.Millisecond) // ... fetch the file ...
		return map[string]any{"rows": 5000, "source": "s3://example/transactions.csv"}, nil
	})
	_ = run.Stage(ctx, "features", func(ctx context.Context) (any, error) {
		for _, step := range []string{"normalize", "encode"} {
			_ = run.Stage(ctx, step, func(context.Context) (any, error) {
				time.Sleep(5 * time.Millisecond) // ... one feature step ...
				return nil, nil
			})
		}
		return map[string]any{"columns": 42}, nil
	})
	for batch := range 2 { // the same stage name twice: score#1, score
		_ = run.Stage(ctx, "score", func(context.Context) (any, error) {
			time.Sleep(10 * time.Millisecond) // ... score a batch ...
			return map[string]any{"batch": batch, "flagged": 3 + batch}, nil
		})
	}
	_ = run.Stage(ctx, "notify", func(context.Context) (any, error) {
		return nil, errors.New("webhook not configured") // shows as an error in Jaeger
	})

	if err := run.Finalize(ctx); err != nil {
		log.Fatalf("finalize: %v", err)
	}
	fmt.Printf("run file: %s\ntrace_id: %s\nJaeger:   http://localhost:16686/trace/%s\n", run.File(), run.TraceID(), run.TraceID())
}

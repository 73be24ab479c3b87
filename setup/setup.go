// Package setup builds, in one call, what most programs need to record runs:
// an OpenTelemetry SDK tracer provider that sends every run to the jsonrun
// exporter, which writes the run files, and the same spans to any other
// exporter given, with a tracker that uses it.
//
//	tr, shutdown, err := setup.Tracker(ctx, setup.WithDir("runs"))
//	if err != nil { ... }
//	defer shutdown(context.Background())
//
// The jsonrun exporter runs behind a simple (synchronous) span processor, so
// no stage is ever dropped on the way to the run file and Run.Finalize
// returns once the file is on disk; other exporters get a batch processor
// each, so a slow backend does not slow the pipeline.
package setup

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// Tracker builds a tracer provider wired to a jsonrun exporter and to the
// exporters given with WithExporters, and returns a tracker that uses it and
// a function that shuts the provider down, writing anything still buffered.
// Call shutdown once, when the program is done with the tracker.
//
// Tracker does not install the provider as the global one; do that with
// otel.SetTracerProvider(tr.TracerProvider()) if other instrumentation
// should share it.
func Tracker(ctx context.Context, opts ...Option) (*tracker.Tracker, func(context.Context) error, error) {
	cfg := newConfig(opts)
	exp, err := jsonrun.New(cfg.jsonrunOpts...)
	if err != nil {
		return nil, nil, fmt.Errorf("setup: %w", err)
	}
	popts := []sdktrace.TracerProviderOption{sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(exp))}
	for _, e := range cfg.exporters {
		popts = append(popts, sdktrace.WithBatcher(e))
	}
	popts = append(popts, cfg.providerOpts...)
	tp := sdktrace.NewTracerProvider(popts...)

	topts := append(append([]tracker.Option(nil), cfg.trackerOpts...),
		tracker.WithTracerProvider(tp),
		tracker.WithRunFileWaiter(exp),
	)
	shutdown := func(ctx context.Context) error {
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("setup: shut down tracer provider: %w", err)
		}
		return nil
	}
	return tracker.New(topts...), shutdown, nil
}

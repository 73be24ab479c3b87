// Package setup builds, in one call, what most programs need to record runs:
// an OpenTelemetry SDK tracer provider that sends every run to the jsonrun
// exporter, which writes the run files, and the same spans to the exporters
// the standard OpenTelemetry environment variables select and to any other
// exporter given in code, with a tracker that uses it.
//
// # Environment
//
// Tracker reads these variables when it is called (an empty value counts as
// unset):
//
//   - OTEL_TRACES_EXPORTER: a comma-separated list of exporters: "otlp",
//     "console", "jsonrun", "none". The run files are always written: they
//     are what this package is for, so "jsonrun" is accepted and changes
//     nothing, and "none" (alone) means the run files only. Unset: the list
//     given with WithDefaultExporters, else the run files only.
//   - OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (which
//     wins): "http/protobuf" (the default), "grpc" or "http/json".
//   - OTEL_EXPORTER_OTLP_ENDPOINT (a base URL: http/protobuf sends to
//     <base>/v1/traces) and OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the full
//     URL, which wins). Defaults: http://localhost:4318 for HTTP,
//     http://localhost:4317 for gRPC. An http:// endpoint means no TLS.
//   - OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES: the resource (see
//     VersionKey for what else it holds).
//   - OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG: "always_on",
//     "always_off", "traceidratio", "parentbased_always_on" (the default),
//     "parentbased_always_off", "parentbased_traceidratio", with the ratio
//     from 0 to 1 (default 1). They thin every span but a run's: the run
//     span and the stage spans of a run are always recorded and sampled
//     (tracker.AlwaysSampleRuns), so no sampling setting, and no unsampled
//     TRACEPARENT of a caller, costs a run its file. A sampler given with
//     WithProviderOptions replaces this one.
//
// The OTLP exporters read the other OTEL_EXPORTER_OTLP_* variables (headers,
// timeout, compression, certificates) themselves. A value Tracker cannot use
// (an unknown exporter or protocol, an endpoint that is not an http or https
// URL, a malformed resource attribute list, an unknown sampler or a ratio
// that is not a number from 0 to 1) is an *EnvError naming the
// variable, returned before anything is built.
//
// # Processors
//
// The jsonrun exporter runs behind its own synchronous processor
// (jsonrun.NewProcessor, which also journals open runs), so no stage is ever
// dropped on the way to the run file and Run.Finalize returns once the file
// is on disk. The console exporter runs behind a simple processor, so spans
// print as they end. OTLP and the exporters given with WithExporters get a
// batch processor each, so a slow backend does not slow the pipeline;
// Run.Finalize flushes them (a backend that cannot be reached is reported to
// the OpenTelemetry error handler, not as a failed run), and so does
// shutdown.
package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// Tracker builds a tracer provider wired to a jsonrun exporter, to the
// exporters the environment selects (see the package documentation) and to
// the exporters given with WithExporters, and returns a tracker that uses it
// and a function that shuts the provider down, flushing every exporter and
// writing any run file still buffered. Call shutdown once, when the program
// is done with the tracker.
//
// Tracker returns an error, and builds nothing, when the environment holds
// a value it cannot use (an *EnvError) or an exporter cannot be made.
//
// Tracker does not install the provider as the global one; do that with
// otel.SetTracerProvider(tr.TracerProvider()) if other instrumentation
// should share it.
func Tracker(ctx context.Context, opts ...Option) (*tracker.Tracker, func(context.Context) error, error) {
	cfg := newConfig(opts)
	env, err := readEnv(os.Getenv, cfg.defaultExporters)
	if err != nil {
		return nil, nil, err
	}
	res, err := newResource(ctx, cfg, os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	prop, err := propagatorFromEnv(os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	sampler, err := runSampler(os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	mp, err := newMeterProvider(ctx, os.Getenv, res, cfg.consoleWriter)
	if err != nil {
		return nil, nil, err
	}
	exp, err := jsonrun.New(cfg.jsonrunOpts...)
	if err != nil {
		return nil, nil, fmt.Errorf("setup: %w", err)
	}
	// Inside a run that a parent process owns (stagetrack run), stages of
	// that run go to its journal: tracker.StartOrJoin joins it.
	switch runID, journal := os.Getenv(tracker.EnvRunID), os.Getenv(tracker.EnvJournal); {
	case runID != "" && journal != "":
		if err := exp.Join(runID, journal); err != nil {
			otel.Handle(fmt.Errorf("setup: %s and %s are set, but: %w", tracker.EnvRunID, tracker.EnvJournal, err))
		}
	case runID != "" && env.otlp:
		// Joined with no journal to share, and the spans go on by OTLP:
		// the run's owner (a stagetrack run, a Collector) writes the file
		// from them. A file here would be an incomplete copy under its id.
		exp.Disown(runID)
	}
	// procs are the processors a Feed hands received spans to, the run
	// files' first.
	// Synchronous, so no stage is dropped, and with a journal per run; it
	// recovers the runs of processes that died, in the background, and
	// its Shutdown waits for that.
	runFiles := jsonrun.NewProcessor(exp)
	procs := []sdktrace.SpanProcessor{runFiles}
	if env.console {
		w := cfg.consoleWriter
		if w == nil {
			w = os.Stdout
		}
		console, err := stdouttrace.New(stdouttrace.WithWriter(w), stdouttrace.WithPrettyPrint())
		if err != nil {
			return nil, nil, errors.Join(fmt.Errorf("setup: console exporter: %w", err), runFiles.Shutdown(ctx))
		}
		procs = append(procs, sdktrace.NewSimpleSpanProcessor(console))
	}
	if env.otlp {
		otlp, err := newOTLP(ctx, env.protocol, env.plaintext, cfg.exportTimeout)
		if err != nil {
			return nil, nil, errors.Join(err, runFiles.Shutdown(ctx))
		}
		if cfg.wrapOTLP != nil {
			if w := cfg.wrapOTLP(otlp); w != nil {
				otlp = w
			}
		}
		procs = append(procs, sdktrace.NewBatchSpanProcessor(otlp))
	}
	for _, e := range cfg.exporters {
		procs = append(procs, sdktrace.NewBatchSpanProcessor(e))
	}
	popts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(sampler)}
	for _, p := range procs {
		popts = append(popts, sdktrace.WithSpanProcessor(p))
	}
	popts = append(popts, cfg.providerOpts...)
	tp := sdktrace.NewTracerProvider(popts...)

	topts := append(append([]tracker.Option(nil), cfg.trackerOpts...),
		tracker.WithTracerProvider(tp),
		tracker.WithPropagator(prop),
	)
	if mp != nil {
		topts = append(topts, tracker.WithMeterProvider(mp))
	}
	cfg.feed.attach(procs[0], procs[1:])
	shutdown := func(ctx context.Context) error {
		cfg.feed.detach()
		var errs []error
		if err := tp.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("setup: shut down tracer provider: %w", err))
		}
		if mp != nil {
			if err := mp.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("setup: shut down meter provider: %w", err))
			}
		}
		return errors.Join(errs...)
	}
	return tracker.New(topts...), shutdown, nil
}

// newOTLP makes the OTLP exporter for protocol. The exporters read the
// endpoint and the rest of the OTEL_EXPORTER_OTLP_* variables themselves;
// readEnv has checked the endpoints. The HTTP encoding is passed explicitly
// because the exporter would read an unknown or differently cased protocol
// as protobuf. plaintext asks for the default endpoint without TLS (options
// given here override the environment, so it is set only when the
// environment names no endpoint and no INSECURE setting).
func newOTLP(ctx context.Context, protocol string, plaintext bool, timeout time.Duration) (sdktrace.SpanExporter, error) {
	var (
		exp sdktrace.SpanExporter
		err error
	)
	if _, set := envExportTimeout(os.Getenv); set {
		timeout = 0 // the environment's timeout wins; the exporter reads it
	}
	switch protocol {
	case protoGRPC:
		var opts []otlptracegrpc.Option
		if plaintext {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		if timeout > 0 {
			opts = append(opts, otlptracegrpc.WithTimeout(timeout), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig(retryWithin(timeout))))
		}
		exp, err = otlptracegrpc.New(ctx, opts...)
	default:
		enc := otlptracehttp.EncodingProtobuf
		if protocol == protoHTTPJSON {
			enc = otlptracehttp.EncodingJSON
		}
		opts := []otlptracehttp.Option{otlptracehttp.WithEncoding(enc)}
		if plaintext {
			opts = append(opts, otlptracehttp.WithInsecure())
		}
		if timeout > 0 {
			opts = append(opts, otlptracehttp.WithTimeout(timeout), otlptracehttp.WithRetry(otlptracehttp.RetryConfig(retryWithin(timeout))))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("setup: OTLP exporter (%s): %w", protocol, err)
	}
	return exp, nil
}

// Command otlpchild is the stagetrack tests' stand-in for a program in any
// language: it uses only the OpenTelemetry SDK and its OTLP/HTTP exporter,
// configured by the environment alone (OTEL_EXPORTER_OTLP_*, TRACEPARENT),
// as "stagetrack run" gives it. It records three spans: "extract"
// (attributes rows=3, source=s3) with "parse" (format=csv) inside it, and
// "load", which fails with "disk full".
//
// Nothing of stage-tracker's is in it: its spans become stages by the run
// convention (docs/attributes.md), as spans of the run's trace.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.opentelemetry.io/contrib/propagators/envcar"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "otlpchild:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	tr := tp.Tracer("otlpchild")
	ctx = propagation.TraceContext{}.Extract(ctx, &envcar.Carrier{})

	start := func(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
		return tr.Start(ctx, name, trace.WithAttributes(attrs...))
	}
	ectx, extract := start(ctx, "extract", attribute.Int("rows", 3), attribute.String("source", "s3"))
	_, parse := start(ectx, "parse", attribute.String("format", "csv"))
	parse.End()
	extract.End()
	_, load := start(ctx, "load")
	load.RecordError(errors.New("disk full"))
	load.SetStatus(codes.Error, "disk full")
	load.End()
	// Shutdown flushes: the spans are at the receiver when it returns.
	return tp.Shutdown(ctx)
}

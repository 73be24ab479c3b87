package setup

import (
	"context"
	"os"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// OTLPExporter makes the OTLP span exporter that Tracker makes when
// OTEL_TRACES_EXPORTER selects otlp, for programs that send spans they did
// not record themselves (stagetrack send replays run files). The protocol
// and the endpoints are read and checked as Tracker reads them, so a value
// Tracker refuses is refused here too, as an *EnvError; the exporter reads
// the rest of the OTEL_EXPORTER_OTLP_* family itself, from the process
// environment. getenv reads the variables checked here; nil means
// os.Getenv. It returns the protocol in use ("http/protobuf", "http/json"
// or "grpc") for messages.
//
// OTLPExporter is safe for concurrent use; the exporter it returns is the
// OTLP package's and says what it allows.
func OTLPExporter(ctx context.Context, getenv func(string) string) (sdktrace.SpanExporter, string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	selectOTLP := func(k string) string {
		if k == envTracesExporter {
			return ExporterOTLP
		}
		return getenv(k)
	}
	env, err := readEnv(selectOTLP, nil)
	if err != nil {
		return nil, "", err
	}
	exp, err := newOTLP(ctx, env.protocol, env.plaintext, 0) // send bounds its own time (--timeout)
	if err != nil {
		return nil, "", err
	}
	return exp, env.protocol, nil
}

package setup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

const envMetricsExporter = "OTEL_METRICS_EXPORTER"

// newMeterProvider builds the metrics pipeline OTEL_METRICS_EXPORTER asks
// for (otlp, console, none, or a comma-separated list), each exporter
// behind a periodic reader (OTEL_METRIC_EXPORT_INTERVAL and _TIMEOUT apply,
// read by the SDK). Unset or none: nil, and the tracker's histograms cost
// nothing. Unlike the specification's default (otlp), no metrics are sent
// unless asked: a program that only wanted run files must not start
// connecting to localhost:4318.
func newMeterProvider(ctx context.Context, getenv func(string) string, res *resource.Resource, console io.Writer) (*sdkmetric.MeterProvider, error) {
	v := strings.TrimSpace(getenv(envMetricsExporter))
	if v == "" {
		return nil, nil
	}
	var readers []sdkmetric.Option
	for _, name := range strings.Split(v, ",") {
		var (
			exp sdkmetric.Exporter
			err error
		)
		switch n := strings.ToLower(strings.TrimSpace(name)); n {
		case "none", "":
			continue
		case "console":
			if console == nil {
				console = os.Stdout
			}
			exp, err = stdoutmetric.New(stdoutmetric.WithWriter(console), stdoutmetric.WithPrettyPrint())
		case "otlp":
			exp, err = newOTLPMetrics(ctx, getenv)
		default:
			return nil, &EnvError{Var: envMetricsExporter, Value: v,
				Reason: fmt.Sprintf("unknown exporter %q (want otlp, console, none)", strings.TrimSpace(name))}
		}
		if err != nil {
			return nil, fmt.Errorf("setup: metrics exporter %s: %w", strings.TrimSpace(name), err)
		}
		readers = append(readers, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
	}
	if len(readers) == 0 {
		return nil, nil
	}
	return sdkmetric.NewMeterProvider(append(readers, sdkmetric.WithResource(res))...), nil
}

// newOTLPMetrics makes the OTLP metrics exporter for the protocol that
// OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL,
// names. The exporters read the endpoint variables themselves.
func newOTLPMetrics(ctx context.Context, getenv func(string) string) (sdkmetric.Exporter, error) {
	p := getenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")
	if p == "" {
		p = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch p {
	case "", protoHTTPProtobuf:
		return otlpmetrichttp.New(ctx)
	case protoGRPC:
		return otlpmetricgrpc.New(ctx)
	default:
		return nil, errors.New("protocol " + quote(p) + " is not supported for metrics (want http/protobuf or grpc)")
	}
}

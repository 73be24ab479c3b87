package setup

import (
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"os"
	"strconv"
	"time"
)

// WithExportTimeout sets how long one export to the OTLP backend may take,
// retries included, when neither OTEL_EXPORTER_OTLP_TRACES_TIMEOUT nor
// OTEL_EXPORTER_OTLP_TIMEOUT is set (those always win). The OpenTelemetry
// default, 10 s, suits a service; a short-lived command such as stagetrack
// wants a dead or silent backend to cost it about a second, not ten. Zero
// or a negative d keeps the default.
func WithExportTimeout(d time.Duration) Option {
	return optionFunc(func(c config) config {
		c.exportTimeout = d
		return c
	})
}

// ExportTimeout is the timeout of one OTLP export that Tracker uses: the
// environment's (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, else
// OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds) when set to a valid value,
// else fallback. Callers that bound their own shutdown use it to leave the
// exporter the time it was given.
func ExportTimeout(fallback time.Duration) time.Duration {
	if d, ok := envExportTimeout(os.Getenv); ok {
		return d
	}
	return fallback
}

// envExportTimeout reads the OTLP timeout variables as the OTLP exporters
// do: whole milliseconds, the traces-specific variable first.
func envExportTimeout(getenv func(string) string) (time.Duration, bool) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"} {
		if v := getenv(k); v != "" {
			if ms, err := strconv.Atoi(v); err == nil && ms >= 0 {
				return time.Duration(ms) * time.Millisecond, true
			}
		}
	}
	return 0, false
}

// retryWithin is a retry policy that gives up once d has passed: the
// exporters' own timeout bounds one request, not the retries after it.
func retryWithin(d time.Duration) otlptracehttp.RetryConfig {
	return otlptracehttp.RetryConfig{
		Enabled:         true,
		InitialInterval: min(100*time.Millisecond, d),
		MaxInterval:     d,
		MaxElapsedTime:  d,
	}
}

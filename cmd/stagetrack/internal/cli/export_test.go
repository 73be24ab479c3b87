package cli

import sdktrace "go.opentelemetry.io/otel/sdk/trace"

// The OTLP receiver of run, for its black-box tests.
type OTLPReceiver = otlpReceiver

const OTLPMaxBody = otlpMaxBody

// StartOTLPReceiver starts a receiver with the given bounds.
func StartOTLPReceiver(sink func([]sdktrace.ReadOnlySpan), maxBody int64, maxSpans int) (*OTLPReceiver, error) {
	return startOTLPReceiver(sink, otlpLimits{maxBody: maxBody, maxSpans: maxSpans})
}

// URL is the receiver's traces URL; Token its credential.
func (r *otlpReceiver) URL() string   { return r.base + otlpTracesPath }
func (r *otlpReceiver) Token() string { return r.token }

var (
	OTLPChildEnv = (*otlpReceiver).childEnv
	OTLPShutdown = (*otlpReceiver).shutdown
)

package cli

// The OTLP exporter variables that point a child's SDK at the receiver.
const (
	envOTLPEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envOTLPTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envOTLPProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envOTLPTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	envOTLPHeaders        = "OTEL_EXPORTER_OTLP_HEADERS"
	envOTLPTracesHeaders  = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
)

// childEnv returns the variables ("KEY=value") that make an OTel SDK in
// CMD send its traces to r, with r's credential. getenv reads CMD's
// inherited environment.
//
// The traces variables are always r's: CMD's spans belong to the run, and
// stagetrack sends them on to the exporters its own OTEL_* variables name,
// so they still reach a backend set there. The general variables
// (endpoint, protocol, headers) also carry a child's metrics and logs,
// which r does not take: they are r's only when the environment names no
// OTEL_EXPORTER_OTLP_ENDPOINT, and left as the user set them otherwise.
//
// The header value is percent-encoded, as the OpenTelemetry environment
// specification asks ("Bearer%20<token>"); every SDK decodes it.
func (r *otlpReceiver) childEnv(getenv func(string) string) []string {
	auth := "authorization=Bearer%20" + r.token
	env := []string{
		envOTLPTracesEndpoint + "=" + r.base + otlpTracesPath,
		envOTLPTracesProtocol + "=http/protobuf",
		envOTLPTracesHeaders + "=" + auth,
	}
	if getenv(envOTLPEndpoint) == "" {
		env = append(env,
			envOTLPEndpoint+"="+r.base,
			envOTLPProtocol+"=http/protobuf",
			envOTLPHeaders+"="+auth,
		)
	}
	return env
}

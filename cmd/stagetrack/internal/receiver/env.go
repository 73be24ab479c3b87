package receiver

// The OTLP exporter variables that point a child's SDK at the receiver.
const (
	envOTLPEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envOTLPTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envOTLPProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envOTLPTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	envOTLPHeaders        = "OTEL_EXPORTER_OTLP_HEADERS"
	envOTLPTracesHeaders  = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
)

// ChildEnv returns the variables ("KEY=value") that make an OTel SDK in
// the run's command send its traces to r, with r's credential. getenv
// reads the command's inherited environment.
//
// The traces variables are always r's: the command's spans belong to the
// run, and stagetrack sends them on to the exporters its own OTEL_*
// variables name, so they still reach a backend set there. The general
// variables (endpoint, protocol, headers) also carry a child's metrics and
// logs, which r does not take: they are r's only when the environment
// names no OTEL_EXPORTER_OTLP_ENDPOINT, and left as the user set them
// otherwise.
//
// The header value is percent-encoded, as the OpenTelemetry environment
// specification asks ("Bearer%20<token>"); every SDK decodes it.
func (r *Receiver) ChildEnv(getenv func(string) string) []string {
	auth := "authorization=Bearer%20" + r.token
	env := []string{
		envOTLPTracesEndpoint + "=" + r.base + TracesPath,
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

package cli_test

import (
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// TestSendBadEndpoint checks that send checks the endpoint variables as
// setup.Tracker does: a line naming the variable, exit 2, nothing sent.
// On main, localhost:14399 gave `Post "https:///v1/traces"` and exit 1.
func TestSendBadEndpoint(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"no scheme", []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:14399"}, "OTEL_EXPORTER_OTLP_ENDPOINT: \"localhost:14399\" has no scheme"},
		{"no scheme, traces variable", []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "localhost:14399"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: \"localhost:14399\" has no scheme"},
		{"no scheme over grpc", []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"}, "has no scheme"},
		{"wrong scheme", []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector:4318"}, `has scheme "ftp"`},
		{"port out of range", []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:99999"}, "outside 1-65535"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := setenv(t, c.env...)
			r := invocation{env: env}.run(t, "send", runFile("train-a"))
			wantCode(t, r, cli.ExitUsage)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q does not say %q", r.stderr, c.want)
			}
			// One line of error (the usage hint of exit 2 may follow).
			if first, _, _ := strings.Cut(r.stderr, "\n"); !strings.Contains(first, c.want) || strings.Contains(r.stderr, "https:///") {
				t.Errorf("want the first line to name the variable and the problem, got %q", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("something was sent: %q", r.stdout)
			}
		})
	}
}

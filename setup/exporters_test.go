package setup_test

import (
	"errors"
	"testing"

	"github.com/stage-tracker/stage-tracker/setup"
)

func TestOTLPExporter(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantVar string // "" when the exporter is made
		proto   string
	}{
		{"defaults", nil, "", "http/protobuf"},
		{"grpc", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4317"}, "", "grpc"},
		{"traces protocol wins", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, "", "http/json"},
		{"whatever OTEL_TRACES_EXPORTER says", map[string]string{"OTEL_TRACES_EXPORTER": "none"}, "", "http/protobuf"},
		{"endpoint without scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:14399"}, "OTEL_EXPORTER_OTLP_ENDPOINT", ""},
		{"unknown protocol", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"}, "OTEL_EXPORTER_OTLP_PROTOCOL", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exp, proto, err := setup.OTLPExporter(t.Context(), func(k string) string { return c.env[k] })
			if c.wantVar != "" {
				var envErr *setup.EnvError
				if !errors.As(err, &envErr) || envErr.Var != c.wantVar {
					t.Fatalf("err = %v, want an *EnvError for %s", err, c.wantVar)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := exp.Shutdown(t.Context()); err != nil {
					t.Error(err)
				}
			}()
			if proto != c.proto {
				t.Errorf("protocol %q, want %q", proto, c.proto)
			}
		})
	}
}

package setup_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/setup"
)

func TestTrackerRejectsBadEnv(t *testing.T) {
	otlp := map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{k: v}
		for bk, bv := range base {
			if _, ok := m[bk]; !ok {
				m[bk] = bv
			}
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		opts    []setup.Option
		wantVar string
		want    string // the whole message
	}{
		{
			name:    "unknown exporter",
			env:     map[string]string{"OTEL_TRACES_EXPORTER": "otlpp"},
			wantVar: "OTEL_TRACES_EXPORTER",
			want:    `setup: OTEL_TRACES_EXPORTER: unknown exporter "otlpp" (want otlp, console, jsonrun, none)`,
		},
		{
			name:    "unknown exporter in a list",
			env:     map[string]string{"OTEL_TRACES_EXPORTER": "console, zipkin"},
			wantVar: "OTEL_TRACES_EXPORTER",
			want:    `setup: OTEL_TRACES_EXPORTER: unknown exporter "zipkin" (want otlp, console, jsonrun, none)`,
		},
		{
			name:    "none with another exporter",
			env:     map[string]string{"OTEL_TRACES_EXPORTER": "none,otlp"},
			wantVar: "OTEL_TRACES_EXPORTER",
			want:    `setup: OTEL_TRACES_EXPORTER: "none" cannot be combined with other exporters`,
		},
		{
			name:    "unknown protocol",
			env:     with(otlp, "OTEL_EXPORTER_OTLP_PROTOCOL", "http"),
			wantVar: "OTEL_EXPORTER_OTLP_PROTOCOL",
			want:    `setup: OTEL_EXPORTER_OTLP_PROTOCOL: unknown protocol "http" (want http/protobuf, grpc or http/json)`,
		},
		{
			name:    "unknown traces protocol",
			env:     with(otlp, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift"),
			wantVar: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
			want:    `setup: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: unknown protocol "thrift" (want http/protobuf, grpc or http/json)`,
		},
		{
			name:    "endpoint without scheme",
			env:     with(otlp, "OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"),
			wantVar: "OTEL_EXPORTER_OTLP_ENDPOINT",
			want:    `setup: OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" has no scheme: want http:// or https:// (for example http://localhost:4318)`,
		},
		{
			name:    "endpoint with another scheme",
			env:     with(otlp, "OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector:4318"),
			wantVar: "OTEL_EXPORTER_OTLP_ENDPOINT",
			want:    `setup: OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://collector:4318" has scheme "ftp": want http:// or https:// (for example http://localhost:4318)`,
		},
		{
			name:    "endpoint without host",
			env:     with(otlp, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://:4318"),
			wantVar: "OTEL_EXPORTER_OTLP_ENDPOINT",
			want:    `setup: OTEL_EXPORTER_OTLP_ENDPOINT: "http://:4318" has no host (for example http://localhost:4318)`,
		},
		{
			name:    "endpoint with port out of range",
			env:     with(otlp, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:99999"),
			wantVar: "OTEL_EXPORTER_OTLP_ENDPOINT",
			want:    `setup: OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:99999" has port 99999, outside 1-65535`,
		},
		{
			name:    "endpoint that does not parse",
			env:     with(otlp, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://[::1:4318"),
			wantVar: "OTEL_EXPORTER_OTLP_ENDPOINT",
			want:    `setup: OTEL_EXPORTER_OTLP_ENDPOINT: "http://[::1:4318" is not a URL: missing ']' in host`,
		},
		{
			name:    "traces endpoint with a bad port",
			env:     with(otlp, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://localhost:43l8/v1/traces"),
			wantVar: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
			want:    `setup: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://localhost:43l8/v1/traces" is not a URL: invalid port ":43l8" after host`,
		},
		{
			name:    "bad endpoint for gRPC",
			env:     with(with(otlp, "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), "OTEL_EXPORTER_OTLP_ENDPOINT", "127.0.0.1:4317"),
			wantVar: "OTEL_EXPORTER_OTLP_ENDPOINT",
			want:    `setup: OTEL_EXPORTER_OTLP_ENDPOINT: "127.0.0.1:4317" has no scheme: want http:// or https:// (for example http://localhost:4318)`,
		},
		{
			name:    "resource attribute without value",
			env:     map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=ml,env"},
			wantVar: "OTEL_RESOURCE_ATTRIBUTES",
			want:    `setup: OTEL_RESOURCE_ATTRIBUTES: entry 2 "env" has no '='; want key=value pairs separated by commas`,
		},
		{
			name:    "resource attribute without key",
			env:     map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "=ml"},
			wantVar: "OTEL_RESOURCE_ATTRIBUTES",
			want:    `setup: OTEL_RESOURCE_ATTRIBUTES: entry 1 "=ml" has an empty key; want key=value pairs separated by commas`,
		},
		{
			name:    "resource attribute badly percent-encoded",
			env:     map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=m%zz"},
			wantVar: "OTEL_RESOURCE_ATTRIBUTES",
			want:    `setup: OTEL_RESOURCE_ATTRIBUTES: entry 1 "team=m%zz" has a value that is not percent-encoded correctly; want key=value pairs separated by commas`,
		},
		{
			name:    "unknown default exporter",
			opts:    []setup.Option{setup.WithDefaultExporters("otlp", "stdout")},
			wantVar: "WithDefaultExporters",
			want:    `setup: WithDefaultExporters: unknown exporter "stdout" (want otlp, console, jsonrun, none)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			dir := t.TempDir()
			opts := append([]setup.Option{setup.WithDir(dir)}, tt.opts...)
			tr, shutdown, err := setup.Tracker(t.Context(), opts...)
			if err == nil {
				_ = shutdown(t.Context())
				t.Fatalf("Tracker returned no error (tracker %v)", tr)
			}
			if tr != nil || shutdown != nil {
				t.Errorf("Tracker returned a tracker or shutdown with its error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			var envErr *setup.EnvError
			if !errors.As(err, &envErr) {
				t.Fatalf("error %T is not an *EnvError", err)
			}
			if envErr.Var != tt.wantVar {
				t.Errorf("EnvError.Var = %q, want %q", envErr.Var, tt.wantVar)
			}
		})
	}
}

func TestTrackerAcceptsEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		opts []setup.Option
	}{
		{name: "nothing set"},
		{name: "none", env: map[string]string{"OTEL_TRACES_EXPORTER": "none"}},
		{name: "jsonrun named", env: map[string]string{"OTEL_TRACES_EXPORTER": "jsonrun"}},
		{name: "case, spaces, repeats and empty items", env: map[string]string{"OTEL_TRACES_EXPORTER": " Console ,JSONRUN,,console"}},
		{name: "blank list means the default", env: map[string]string{"OTEL_TRACES_EXPORTER": "  "}, opts: []setup.Option{setup.WithDefaultExporters("jsonrun")}},
		{name: "env overrides a bad-free default", env: map[string]string{"OTEL_TRACES_EXPORTER": "none"}, opts: []setup.Option{setup.WithDefaultExporters("console")}},
		{
			name: "endpoints ignored without otlp",
			env:  map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "not a url", "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"},
		},
		{
			name: "otlp with https endpoint and protocol in capitals",
			env: map[string]string{
				"OTEL_TRACES_EXPORTER":               "otlp",
				"OTEL_EXPORTER_OTLP_PROTOCOL":        "HTTP/PROTOBUF",
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector.example:443/v1/traces",
			},
		},
		{
			name: "otlp over grpc with ipv6 endpoint",
			env: map[string]string{
				"OTEL_TRACES_EXPORTER":        "otlp",
				"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
				"OTEL_EXPORTER_OTLP_ENDPOINT": "http://[::1]:4317",
			},
		},
		{
			name: "resource attributes with percent-encoding and empty value",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=m%20l,empty=,service.name=svc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			opts := append([]setup.Option{setup.WithDir(t.TempDir()), setup.WithConsoleWriter(discard{})}, tt.opts...)
			tr, shutdown, err := setup.Tracker(t.Context(), opts...)
			if err != nil {
				t.Fatalf("Tracker: %v", err)
			}
			if tr == nil {
				t.Fatal("Tracker returned a nil tracker")
			}
			// Nothing was exported, so shutting down contacts no backend.
			if err := shutdown(t.Context()); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// The default list is checked only when the environment does not override
// it, and the run files are written whatever the list.
func TestTrackerRunFileAlwaysWritten(t *testing.T) {
	for _, list := range []string{"", "none", "jsonrun", "console"} {
		t.Run("OTEL_TRACES_EXPORTER="+list, func(t *testing.T) {
			setEnv(t, map[string]string{"OTEL_TRACES_EXPORTER": list})
			dir := t.TempDir()
			tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(dir), setup.WithConsoleWriter(discard{}))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := shutdown(t.Context()); err != nil {
					t.Error(err)
				}
			}()
			run := runPipeline(t, tr)
			if _, err := os.Stat(run.File()); err != nil {
				t.Fatalf("run file: %v", err)
			}
		})
	}
}

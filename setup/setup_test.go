package setup_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// The same run reaches an OTLP receiver over each protocol, with the
// resource the environment describes, and the run file.
func TestTrackerOTLP(t *testing.T) {
	tests := []struct {
		name     string
		protocol string // OTEL_EXPORTER_OTLP_PROTOCOL
		grpc     bool
		path     string // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT path; "" to use the base endpoint
		wantPath string
	}{
		{name: "http/protobuf by default", wantPath: "/v1/traces"},
		{name: "http/protobuf", protocol: "http/protobuf", wantPath: "/v1/traces"},
		{name: "http/json", protocol: "http/json", wantPath: "/v1/traces"},
		{name: "traces endpoint used as is", protocol: "http/protobuf", path: "/otlp/spans", wantPath: "/otlp/spans"},
		{name: "grpc", protocol: "grpc", grpc: true, wantPath: "grpc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				c        *collector
				endpoint string
			)
			if tt.grpc {
				c, endpoint = newGRPCCollector(t)
			} else {
				c, endpoint = newHTTPCollector(t)
			}
			env := map[string]string{
				"OTEL_TRACES_EXPORTER":        "otlp",
				"OTEL_EXPORTER_OTLP_PROTOCOL": tt.protocol,
				"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
				"OTEL_SERVICE_NAME":           "trainer",
				"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=test,team=m%20l",
			}
			if tt.path != "" {
				env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9" // must lose to the traces endpoint
				env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = endpoint + tt.path
			}
			setEnv(t, env)
			dir := t.TempDir()
			tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(dir))
			if err != nil {
				t.Fatal(err)
			}
			run := runPipeline(t, tr)

			// Finalize flushed the batch processor: the spans are there
			// before shutdown.
			requests, _, _, _ := c.snapshot()
			if requests == 0 {
				t.Fatal("no OTLP request after Finalize")
			}
			if err := shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			requests, paths, spans, resources := c.snapshot()
			t.Logf("%d requests, %d spans", requests, len(spans))
			for _, p := range paths {
				if p != tt.wantPath {
					t.Errorf("request path %q, want %q", p, tt.wantPath)
				}
			}
			var names []string
			for _, s := range spans {
				names = append(names, s.GetName())
				if got := hex.EncodeToString(s.GetTraceId()); got != run.TraceID().String() {
					t.Errorf("span %q in trace %s, want the run's %s", s.GetName(), got, run.TraceID())
				}
			}
			slices.Sort(names)
			want := slices.Sorted(slices.Values(pipelineSpanNames))
			if !slices.Equal(names, want) {
				t.Errorf("spans %v, want %v", names, want)
			}
			for _, r := range resources {
				for k, v := range map[string]string{
					"service.name":                "trainer",
					"stage_tracker.version":       tracker.Version,
					"deployment.environment.name": "test",
					"team":                        "m l",
					"telemetry.sdk.language":      "go",
					"telemetry.sdk.name":          "opentelemetry",
				} {
					if r[k] != v {
						t.Errorf("resource %s = %q, want %q", k, r[k], v)
					}
				}
			}

			rf, err := runfile.ReadFile(run.File())
			if err != nil {
				t.Fatal(err)
			}
			if rf.TraceID != run.TraceID().String() || rf.StageCount != pipelineSpans-1 {
				t.Errorf("run file: trace %s with %d stages, want %s with %d", rf.TraceID, rf.StageCount, run.TraceID(), pipelineSpans-1)
			}
		})
	}
}

// consoleSpan is what the tests read of a span the console exporter wrote.
type consoleSpan struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ SpanID string }
}

func readConsole(t *testing.T, b []byte) []consoleSpan {
	t.Helper()
	var spans []consoleSpan
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var s consoleSpan
		err := dec.Decode(&s)
		if errors.Is(err, io.EOF) {
			return spans
		}
		if err != nil {
			t.Fatalf("console output is not a stream of JSON spans: %v\n%s", err, b)
		}
		spans = append(spans, s)
	}
}

// OTLP, console, an exporter given in code and the run file all get the
// same run from one pipeline.
func TestTrackerSeveralExportersAtOnce(t *testing.T) {
	c, endpoint := newHTTPCollector(t)
	setEnv(t, map[string]string{
		"OTEL_TRACES_EXPORTER":        "otlp,console",
		"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
	})
	var console bytes.Buffer
	mem := tracetest.NewInMemoryExporter()
	tr, shutdown, err := setup.Tracker(t.Context(),
		setup.WithDir(t.TempDir()),
		setup.WithConsoleWriter(&console),
		setup.WithExporters(mem),
	)
	if err != nil {
		t.Fatal(err)
	}
	run := runPipeline(t, tr)
	// Finalize flushed every processor; the in-memory exporter forgets its
	// spans at shutdown, so read it now.
	var fromCode []string
	for _, s := range mem.GetSpans() {
		fromCode = append(fromCode, s.SpanContext.SpanID().String())
	}
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}

	rf, err := runfile.ReadFile(run.File())
	if err != nil {
		t.Fatal(err)
	}
	runFileSpans := []string{rf.SpanID}
	var walk func(runfile.Stages)
	walk = func(ss runfile.Stages) {
		for _, s := range ss {
			runFileSpans = append(runFileSpans, s.SpanID)
			walk(s.Stages)
		}
	}
	walk(rf.Stages)
	slices.Sort(runFileSpans)

	_, _, otlpSpans, _ := c.snapshot()
	var fromOTLP []string
	for _, s := range otlpSpans {
		fromOTLP = append(fromOTLP, hex.EncodeToString(s.GetSpanId()))
	}
	var fromConsole []string
	for _, s := range readConsole(t, console.Bytes()) {
		if s.SpanContext.TraceID != rf.TraceID {
			t.Errorf("console span %q in trace %s, want %s", s.Name, s.SpanContext.TraceID, rf.TraceID)
		}
		fromConsole = append(fromConsole, s.SpanContext.SpanID)
	}
	for name, got := range map[string][]string{"otlp": fromOTLP, "console": fromConsole, "WithExporters": fromCode} {
		slices.Sort(got)
		if !slices.Equal(got, runFileSpans) {
			t.Errorf("%s span ids %v, want the run file's %v", name, got, runFileSpans)
		}
	}
}

// Exporters given in code come in addition to those the environment
// selects.
func TestWithExportersAddsToEnv(t *testing.T) {
	setEnv(t, map[string]string{"OTEL_TRACES_EXPORTER": "console"})
	var console bytes.Buffer
	rec := tracetest.NewSpanRecorder()
	tr, shutdown, err := setup.Tracker(t.Context(),
		setup.WithDir(t.TempDir()),
		setup.WithConsoleWriter(&console),
		setup.WithProviderOptions(sdktrace.WithSpanProcessor(rec)),
	)
	if err != nil {
		t.Fatal(err)
	}
	runPipeline(t, tr)
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.Ended()); got != pipelineSpans {
		t.Errorf("code-given processor got %d spans, want %d", got, pipelineSpans)
	}
	if got := len(readConsole(t, console.Bytes())); got != pipelineSpans {
		t.Errorf("console got %d spans, want %d", got, pipelineSpans)
	}
}

func TestTrackerResource(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		opts []setup.Option
		want map[string]string
	}{
		{
			name: "program name by default",
			want: map[string]string{"service.name": "setup.test", "stage_tracker.version": tracker.Version, "telemetry.sdk.language": "go"},
		},
		{
			name: "service name from code",
			opts: []setup.Option{setup.WithServiceName("trainer"), setup.WithResourceAttributes(attribute.String("team", "ml"))},
			want: map[string]string{"service.name": "trainer", "team": "ml"},
		},
		{
			name: "resource attributes override code",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs,team=ops"},
			opts: []setup.Option{setup.WithServiceName("trainer"), setup.WithResourceAttributes(attribute.String("team", "ml"))},
			want: map[string]string{"service.name": "from-attrs", "team": "ops"},
		},
		{
			name: "OTEL_SERVICE_NAME has the last word",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs", "OTEL_SERVICE_NAME": "from-env"},
			opts: []setup.Option{setup.WithServiceName("trainer")},
			want: map[string]string{"service.name": "from-env", "stage_tracker.version": tracker.Version},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			rec := tracetest.NewSpanRecorder()
			opts := append([]setup.Option{
				setup.WithDir(t.TempDir()),
				setup.WithProviderOptions(sdktrace.WithSpanProcessor(rec)),
			}, tt.opts...)
			tr, shutdown, err := setup.Tracker(t.Context(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			runPipeline(t, tr)
			if err := shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, s := range rec.Ended() {
				got := map[string]string{}
				for _, kv := range s.Resource().Attributes() {
					got[string(kv.Key)] = kv.Value.String()
				}
				for k, v := range tt.want {
					if got[k] != v {
						t.Errorf("span %q: resource %s = %q, want %q (resource %v)", s.Name(), k, got[k], v, got)
					}
				}
			}
		})
	}
}

// With no endpoint in the environment, OTLP goes to the specification's
// default, http://localhost:4318, in plain HTTP: the Go exporter on its own
// would speak TLS to it and fail against a local Jaeger or Collector.
func TestTrackerOTLPDefaultEndpointIsPlainHTTP(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:4318")
	if err != nil {
		t.Skipf("port 4318 is taken (%v): the default endpoint cannot be faked here", err)
	}
	c := &collector{}
	srv := &httptest.Server{Listener: lis, Config: &http.Server{Handler: c}}
	srv.Start()
	defer srv.Close()

	setEnv(t, map[string]string{"OTEL_TRACES_EXPORTER": "otlp"})
	tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	runPipeline(t, tr)
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, paths, spans, _ := c.snapshot(); len(spans) != pipelineSpans || paths[0] != "/v1/traces" {
		t.Errorf("default endpoint got %d spans at %v, want %d at /v1/traces", len(spans), paths, pipelineSpans)
	}
}

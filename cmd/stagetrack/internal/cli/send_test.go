package cli_test

import (
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// collector keeps the spans an OTLP endpoint received.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
	scope []string
	svc   []string
}

func (c *collector) add(req *coltracepb.ExportTraceServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				c.svc = append(c.svc, kv.GetValue().GetStringValue())
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, s)
				c.scope = append(c.scope, ss.GetScope().GetName())
			}
		}
	}
}

// otlpHTTP is an OTLP/HTTP endpoint that decodes protobuf requests and
// answers with status.
func otlpHTTP(t *testing.T, status int) (*httptest.Server, *collector) {
	t.Helper()
	h, c := otlpHandler(status)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, c
}

func otlpHandler(status int) (http.Handler, *collector) {
	c := &collector{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want protobuf on /v1/traces", http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if status != http.StatusOK {
			http.Error(w, "refused by test", status)
			return
		}
		c.add(&req)
		resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(resp)
	}), c
}

type grpcCollector struct {
	coltracepb.UnimplementedTraceServiceServer
	c *collector
}

func (g grpcCollector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	g.c.add(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// otlpGRPC is an OTLP/gRPC endpoint; it returns its address.
func otlpGRPC(t *testing.T) (string, *collector) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, grpcCollector{c: c})
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return "http://" + lis.Addr().String(), c
}

// setenv sets an environment variable for the OTLP exporter, which reads
// the process environment, and returns it for the command's Env too.
func setenv(t *testing.T, kv ...string) map[string]string {
	t.Helper()
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_HEADERS"} {
		t.Setenv(k, "")
	}
	env := map[string]string{"NO_COLOR": "1"}
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
		env[kv[i]] = kv[i+1]
	}
	return env
}

// wantIDs are the span ids a run file holds: the run's and its stages'.
func wantIDs(t *testing.T, files ...string) (traceIDs, spanIDs []string) {
	t.Helper()
	for _, f := range files {
		r, err := runfile.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		traceIDs = append(traceIDs, r.TraceID)
		spanIDs = append(spanIDs, r.SpanID)
		var walk func(runfile.Stages)
		walk = func(s runfile.Stages) {
			for _, st := range s {
				spanIDs = append(spanIDs, st.SpanID)
				walk(st.Stages)
			}
		}
		walk(r.Stages)
	}
	slices.Sort(traceIDs)
	slices.Sort(spanIDs)
	return traceIDs, spanIDs
}

func TestSend(t *testing.T) {
	files := []string{runFile("security"), runFile("train-a")}
	cases := []struct {
		name    string
		proto   string
		svcFlag string
		svcEnv  string
		wantSvc string
	}{
		{"http/protobuf by default", "", "", "", "stagetrack"},
		{"http/protobuf, OTEL_SERVICE_NAME", "http/protobuf", "", "nightly-etl", "nightly-etl"},
		{"grpc, --service-name", "grpc", "replayed", "nightly-etl", "replayed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var (
				endpoint string
				col      *collector
			)
			if c.proto == "grpc" {
				endpoint, col = otlpGRPC(t)
			} else {
				srv, cl := otlpHTTP(t, http.StatusOK)
				endpoint, col = srv.URL, cl
			}
			env := setenv(t, "OTEL_EXPORTER_OTLP_ENDPOINT", endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL", c.proto,
				"OTEL_EXPORTER_OTLP_INSECURE", "true", "OTEL_SERVICE_NAME", c.svcEnv)
			args := append([]string{"send"}, files...)
			if c.svcFlag != "" {
				args = append(args, "--service-name", c.svcFlag)
			}
			r := invocation{env: env}.run(t, args...)
			wantCode(t, r, cli.ExitOK)
			if n := strings.Count(r.stdout, "sent run "); n != len(files) {
				t.Errorf("stdout reports %d runs sent, want %d:\n%s", n, len(files), r.stdout)
			}

			wantTraces, wantSpans := wantIDs(t, files...)
			col.mu.Lock()
			defer col.mu.Unlock()
			if len(col.spans) != len(wantSpans) {
				t.Fatalf("collector got %d spans, want %d (the runs and their stages)", len(col.spans), len(wantSpans))
			}
			var gotTraces, gotSpans []string
			for i, s := range col.spans {
				gotSpans = append(gotSpans, hex.EncodeToString(s.GetSpanId()))
				if tid := hex.EncodeToString(s.GetTraceId()); !slices.Contains(gotTraces, tid) {
					gotTraces = append(gotTraces, tid)
				}
				if col.scope[i] != keys.ScopeName {
					t.Errorf("span %s: scope %q, want %q", s.GetName(), col.scope[i], keys.ScopeName)
				}
			}
			slices.Sort(gotTraces)
			slices.Sort(gotSpans)
			if !slices.Equal(gotTraces, wantTraces) || !slices.Equal(gotSpans, wantSpans) {
				t.Errorf("ids sent:\n traces %v\n spans %v\nwant\n traces %v\n spans %v", gotTraces, gotSpans, wantTraces, wantSpans)
			}
			for _, svc := range col.svc {
				if svc != c.wantSvc {
					t.Errorf("service.name %q, want %q", svc, c.wantSvc)
				}
			}
		})
	}
}

// TestSendTimestamps checks that the spans keep the run file's times.
func TestSendTimestamps(t *testing.T) {
	srv, col := otlpHTTP(t, http.StatusOK)
	env := setenv(t, "OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	wantCode(t, invocation{env: env}.run(t, "send", runFile("train-b")), cli.ExitOK)
	run, err := runfile.ReadFile(runFile("train-b"))
	if err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, s := range col.spans {
		id := hex.EncodeToString(s.GetSpanId())
		var start, end int64
		switch {
		case id == run.SpanID:
			start, end = run.StartTime.UnixNano(), run.CompletedAt.UnixNano()
		default:
			st, ok := findStage(run.Stages, id)
			if !ok {
				t.Fatalf("span %s (%s) is not in the run file", id, s.GetName())
			}
			start, end = st.StartTime.UnixNano(), st.EndTime.UnixNano()
		}
		if int64(s.GetStartTimeUnixNano()) != start || int64(s.GetEndTimeUnixNano()) != end {
			t.Errorf("span %s: %d-%d, want %d-%d", s.GetName(), s.GetStartTimeUnixNano(), s.GetEndTimeUnixNano(), start, end)
		}
	}
}

func findStage(s runfile.Stages, spanID string) (runfile.Stage, bool) {
	for _, st := range s {
		if st.SpanID == spanID {
			return st, true
		}
		if got, ok := findStage(st.Stages, spanID); ok {
			return got, true
		}
	}
	return runfile.Stage{}, false
}

// TestSendDefaultEndpoint: with no endpoint in the environment, send goes to
// http://localhost:4318 in plain HTTP, as the specification says (the Go
// exporter alone would try TLS). Skipped when the port is taken.
func TestSendDefaultEndpoint(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:4318")
	if err != nil {
		t.Skipf("port 4318 is taken: %v", err)
	}
	h, col := otlpHandler(http.StatusOK)
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = lis
	srv.Start()
	t.Cleanup(srv.Close)
	env := setenv(t)
	r := invocation{env: env}.run(t, "send", "--timeout", "10s", runFile("train-a"))
	wantCode(t, r, cli.ExitOK)
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.spans) != 9 {
		t.Errorf("the default endpoint got %d spans, want 9", len(col.spans))
	}
}

func TestSendErrors(t *testing.T) {
	refusing, _ := otlpHTTP(t, http.StatusBadRequest)
	cases := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"endpoint refuses", []string{"OTEL_EXPORTER_OTLP_ENDPOINT", refusing.URL}, []string{"send", runFile("train-a")}, cli.ExitFailure, "400"},
		{"unknown protocol", []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"}, []string{"send", runFile("train-a")}, cli.ExitUsage, "unknown protocol"},
		{"bad timeout", nil, []string{"send", "--timeout", "0s", runFile("train-a")}, cli.ExitUsage, "--timeout must be positive"},
		{"missing file", nil, []string{"send", "nope.json"}, cli.ExitFailure, "nope.json"},
		// No RUNFILE sends the spool (spool_test.go): an empty one is no error.
		{"no file, empty spool", []string{cli.EnvSpool, t.TempDir()}, []string{"send"}, cli.ExitOK, "holds nothing to send"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := setenv(t, c.env...)
			r := invocation{env: env}.run(t, c.args...)
			wantCode(t, r, c.code)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q does not say %q", r.stderr, c.want)
			}
		})
	}
}

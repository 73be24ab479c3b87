package setup_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/stage-tracker/stage-tracker/tracker"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// setEnv clears every OTEL_* variable of the test process, so that the
// developer's own settings cannot leak into a test, then sets env. Empty
// values count as unset for Tracker and for the OTel SDK alike.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// errBadInput is the error of the failing stage of runPipeline.
var errBadInput = errors.New("bad input")

// pipelineSpans is how many spans runPipeline makes: the run and 5 stages.
const pipelineSpans = 6

// pipelineSpanNames are the names of those spans.
var pipelineSpanNames = []string{"pipeline", "load", "train", "epoch", "epoch", "check"}

// runPipeline records a small run: a stage with data, a stage with two
// nested repeats of another, and a failed stage. It finalises the run and
// fails the test when Finalize fails.
func runPipeline(t *testing.T, tr *tracker.Tracker) *tracker.Run {
	t.Helper()
	ctx, run := tr.Start(t.Context(), map[string]any{"dataset": "iris"}, tracker.WithRunName("pipeline"))
	must := func(err error) {
		t.Helper()
		if err != nil && !errors.Is(err, errBadInput) {
			t.Fatal(err)
		}
	}
	must(run.Stage(ctx, "load", func(context.Context) (any, error) {
		return map[string]any{"rows": 150, "source": "iris.csv"}, nil
	}))
	must(run.Stage(ctx, "train", func(ctx context.Context) (any, error) {
		for i := range 2 {
			must(run.Stage(ctx, "epoch", func(context.Context) (any, error) {
				return map[string]any{"epoch": i, "loss": 0.5 / float64(i+1)}, nil
			}))
		}
		return nil, nil
	}))
	must(run.Stage(ctx, "check", func(context.Context) (any, error) {
		return nil, errBadInput
	}))
	if err := run.Finalize(t.Context()); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	return run
}

// collector is a fake OTLP receiver: it keeps every span and resource it is
// sent, over HTTP (protobuf or JSON) or gRPC. It is safe for concurrent use.
type collector struct {
	mu        sync.Mutex
	requests  int
	paths     []string
	spans     []*tracepb.Span
	resources []map[string]string
}

func (c *collector) add(path string, req *coltracepb.ExportTraceServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	c.paths = append(c.paths, path)
	for _, rs := range req.GetResourceSpans() {
		c.resources = append(c.resources, stringAttrs(rs.GetResource().GetAttributes()))
		for _, ss := range rs.GetScopeSpans() {
			c.spans = append(c.spans, ss.GetSpans()...)
		}
	}
}

func (c *collector) snapshot() (requests int, paths []string, spans []*tracepb.Span, resources []map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests, append([]string(nil), c.paths...), append([]*tracepb.Span(nil), c.spans...), append([]map[string]string(nil), c.resources...)
}

func stringAttrs(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	return m
}

// ServeHTTP takes OTLP/HTTP export requests, protobuf or JSON.
func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	ct := r.Header.Get("Content-Type")
	if ct == "application/json" {
		body, err = hexIDsToBase64(body)
		if err == nil {
			err = protojson.Unmarshal(body, &req)
		}
	} else {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.add(r.URL.Path, &req)
	w.Header().Set("Content-Type", ct)
	if ct == "application/json" {
		_, _ = w.Write([]byte("{}"))
	}
}

// hexIDsToBase64 rewrites the trace and span ids of an OTLP/JSON request,
// which OTLP/JSON writes in hex, in the base64 that protojson reads for
// bytes fields.
func hexIDsToBase64(body []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	var walk func(v any) error
	walk = func(v any) error {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && (k == "traceId" || k == "spanId" || k == "parentSpanId") {
					b, err := hex.DecodeString(s)
					if err != nil {
						return fmt.Errorf("%s %q is not hex: %w", k, s, err)
					}
					v[k] = base64.StdEncoding.EncodeToString(b)
					continue
				}
				if err := walk(e); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range v {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// newHTTPCollector starts a fake OTLP/HTTP receiver and returns its base
// URL.
func newHTTPCollector(t *testing.T) (*collector, string) {
	t.Helper()
	c := &collector{}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return c, srv.URL
}

type grpcCollector struct {
	coltracepb.UnimplementedTraceServiceServer
	c *collector
}

func (g grpcCollector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	g.c.add("grpc", req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// newGRPCCollector starts a fake OTLP/gRPC receiver on 127.0.0.1 and
// returns its endpoint URL.
func newGRPCCollector(t *testing.T) (*collector, string) {
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
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return c, "http://" + lis.Addr().String()
}

//go:build e2e

package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// otlptracehttp v1.47.0 sends through a transport shared by every
		// exporter of the process, and its Shutdown leaves that transport's
		// keep-alive connection to Jaeger open until it has been idle for
		// 90 s; Jaeger, unlike an httptest server, does not close it. The
		// pool is bounded and shared, so it does not grow with each
		// setup.Tracker. The tests' own HTTP clients close their
		// connections, so nothing of theirs hides behind this.
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	)
}

// endpoints says where the Jaeger under test listens.
type endpoints struct {
	query    string // query API base URL
	otlpHTTP string // OTLP/HTTP receiver base URL
	otlpGRPC string // OTLP/gRPC receiver URL
}

// jaegerEndpoints reads the STAGE_TRACKER_E2E_* variables that
// scripts/jaeger-e2e.sh sets (defaults: Jaeger's usual ports on 127.0.0.1)
// and fails the test at once when no Jaeger answers there.
func jaegerEndpoints(t *testing.T) endpoints {
	t.Helper()
	get := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return strings.TrimSuffix(v, "/")
		}
		return def
	}
	ep := endpoints{
		query:    get("STAGE_TRACKER_E2E_JAEGER_QUERY", "http://127.0.0.1:16686"),
		otlpHTTP: get("STAGE_TRACKER_E2E_OTLP_HTTP", "http://127.0.0.1:4318"),
		otlpGRPC: get("STAGE_TRACKER_E2E_OTLP_GRPC", "http://127.0.0.1:4317"),
	}
	resp, err := httpGet(t, ep.query+"/api/services")
	if err != nil {
		t.Fatalf("no Jaeger query API at %s (%v): run bash scripts/jaeger-e2e.sh, or set STAGE_TRACKER_E2E_JAEGER_QUERY", ep.query, err)
	}
	resp.Body.Close()
	return ep
}

// httpGet sends a GET that closes its connection afterwards, so that no
// keep-alive connection outlives the test.
func httpGet(t *testing.T, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Close = true
	return http.DefaultClient.Do(req)
}

// setEnv clears every OTEL_* variable of the test process, then sets env.
// Empty values count as unset for setup.Tracker and the OTel SDK alike.
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

// The Jaeger query API's JSON (GET /api/traces/<trace_id>), as much of it as
// the tests read. Times and durations are in microseconds.
type (
	jaegerResponse struct {
		Data   []jaegerTrace `json:"data"`
		Errors []struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"errors"`
	}
	jaegerTrace struct {
		TraceID   string                   `json:"traceID"`
		Spans     []jaegerSpan             `json:"spans"`
		Processes map[string]jaegerProcess `json:"processes"`
	}
	jaegerSpan struct {
		TraceID       string      `json:"traceID"`
		SpanID        string      `json:"spanID"`
		OperationName string      `json:"operationName"`
		References    []jaegerRef `json:"references"`
		StartTime     int64       `json:"startTime"`
		Duration      int64       `json:"duration"`
		Tags          []jaegerKV  `json:"tags"`
		Logs          []jaegerLog `json:"logs"`
		ProcessID     string      `json:"processID"`
	}
	jaegerRef struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	}
	jaegerKV struct {
		Key   string `json:"key"`
		Type  string `json:"type"`
		Value any    `json:"value"` // json.Number for numbers
	}
	jaegerLog struct {
		Timestamp int64      `json:"timestamp"`
		Fields    []jaegerKV `json:"fields"`
	}
	jaegerProcess struct {
		ServiceName string     `json:"serviceName"`
		Tags        []jaegerKV `json:"tags"`
	}
)

// tag returns the tag named key and whether there is one.
func tag(kvs []jaegerKV, key string) (jaegerKV, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv, true
		}
	}
	return jaegerKV{}, false
}

// tagString returns the tag's value as text ("" when absent): numbers as
// written, bools as true/false.
func tagString(kvs []jaegerKV, key string) string {
	kv, ok := tag(kvs, key)
	if !ok {
		return ""
	}
	return fmt.Sprint(kv.Value)
}

// normID pads a Jaeger id to its full hex width: Jaeger writes a trace id
// whose high 64 bits are zero without them.
func normID(id string, width int) string {
	if len(id) < width {
		return strings.Repeat("0", width-len(id)) + id
	}
	return id
}

// waitTrace polls GET /api/traces/<traceID> until Jaeger holds want spans of
// the trace, then returns the response. The spans are written by the
// exporters before the run is finalised and shut down, but the receiver
// stores them asynchronously from the caller's point of view, so a short
// deadline-bounded poll is the honest way to wait for an external process.
func waitTrace(t *testing.T, query, traceID string, want int) jaegerResponse {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var (
		last   jaegerResponse
		status int
		body   []byte
	)
	for attempt := 0; ; attempt++ {
		resp, err := httpGet(t, query+"/api/traces/"+traceID)
		if err != nil {
			t.Fatalf("GET trace %s: %v", traceID, err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("read trace %s: %v", traceID, err)
		}
		status = resp.StatusCode
		if status == http.StatusOK {
			last = jaegerResponse{}
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&last); err != nil {
				t.Fatalf("trace %s: %v\n%s", traceID, err, body)
			}
			n := 0
			for _, tr := range last.Data {
				n += len(tr.Spans)
			}
			if n >= want {
				t.Logf("trace %s: %d spans in Jaeger after %d polls", traceID, n, attempt+1)
				return last
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s: Jaeger did not hold %d spans within 20s (last status %d): %.2000s", traceID, want, status, body)
		}
		time.Sleep(50 * time.Millisecond) // polling an external process, with a deadline
	}
}

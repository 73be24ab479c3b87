package receiver_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/receiver"
)

// spanSink collects what a receiver hands on. It is safe for concurrent
// use.
type spanSink struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (s *spanSink) end(spans []sdktrace.ReadOnlySpan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spans = append(s.spans, spans...)
}

func (s *spanSink) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, sp := range s.spans {
		out = append(out, sp.Name())
	}
	return out
}

// startReceiver starts a receiver with the given bounds, shut down when the
// test ends.
func startReceiver(t *testing.T, maxBody int64, maxSpans int) (*receiver.Receiver, *spanSink) {
	t.Helper()
	sink := &spanSink{}
	r, err := receiver.Start(t.Context(), sink.end, receiver.WithMaxBody(maxBody), receiver.WithMaxSpans(maxSpans))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return r, sink
}

var (
	testTraceID = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	testRootID  = trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

// testStubs are n spans of one trace: "s0" a root with an int attribute,
// the others its children, the last one failed.
func testStubs(n int) tracetest.SpanStubs {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	var stubs tracetest.SpanStubs
	for i := range n {
		sid := testRootID
		sid[7] += byte(i)
		st := tracetest.SpanStub{
			Name:        fmt.Sprintf("s%d", i),
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: sid, TraceFlags: trace.FlagsSampled}),
			StartTime:   t0.Add(time.Duration(i) * time.Second),
			EndTime:     t0.Add(time.Duration(i+1) * time.Second),
			Attributes:  []attribute.KeyValue{attribute.Int("i", i)},
		}
		if i > 0 {
			st.Parent = trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: testRootID, TraceFlags: trace.FlagsSampled})
		}
		if i == n-1 && n > 1 {
			st.Status = sdktrace.Status{Code: codes.Error, Description: "disk full"}
		}
		stubs = append(stubs, st)
	}
	return stubs
}

// exportSDK sends stubs to r with the OTel Go OTLP/HTTP exporter.
func exportSDK(t *testing.T, r *receiver.Receiver, stubs tracetest.SpanStubs, opts ...otlptracehttp.Option) error {
	t.Helper()
	opts = append([]otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(r.URL()),
		otlptracehttp.WithHeaders(map[string]string{"Authorization": "Bearer " + r.Token()}),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
	}, opts...)
	exp, err := otlptracehttp.New(t.Context(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	err = exp.ExportSpans(t.Context(), stubs.Snapshots())
	if serr := exp.Shutdown(t.Context()); serr != nil {
		t.Fatal(serr)
	}
	return err
}

func TestOTLPReceiverTakesWhatSDKsSend(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []otlptracehttp.Option
	}{
		{"protobuf", nil},
		{"JSON with hex ids", []otlptracehttp.Option{otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON)}},
		{"gzip protobuf", []otlptracehttp.Option{otlptracehttp.WithCompression(otlptracehttp.GzipCompression)}},
		{"gzip JSON", []otlptracehttp.Option{otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON), otlptracehttp.WithCompression(otlptracehttp.GzipCompression)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, sink := startReceiver(t, receiver.DefaultMaxBody, 100)
			want := testStubs(3)
			if err := exportSDK(t, r, want, tc.opts...); err != nil {
				t.Fatal(err)
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if len(sink.spans) != len(want) {
				t.Fatalf("got %d spans, want %d", len(sink.spans), len(want))
			}
			for i, got := range sink.spans {
				w := want[i]
				if got.Name() != w.Name || got.SpanContext().TraceID() != testTraceID || got.SpanContext().SpanID() != w.SpanContext.SpanID() ||
					got.Parent().SpanID() != w.Parent.SpanID() || !got.StartTime().Equal(w.StartTime) || !got.EndTime().Equal(w.EndTime) {
					t.Errorf("span %d: got %s %s/%s parent %s %v-%v; want %s %s/%s parent %s", i, got.Name(),
						got.SpanContext().TraceID(), got.SpanContext().SpanID(), got.Parent().SpanID(), got.StartTime(), got.EndTime(),
						w.Name, testTraceID, w.SpanContext.SpanID(), w.Parent.SpanID())
				}
				if !slices.Equal(got.Attributes(), w.Attributes) || got.Status() != w.Status {
					t.Errorf("span %d: attributes %v status %v; want %v %v", i, got.Attributes(), got.Status(), w.Attributes, w.Status)
				}
				if !got.SpanContext().IsSampled() {
					t.Errorf("span %d is not sampled: the exporters would drop it", i)
				}
			}
		})
	}
}

// TestOTLPReceiverChildEnvWorksWithSDK: the variables run gives CMD, read
// by an SDK from its environment alone (the header value percent-encoded).
func TestOTLPReceiverChildEnvWorksWithSDK(t *testing.T) {
	r, sink := startReceiver(t, receiver.DefaultMaxBody, 100)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
		}
	}
	for _, kv := range r.ChildEnv(func(string) string { return "" }) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	exp, err := otlptracehttp.New(t.Context(), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	err = exp.ExportSpans(t.Context(), testStubs(2).Snapshots())
	if serr := exp.Shutdown(t.Context()); err == nil {
		err = serr
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := sink.names(); !slices.Equal(got, []string{"s0", "s1"}) {
		t.Fatalf("received %v", got)
	}
}

func TestOTLPReceiverChildEnv(t *testing.T) {
	r, _ := startReceiver(t, receiver.DefaultMaxBody, 100)
	auth := "authorization=Bearer%20" + r.Token()
	base := strings.TrimSuffix(r.URL(), "/v1/traces")
	traces := []string{
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + r.URL(),
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS=" + auth,
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set: the general variables too", nil, append(slices.Clone(traces),
			"OTEL_EXPORTER_OTLP_ENDPOINT="+base, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_HEADERS="+auth)},
		{"user's traces variables are replaced", map[string]string{
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector:4318/v1/traces", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
		}, append(slices.Clone(traces),
			"OTEL_EXPORTER_OTLP_ENDPOINT="+base, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_HEADERS="+auth)},
		{"user's general endpoint is kept for metrics and logs", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4318", "OTEL_EXPORTER_OTLP_HEADERS": "api-key=x",
		}, traces},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := r.ChildEnv(func(k string) string { return tc.env[k] })
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
	if len(r.Token()) != 64 || r.Token() == startTokenOfAnother(t) {
		t.Errorf("token %q: want 64 hex digits, another per receiver", r.Token())
	}
}

func startTokenOfAnother(t *testing.T) string {
	r, _ := startReceiver(t, receiver.DefaultMaxBody, 1)
	return r.Token()
}

// requestBody is an ExportTraceServiceRequest of stubs, in protobuf.
func requestBody(t *testing.T, stubs tracetest.SpanStubs) []byte {
	t.Helper()
	b, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: toProto(stubs)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// toProto is a minimal encoder of stubs for the tests that write bodies
// by hand (ids, names, times, parent).
func toProto(stubs tracetest.SpanStubs) []*tracepb.ResourceSpans {
	var spans []*tracepb.Span
	for _, s := range stubs {
		tid, sid := s.SpanContext.TraceID(), s.SpanContext.SpanID()
		sp := &tracepb.Span{TraceId: tid[:], SpanId: sid[:], Name: s.Name,
			StartTimeUnixNano: uint64(s.StartTime.UnixNano()), EndTimeUnixNano: uint64(s.EndTime.UnixNano())}
		if s.Parent.IsValid() {
			pid := s.Parent.SpanID()
			sp.ParentSpanId = pid[:]
		}
		spans = append(spans, sp)
	}
	return []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}}}}
}

// shortTraceID is a request whose one span has a 3-byte trace id.
func shortTraceID(t *testing.T) []byte {
	t.Helper()
	req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: toProto(testStubs(1))}
	req.ResourceSpans[0].ScopeSpans[0].Spans[0].TraceId = []byte{1, 2, 3}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type httpReply struct {
	code        int
	contentType string
	body        []byte
	header      http.Header
}

// post sends one request to url with its own client, closed after. It
// may be called from any goroutine: a failure is an error and a zero reply.
func post(t *testing.T, method, url string, header map[string]string, body []byte) httpReply {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return httpReply{}
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Error(err)
		return httpReply{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
		return httpReply{}
	}
	return httpReply{code: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b, header: resp.Header}
}

func TestOTLPReceiverRefuses(t *testing.T) {
	const maxBody = 4096
	r, sink := startReceiver(t, maxBody, 100)
	good := requestBody(t, testStubs(2))
	auth := "Bearer " + r.Token()
	protoHdr := map[string]string{"Content-Type": "application/x-protobuf", "Authorization": auth}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range protoHdr {
			h[k] = v
		}
		for k, v := range extra {
			if v == "" {
				delete(h, k)
				continue
			}
			h[k] = v
		}
		return h
	}
	// A body that is small compressed and over the limit inflated.
	bomb := gzipped(t, bytes.Repeat([]byte{0}, 2*maxBody))
	for _, tc := range []struct {
		name   string
		method string
		path   string
		header map[string]string
		body   []byte
		code   int
	}{
		{"no credential", "POST", "", with(map[string]string{"Authorization": ""}), good, http.StatusUnauthorized},
		{"wrong credential", "POST", "", with(map[string]string{"Authorization": "Bearer " + strings.Repeat("0", 64)}), good, http.StatusUnauthorized},
		{"credential in another scheme", "POST", "", with(map[string]string{"Authorization": "Basic " + r.Token()}), good, http.StatusUnauthorized},
		{"credential without a scheme", "POST", "", with(map[string]string{"Authorization": r.Token()}), good, http.StatusUnauthorized},
		{"wrong content type", "POST", "", with(map[string]string{"Content-Type": "text/plain"}), good, http.StatusUnsupportedMediaType},
		{"no content type", "POST", "", with(map[string]string{"Content-Type": ""}), good, http.StatusUnsupportedMediaType},
		{"unsupported content encoding", "POST", "", with(map[string]string{"Content-Encoding": "br"}), good, http.StatusUnsupportedMediaType},
		{"malformed protobuf", "POST", "", protoHdr, []byte{0xff, 0xff, 0xff}, http.StatusBadRequest},
		{"malformed JSON", "POST", "", with(map[string]string{"Content-Type": "application/json"}), []byte(`{"resourceSpans": [`), http.StatusBadRequest},
		{"JSON of the wrong shape", "POST", "", with(map[string]string{"Content-Type": "application/json"}), []byte(`{"resourceSpans": 3}`), http.StatusBadRequest},
		{"JSON with data after it", "POST", "", with(map[string]string{"Content-Type": "application/json"}), []byte(`{} {}`), http.StatusBadRequest},
		{"JSON with data after a nested object", "POST", "", with(map[string]string{"Content-Type": "application/json"}), []byte(`{"resourceSpans":[{"resource":{"attributes":[{"key":"}","value":{"stringValue":"\\\"{"}}]}}]} x`), http.StatusBadRequest},
		{"JSON with data after a string ending in a backslash", "POST", "", with(map[string]string{"Content-Type": "application/json"}), []byte(`{"resourceSpans":[],"x":"a\\\\"} {}`), http.StatusBadRequest},
		// pdata holds ids of fixed size: one of another length fails the
		// request, as in the Collector (an all-zero id is a partial success).
		{"protobuf with a 3-byte trace id", "POST", "", protoHdr, shortTraceID(t), http.StatusBadRequest},
		{"JSON with base64 ids", "POST", "", with(map[string]string{"Content-Type": "application/json"}),
			[]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AQIDBAUGBwgJCgsMDQ4PEA==","spanId":"AQEBAQEBAQE="}]}]}]}`), http.StatusBadRequest},
		{"JSON with invalid UTF-8 in the error", "POST", "", with(map[string]string{"Content-Type": "application/json"}), []byte("{\"resourceSpans\": \xff\xfe}"), http.StatusBadRequest},
		{"corrupt gzip", "POST", "", with(map[string]string{"Content-Encoding": "gzip"}), good, http.StatusBadRequest},
		{"body over the limit", "POST", "", protoHdr, bytes.Repeat([]byte{0}, maxBody+1), http.StatusRequestEntityTooLarge},
		{"gzip body over the limit once inflated", "POST", "", with(map[string]string{"Content-Encoding": "gzip"}), bomb, http.StatusRequestEntityTooLarge},
		{"wrong method", "GET", "", protoHdr, nil, http.StatusMethodNotAllowed},
		{"other signal", "POST", "/v1/metrics", protoHdr, good, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := r.URL()
			if tc.path != "" {
				url = strings.TrimSuffix(url, "/v1/traces") + tc.path
			}
			got := post(t, tc.method, url, tc.header, tc.body)
			if got.code != tc.code {
				t.Fatalf("status %d (%s); want %d", got.code, got.body, tc.code)
			}
			var st statuspb.Status
			var err error
			if got.contentType == "application/json" {
				err = protojson.Unmarshal(got.body, &st)
			} else {
				err = proto.Unmarshal(got.body, &st)
			}
			if err != nil || st.Message == "" {
				t.Errorf("body %q (%s): want a google.rpc.Status saying why (%v)", got.body, got.contentType, err)
			}
			if tc.code == http.StatusMethodNotAllowed && got.header.Get("Allow") != "POST" {
				t.Errorf("Allow: %q", got.header.Get("Allow"))
			}
			if tc.code == http.StatusUnauthorized && strings.Contains(st.Message, r.Token()) {
				t.Errorf("the refusal gives the token away: %s", st.Message)
			}
		})
	}
	if got := sink.names(); len(got) != 0 {
		t.Errorf("refused requests reached the run: %v", got)
	}
}

// TestOTLPReceiverJSON: a hand-written OTLP/JSON body with hex ids, as
// other SDKs (Node, Python) send, and the JSON reply.
func TestOTLPReceiverJSON(t *testing.T) {
	r, sink := startReceiver(t, receiver.DefaultMaxBody, 100)
	body := fmt.Sprintf(`{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"node"}}]},
	  "scopeSpans":[{"scope":{"name":"pipeline"},"spans":[
	    {"traceId":"%s","spanId":"%s","name":"extract","kind":1,"startTimeUnixNano":"1764666000000000000","endTimeUnixNano":1764666001000000000,
	     "attributes":[{"key":"rows","value":{"intValue":"3"}}],"status":{"code":2,"message":"disk full"},"unknownField":true},
	    {"trace_id":"%s","span_id":"%s","parent_span_id":"%s","name":"parse","startTimeUnixNano":"1764666000000000000","endTimeUnixNano":"1764666001000000000"}]}]}]}`,
		strings.ToUpper(testTraceID.String()), testRootID, testTraceID, "00f067aa0ba902b8", testRootID)
	got := post(t, "POST", r.URL(), map[string]string{"Content-Type": "application/json; charset=utf-8", "Authorization": "Bearer " + r.Token()}, []byte(body))
	if got.code != http.StatusOK || got.contentType != "application/json" {
		t.Fatalf("status %d, %s: %s", got.code, got.contentType, got.body)
	}
	var resp coltracepb.ExportTraceServiceResponse
	if err := protojson.Unmarshal(got.body, &resp); err != nil || resp.PartialSuccess != nil {
		t.Fatalf("reply %s: %v", got.body, err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.spans) != 2 {
		t.Fatalf("got %d spans", len(sink.spans))
	}
	ex, parse := sink.spans[0], sink.spans[1]
	if ex.SpanContext().TraceID() != testTraceID || ex.SpanContext().SpanID() != testRootID || ex.Status().Description != "disk full" {
		t.Errorf("extract: %s/%s status %v", ex.SpanContext().TraceID(), ex.SpanContext().SpanID(), ex.Status())
	}
	if parse.SpanContext().TraceID() != testTraceID || parse.Parent().SpanID() != testRootID || parse.SpanContext().SpanID().String() != "00f067aa0ba902b8" {
		t.Errorf("parse: %s/%s parent %s", parse.SpanContext().TraceID(), parse.SpanContext().SpanID(), parse.Parent().SpanID())
	}
	if want := time.Unix(0, 1764666001000000000); !ex.EndTime().Equal(want) {
		t.Errorf("end %v, want %v: a 64-bit time lost precision", ex.EndTime(), want)
	}
}

// TestOTLPReceiverJSONEnd: the end of the request object is found past
// braces, brackets and escaped quotes inside strings; white space may
// follow it.
func TestOTLPReceiverJSONEnd(t *testing.T) {
	r, _ := startReceiver(t, receiver.DefaultMaxBody, 100)
	hdr := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + r.Token()}
	for _, tc := range []struct{ name, body string }{
		{"braces in strings", `{"resourceSpans":[{"resource":{"attributes":[{"key":"}]}","value":{"stringValue":"{[\"}"}}]}}]}`},
		{"a string ending in a backslash", `{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"stringValue":"a\\"}}]}}]}`},
		{"white space after", "{\"resourceSpans\":[]} \r\n\t"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(t, "POST", r.URL(), hdr, []byte(tc.body)); got.code != http.StatusOK {
				t.Errorf("status %d: %s", got.code, got.body)
			}
		})
	}
}

// TestOTLPReceiverPartialSuccess: spans over the run's limit, and spans
// with invalid ids, are refused with a partial success, as the OTLP spec
// says: the request itself succeeded, so the SDK must not retry it.
func TestOTLPReceiverPartialSuccess(t *testing.T) {
	r, sink := startReceiver(t, receiver.DefaultMaxBody, 3)
	hdr := map[string]string{"Content-Type": "application/x-protobuf", "Authorization": "Bearer " + r.Token()}
	send := func(body []byte) *coltracepb.ExportTraceServiceResponse {
		t.Helper()
		got := post(t, "POST", r.URL(), hdr, body)
		if got.code != http.StatusOK || got.contentType != "application/x-protobuf" {
			t.Fatalf("status %d, %s", got.code, got.contentType)
		}
		var resp coltracepb.ExportTraceServiceResponse
		if err := proto.Unmarshal(got.body, &resp); err != nil {
			t.Fatal(err)
		}
		return &resp
	}

	bad := &coltracepb.ExportTraceServiceRequest{ResourceSpans: toProto(testStubs(1))}
	bad.ResourceSpans[0].ScopeSpans[0].Spans[0].TraceId = make([]byte, 16)
	badBody, _ := proto.Marshal(bad)
	if resp := send(badBody); resp.GetPartialSuccess().GetRejectedSpans() != 1 || !strings.Contains(resp.GetPartialSuccess().GetErrorMessage(), "invalid (all-zero) trace id") {
		t.Errorf("a span with an all-zero trace id: %v", resp)
	}

	if resp := send(requestBody(t, testStubs(2))); resp.PartialSuccess != nil {
		t.Errorf("2 of 3: %v", resp)
	}
	resp := send(requestBody(t, testStubs(2)))
	if ps := resp.GetPartialSuccess(); ps.GetRejectedSpans() != 1 || !strings.Contains(ps.GetErrorMessage(), "limit of 3") {
		t.Errorf("4 of 3: %v", resp)
	}
	resp = send(requestBody(t, testStubs(1)))
	if ps := resp.GetPartialSuccess(); ps.GetRejectedSpans() != 1 {
		t.Errorf("5 of 3: %v", resp)
	}
	for _, empty := range []map[string]string{hdr, {"Content-Type": "application/json", "Authorization": hdr["Authorization"]}} {
		if got := post(t, "POST", r.URL(), empty, nil); got.code != http.StatusOK {
			t.Errorf("an empty %s request: %d %s; want 200", empty["Content-Type"], got.code, got.body)
		}
	}
	if got := sink.names(); !slices.Equal(got, []string{"s0", "s1", "s0"}) {
		t.Errorf("handed on %v; want the first 3 valid spans", got)
	}
}

// TestOTLPReceiverShutdown: once shut down, the receiver takes nothing and
// its port is closed.
func TestOTLPReceiverShutdown(t *testing.T) {
	sink := &spanSink{}
	r, err := receiver.Start(t.Context(), sink.end, receiver.WithMaxBody(receiver.DefaultMaxBody), receiver.WithMaxSpans(10))
	if err != nil {
		t.Fatal(err)
	}
	if err := exportSDK(t, r, testStubs(1)); err != nil {
		t.Fatal(err)
	}
	if err := r.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	_, err = (&http.Client{Transport: tr}).Post(r.URL(), "application/x-protobuf", bytes.NewReader(requestBody(t, testStubs(1))))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("after shutdown: %v; want a refused connection", err)
	}
	if got := sink.names(); len(got) != 1 {
		t.Errorf("handed on %v", got)
	}
}

// TestOTLPReceiverSpanLimitConcurrentSafe: requests at once from many
// senders never take more than the run's limit, and every span is either
// handed on or counted as rejected.
func TestOTLPReceiverSpanLimitConcurrentSafe(t *testing.T) {
	const senders, requests, perRequest, limit = 6, 5, 3, 50
	r, sink := startReceiver(t, receiver.DefaultMaxBody, limit)
	hdr := map[string]string{"Content-Type": "application/x-protobuf", "Authorization": "Bearer " + r.Token()}
	body := requestBody(t, testStubs(perRequest))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		rejected int64
	)
	for range senders {
		wg.Go(func() {
			for range requests {
				got := post(t, "POST", r.URL(), hdr, body)
				var resp coltracepb.ExportTraceServiceResponse
				if got.code != http.StatusOK || proto.Unmarshal(got.body, &resp) != nil {
					t.Errorf("status %d: %s", got.code, got.body)
					return
				}
				mu.Lock()
				rejected += resp.GetPartialSuccess().GetRejectedSpans()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if n := len(sink.names()); n != limit || int64(n)+rejected != senders*requests*perRequest {
		t.Errorf("handed on %d, rejected %d of %d; want %d handed on", n, rejected, senders*requests*perRequest, limit)
	}
}

//go:build e2e

package e2e_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"

	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// A run inside the request span of an otelhttp-instrumented handler, called
// by an otelhttp-instrumented client, is one trace in Jaeger (client span,
// server span, run, stages), and its run file holds exactly the run's
// stages. A request that starts no run reaches Jaeger and no run file.
func TestJaegerOtelHTTP(t *testing.T) {
	ep := jaegerEndpoints(t)
	setEnv(t, map[string]string{
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT": ep.otlpHTTP,
		"OTEL_SERVICE_NAME":           serviceName,
	})
	dir := t.TempDir()
	tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	tp := tr.TracerProvider()
	prop := propagation.TraceContext{}

	type result struct {
		run *tracker.Run
		err error
	}
	results := make(chan result, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /score", func(w http.ResponseWriter, r *http.Request) {
		ctx, run := tr.Start(r.Context(), "score-request", tracker.WithRunName("score-run"))
		_ = run.Stage(ctx, "parse", func(context.Context) (any, error) {
			return map[string]any{"fields": 3}, nil
		})
		_ = run.Stage(ctx, "score", func(context.Context) (any, error) {
			return map[string]any{"score": 0.93}, nil
		})
		err := run.Finalize(ctx)
		results <- result{run, err}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	srv := httptest.NewServer(otelhttp.NewHandler(mux, "stage-tracker-e2e-server",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(prop),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }),
	))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: otelhttp.NewTransport(base, otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))}

	for _, req := range []struct{ method, path string }{{"GET", "/health"}, {"POST", "/score"}} {
		r, err := http.NewRequestWithContext(t.Context(), req.method, srv.URL+req.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %s", req.method, req.path, resp.Status)
		}
	}
	res := <-results
	if res.err != nil {
		t.Fatalf("Finalize: %v", res.err)
	}
	// The server and client spans end after Finalize: shutdown sends them.
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}

	// The run file: the run's two stages, nothing of HTTP, and the request
	// span as the run's parent.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("%d files in the run directory, want 1 (the run)", len(entries))
	}
	rf, err := runfile.ReadFile(res.run.File())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range rf.Stages {
		keys = append(keys, s.Key)
		if len(s.Stages) != 0 {
			t.Errorf("stage %s has nested stages %d", s.Key, len(s.Stages))
		}
	}
	if len(keys) != 2 || keys[0] != "parse" || keys[1] != "score" || rf.StageCount != 2 || rf.Status != runfile.StatusOK {
		t.Errorf("run file: stages %v, stage_count %d, status %s; want [parse score], 2, ok", keys, rf.StageCount, rf.Status)
	}

	// Jaeger: one trace of five spans, client → server → run → stages.
	got := waitTrace(t, ep.query, rf.TraceID, 5)
	if len(got.Data) != 1 {
		t.Fatalf("Jaeger returned %d traces, want 1", len(got.Data))
	}
	trace := got.Data[0]
	if len(trace.Spans) != 5 {
		t.Errorf("%d spans in the trace, want 5", len(trace.Spans))
	}
	byID := make(map[string]jaegerSpan, len(trace.Spans))
	var clientSpan, server jaegerSpan
	for _, s := range trace.Spans {
		byID[s.SpanID] = s
		switch kind := tagString(s.Tags, "span.kind"); kind {
		case "client":
			clientSpan = s
		case "server":
			server = s
		}
	}
	if clientSpan.SpanID == "" || server.SpanID == "" {
		t.Fatalf("no client or server span among %d spans", len(trace.Spans))
	}
	if len(clientSpan.References) != 0 {
		t.Errorf("client span has a parent: %+v", clientSpan.References)
	}
	if server.OperationName != "POST /score" {
		t.Errorf("server span %q, want %q", server.OperationName, "POST /score")
	}
	parentOf := func(s jaegerSpan) string {
		if len(s.References) != 1 || s.References[0].RefType != "CHILD_OF" {
			t.Errorf("span %q: references %+v, want one CHILD_OF", s.OperationName, s.References)
			return ""
		}
		return s.References[0].SpanID
	}
	if parentOf(server) != clientSpan.SpanID {
		t.Errorf("server span is not the client span's child")
	}
	runSpan, ok := byID[rf.SpanID]
	if !ok || runSpan.OperationName != "score-run" {
		t.Fatalf("run span %s (%q) not in the trace", rf.SpanID, runSpan.OperationName)
	}
	if parentOf(runSpan) != server.SpanID || rf.ParentSpanID != server.SpanID {
		t.Errorf("run parent: Jaeger %s, run file %s, want the server span %s", parentOf(runSpan), rf.ParentSpanID, server.SpanID)
	}
	for _, st := range rf.Stages {
		s, ok := byID[st.SpanID]
		if !ok || s.OperationName != st.Name || parentOf(s) != rf.SpanID {
			t.Errorf("stage %s: Jaeger span %+v, want %q child of the run", st.Key, s, st.Name)
		}
	}
}

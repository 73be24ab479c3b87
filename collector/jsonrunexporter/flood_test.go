package jsonrunexporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// floodRunID is the run id of flood run n.
func floodRunID(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestFloodRefusedRetryablyOverOTLP: a flood of distinct run ids, sent
// through the OTLP receiver as senders do, is bounded by
// store.max_open_runs: past it each request is answered 429 over
// OTLP/HTTP and RESOURCE_EXHAUSTED with RetryInfo over gRPC (codes every
// OTLP sender retries later), counted in otelcol_exporter_jsonrun_refused_spans;
// no request gets a 500, and a run open before the flood is written whole.
func TestFloodRefusedRetryablyOverOTLP(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Store.MaxOpenRuns = 20
	tel := componenttest.NewTelemetry()
	set := exportertest.NewNopSettings(Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	exp, err := NewFactory().CreateTraces(ctx, set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(ctx, componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}

	httpAddr, grpcAddr := freeAddr(t), freeAddr(t)
	rf := otlpreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig()
	cm := confmap.NewFromStringMap(map[string]any{"protocols": map[string]any{
		"http": map[string]any{"endpoint": httpAddr},
		"grpc": map[string]any{"endpoint": grpcAddr},
	}})
	if err := cm.Unmarshal(rcfg); err != nil {
		t.Fatal(err)
	}
	recv, err := rf.CreateTraces(ctx, receivertest.NewNopSettings(rf.Type()), rcfg, exp)
	if err != nil {
		t.Fatal(err)
	}
	if err := recv.Start(ctx, componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := errors.Join(recv.Shutdown(context.Background()), exp.Shutdown(context.Background()), tel.Shutdown(context.Background())); err != nil {
			t.Error(err)
		}
	})

	post := func(td ptrace.Traces) int {
		t.Helper()
		body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+httpAddr+"/v1/traces", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-protobuf")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	legit := floodRunID(1)
	if code := post(traces(legit, 1, spanSpec{id: 2, parent: 1, stage: "build"})); code != http.StatusOK {
		t.Fatalf("legitimate run's first stage: HTTP %d", code)
	}
	answers := map[int]int{}
	for n := 2; n <= 60; n++ {
		answers[post(traces(floodRunID(n), byte(n), spanSpec{id: 2, parent: 1, stage: "flood"}))]++
	}
	if answers[http.StatusOK] != 19 || answers[http.StatusTooManyRequests] != 40 || len(answers) != 2 {
		t.Errorf("flood answered %v; want 19 × 200 (20 runs open at most, one the legitimate run) and 40 × 429", answers)
	}

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(
		traces(floodRunID(61), 61, spanSpec{id: 2, parent: 1, stage: "flood"})))
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Errorf("gRPC flood request: %v; want RESOURCE_EXHAUSTED", err)
	}
	hasRetryInfo := false
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.RetryInfo); ok {
			hasRetryInfo = true
		}
	}
	if !hasRetryInfo {
		t.Errorf("gRPC refusal carries no RetryInfo (details %v): the Go SDK retries RESOURCE_EXHAUSTED only with it", st.Details())
	}

	// The legitimate run, open before the flood, finishes.
	if code := post(traces(legit, 1, spanSpec{id: 3, parent: 1, stage: "test"}, spanSpec{id: 1, count: 2})); code != http.StatusOK {
		t.Fatalf("legitimate run's root: HTTP %d", code)
	}
	run, err := runfile.ReadFile(filepath.Join(dir, legit+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != runfile.StatusOK || len(run.Stages) != 2 {
		t.Errorf("legitimate run: status %s, %d stages; want ok with 2", run.Status, len(run.Stages))
	}
	for n := 21; n <= 61; n++ {
		if _, err := os.Stat(filepath.Join(dir, floodRunID(n)+".json")); err == nil {
			t.Errorf("refused run %d has a run file", n)
		}
	}
	m, err := tel.GetMetric("otelcol_exporter_jsonrun_refused_spans")
	if err != nil {
		t.Fatal(err)
	}
	if sum, ok := m.Data.(metricdata.Sum[int64]); !ok || len(sum.DataPoints) != 1 || sum.DataPoints[0].Value != 41 {
		t.Errorf("refused spans metric = %+v; want 41", m.Data)
	}
	if m, err := tel.GetMetric("otelcol_exporter_jsonrun_open_runs"); err != nil {
		t.Error(err)
	} else if g, ok := m.Data.(metricdata.Gauge[int64]); !ok || len(g.DataPoints) != 1 || g.DataPoints[0].Value != 19 {
		t.Errorf("open runs metric = %+v; want 19 (the flood's)", m.Data)
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/tracker"
)

// Producer kinds, as in the record.
const (
	kindGRPC = "grpc"
	kindExec = "exec"
	kindJSON = "json"
)

// runRecord is one line of the record: a run, its root and every stage
// sent, acknowledged or not.
type runRecord struct {
	RunID      string        `json:"run_id"`
	TraceID    string        `json:"trace_id"`
	RootSpanID string        `json:"root_span_id"`
	RootAcked  bool          `json:"root_acked"`
	RootError  string        `json:"root_error,omitempty"`
	Stages     []stageRecord `json:"stages"`
}

type stageRecord struct {
	SpanID string `json:"span_id"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Acked  bool   `json:"acked"`
	// Error says why a stage was not acknowledged.
	Error string `json:"error,omitempty"`
	// Host and PID are the process that made the stage, as its resource
	// says: each process that is not the run's owner ends a count span of
	// its stages, and the run file's missing_stages counts, per process,
	// those that did not arrive.
	Host string `json:"host"`
	PID  int    `json:"pid"`
}

// generator holds the producers shared by all runs. It is safe for
// concurrent use: each run is one goroutine.
type generator struct {
	o            options
	grpcTP       *sdktrace.TracerProvider
	httpTP       *sdktrace.TracerProvider
	grpcAcks     *ackExporter
	httpAcks     *ackExporter
	owner, child *tracker.Tracker
	client       *http.Client
}

func newGenerator(ctx context.Context, o options) (*generator, error) {
	ge, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(o.grpc), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithTimeout(o.timeout))
	if err != nil {
		return nil, fmt.Errorf("OTLP/gRPC exporter: %w", err)
	}
	he, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(strings.TrimSuffix(o.http, "/")+"/v1/traces"),
		otlptracehttp.WithTimeout(o.timeout))
	if err != nil {
		return nil, fmt.Errorf("OTLP/HTTP exporter: %w", err)
	}
	g := &generator{o: o, grpcAcks: newAckExporter(ge), httpAcks: newAckExporter(he),
		client: &http.Client{Timeout: o.timeout}}
	// Synchronous export: a stage ended is a stage answered for.
	g.grpcTP = sdktrace.NewTracerProvider(sdktrace.WithSyncer(g.grpcAcks),
		sdktrace.WithResource(processResource(kindGRPC)))
	g.httpTP = sdktrace.NewTracerProvider(sdktrace.WithSyncer(g.httpAcks),
		sdktrace.WithResource(processResource(kindExec)))
	g.owner = tracker.New(tracker.WithTracerProvider(g.grpcTP), tracker.WithoutRunFile())
	g.child = tracker.New(tracker.WithTracerProvider(g.httpTP), tracker.WithoutRunFile())
	return g, nil
}

// processResource: each producer is a process of its own to the exporter
// (a resource), as on separate hosts: a host name of its own
// (producerHost), since they share this process's pid.
func processResource(kind string) *resource.Resource {
	return resource.NewSchemaless(semconv.ServiceName("loadgen-"+kind), semconv.HostName(producerHost(kind)), semconv.ProcessPID(os.Getpid()))
}

// producerHost is the host.name of the producer kind in this process.
func producerHost(kind string) string {
	host, _ := os.Hostname()
	return host + "-" + kind
}

func (g *generator) shutdown(ctx context.Context) error {
	return errors.Join(g.grpcTP.Shutdown(ctx), g.httpTP.Shutdown(ctx))
}

// run sends one run: its stages in turn by the three producers, then the
// root.
func (g *generator) run(ctx context.Context, i int) (runRecord, error) {
	runID := newUUID()
	rctx, r := g.owner.Start(ctx, map[string]any{"load": i}, tracker.WithRunID(runID), tracker.WithRunName("loadgen"))
	root := r.SpanContext()
	rec := runRecord{RunID: runID, TraceID: root.TraceID().String(), RootSpanID: root.SpanID().String()}
	jctx, joined := g.child.Join(ctx, runID, root)
	var errs []error
	realExec, jsonStages := 0, 0
	for s := range g.o.stages {
		name := fmt.Sprintf("s%02d", s)
		st := stageRecord{Name: name, PID: os.Getpid()}
		switch s % 3 {
		case 0:
			st.Kind, st.Host = kindGRPC, producerHost(kindGRPC)
			_, stage := r.StartStage(rctx, name)
			stage.End(map[string]any{"i": s}, nil)
			st.SpanID = stage.SpanContext().SpanID().String()
		case 1:
			st.Kind, st.Host = kindExec, producerHost(kindExec)
			if g.o.stagetrack != "" && realExec < g.o.realExec {
				realExec++
				id, pid, why, err := g.realExec(ctx, runID, root, name)
				st.SpanID, st.Acked, st.Error = id, why == "", why
				st.Host, _ = os.Hostname()
				st.PID = pid
				if err != nil {
					errs = append(errs, err)
				}
				break
			}
			_, stage := joined.StartStage(jctx, name)
			stage.End(map[string]any{"i": s}, nil)
			st.SpanID = stage.SpanContext().SpanID().String()
		case 2:
			st.Kind, st.Host = kindJSON, producerHost(kindJSON)
			st.SpanID = newSpanID().String()
			st.Error = g.sendJSON(ctx, runID, root, name, st.SpanID, 0)
			st.Acked = st.Error == ""
			jsonStages++
		}
		rec.Stages = append(rec.Stages, st)
	}
	if jsonStages > 0 {
		// The plain sender's count span, after its stages: how many it made.
		if why := g.sendJSON(ctx, runID, root, "", newSpanID().String(), jsonStages); why != "" {
			errs = append(errs, fmt.Errorf("run %s: the JSON sender's count span: %s", runID, why))
		}
	}
	errs = append(errs, joined.Finalize(ctx), r.Finalize(ctx))
	for i, st := range rec.Stages {
		switch {
		case st.Kind == kindGRPC:
			rec.Stages[i].Acked, rec.Stages[i].Error = g.grpcAcks.acked(st.SpanID)
		case st.Kind == kindExec && st.Error == "" && !st.Acked:
			rec.Stages[i].Acked, rec.Stages[i].Error = g.httpAcks.acked(st.SpanID)
		}
	}
	rec.RootAcked, rec.RootError = g.grpcAcks.acked(rec.RootSpanID)
	return rec, errors.Join(errs...)
}

// realExec runs `stagetrack exec` joined to the run; its command prints
// the TRACEPARENT exec hands it, whose span id is the stage's, and its
// parent's pid, exec's. The stage was acknowledged when exec exits 0
// without a warning; else why says why not.
func (g *generator) realExec(ctx context.Context, runID string, root trace.SpanContext, name string) (id string, pid int, why string, err error) {
	cmd := exec.CommandContext(ctx, g.o.stagetrack, "exec", "--stage", name, "--dir", g.o.scratch,
		"--", "sh", "-c", `printf '%s %s\n' "$TRACEPARENT" "$PPID"`)
	cmd.Env = append(os.Environ(),
		tracker.EnvRunID+"="+runID,
		"TRACEPARENT="+fmt.Sprintf("00-%s-%s-01", root.TraceID(), root.SpanID()),
		"OTEL_TRACES_EXPORTER=otlp", "OTEL_METRICS_EXPORTER=none", "OTEL_LOGS_EXPORTER=none",
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT="+g.o.http,
		fmt.Sprintf("OTEL_EXPORTER_OTLP_TIMEOUT=%d", g.o.timeout.Milliseconds()))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	tp, ppid, _ := strings.Cut(strings.TrimSpace(stdout.String()), " ")
	parts := strings.Split(tp, "-")
	pid, perr := strconv.Atoi(ppid)
	if len(parts) != 4 || len(parts[2]) != 16 || perr != nil {
		return "", 0, "", fmt.Errorf("stagetrack exec: no TRACEPARENT and pid from its command (%v): %s", err, strings.TrimSpace(stderr.String()))
	}
	if err != nil || strings.Contains(stderr.String(), "warning") {
		// Not acknowledged: sent, perhaps, but not answered for.
		return parts[2], pid, fmt.Sprintf("stagetrack exec: %v: %s", err, strings.TrimSpace(stderr.String())), nil
	}
	return parts[2], pid, "", nil
}

// sendJSON posts one stage as OTLP/HTTP JSON, or with count > 0 the
// sender's count span (docs/attributes.md: how many stages of the run it
// made), retrying as the SDKs do (connection errors, 429, 502, 503, 504)
// within the export timeout. It returns "" when the span was
// acknowledged, else why not.
func (g *generator) sendJSON(ctx context.Context, runID string, root trace.SpanContext, name, spanID string, count int) string {
	now := time.Now()
	attrs := []map[string]any{
		{"key": "stage_tracker.run.id", "value": map[string]any{"stringValue": runID}},
		{"key": "stage_tracker.stage.name", "value": map[string]any{"stringValue": name}},
	}
	if count > 0 {
		name = "stage_tracker.process"
		attrs = []map[string]any{
			{"key": "stage_tracker.process.run_id", "value": map[string]any{"stringValue": runID}},
			{"key": "stage_tracker.process.stage_count", "value": map[string]any{"intValue": strconv.Itoa(count)}},
		}
	}
	body, _ := json.Marshal(map[string]any{"resourceSpans": []any{map[string]any{
		"resource": map[string]any{"attributes": []any{
			map[string]any{"key": "service.name", "value": map[string]any{"stringValue": "loadgen-json"}},
			map[string]any{"key": "host.name", "value": map[string]any{"stringValue": producerHost(kindJSON)}},
			map[string]any{"key": "process.pid", "value": map[string]any{"intValue": strconv.Itoa(os.Getpid())}},
		}},
		"scopeSpans": []any{map[string]any{
			"scope": map[string]any{"name": "loadgen-json"},
			"spans": []any{map[string]any{
				"traceId": root.TraceID().String(), "spanId": spanID, "parentSpanId": root.SpanID().String(),
				"name": name, "kind": 1,
				"startTimeUnixNano": fmt.Sprint(now.Add(-time.Millisecond).UnixNano()),
				"endTimeUnixNano":   fmt.Sprint(now.UnixNano()),
				"attributes":        attrs,
			}},
		}},
	}}})
	deadline := now.Add(g.o.timeout)
	backoff := 100 * time.Millisecond
	for {
		why, retry := g.postJSON(ctx, body)
		if why == "" {
			return ""
		}
		if !retry || time.Now().Add(backoff).After(deadline) {
			return why
		}
		time.Sleep(backoff) // the SDKs' exponential backoff between attempts
		backoff = min(2*backoff, time.Second)
	}
}

// postJSON sends body once: why is "" when answered 200 with no span
// rejected; retry when the error is one an SDK retries.
func (g *generator) postJSON(ctx context.Context, body []byte) (why string, retry bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(g.o.http, "/")+"/v1/traces", bytes.NewReader(body))
	if err != nil {
		return err.Error(), false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.client.Do(req)
	if err != nil {
		return err.Error(), true
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	switch resp.StatusCode {
	case http.StatusOK:
		var ps struct {
			PartialSuccess struct {
				RejectedSpans json.Number `json:"rejectedSpans"`
			} `json:"partialSuccess"`
		}
		_ = json.Unmarshal(b, &ps)
		if n := ps.PartialSuccess.RejectedSpans; n != "" && n != "0" {
			return fmt.Sprintf("%s spans rejected: %s", n, b), false
		}
		return "", false
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(b)), true
	}
	return fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(b)), false
}

// ackExporter records, by span id, whether each export succeeded, and the
// error when it did not. It is safe for concurrent use.
type ackExporter struct {
	sdktrace.SpanExporter
	mu  sync.Mutex
	ids map[string]string // span id → "" (acknowledged) or the export's error
}

func newAckExporter(e sdktrace.SpanExporter) *ackExporter {
	return &ackExporter{SpanExporter: e, ids: map[string]string{}}
}

func (a *ackExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := a.SpanExporter.ExportSpans(ctx, spans)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range spans {
		a.ids[s.SpanContext().SpanID().String()] = ""
		if err != nil {
			a.ids[s.SpanContext().SpanID().String()] = err.Error()
		}
	}
	return err
}

// acked reports whether the span was acknowledged, and if not, why.
func (a *ackExporter) acked(id string) (bool, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	why, ok := a.ids[id]
	switch {
	case !ok:
		return false, "never exported"
	case why != "":
		return false, why
	}
	return true, ""
}

func newSpanID() trace.SpanID {
	var id trace.SpanID
	for !id.IsValid() {
		rand.Read(id[:])
	}
	return id
}

// newUUID returns a random (version 4) UUID, lower-case and dashed.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

package jsonrunexporter

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/collector/jsonrunexporter/internal/metadata"
	"github.com/stage-tracker/stage-tracker/runfile"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

const tracker = "github.com/stage-tracker/stage-tracker/tracker"

// spanSpec is one span of a test run: its root when stage is "".
type spanSpec struct {
	id, parent byte
	stage      string
	errMsg     string
	count      int // a root's stage_tracker.run.stage_count, as the tracker sets it
}

func traceID(run byte) pcommon.TraceID { return pcommon.TraceID{0: 0xab, 15: run} }
func spanID(id byte) pcommon.SpanID    { return pcommon.SpanID{7: id} }

// traces builds one request holding the given spans of run runID, as a
// tracker in another process would send them.
func traces(runID string, run byte, specs ...spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "pipeline")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName(tracker)
	base := time.Unix(1764666000, 0)
	for _, sp := range specs {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(traceID(run))
		s.SetSpanID(spanID(sp.id))
		if sp.parent != 0 {
			s.SetParentSpanID(spanID(sp.parent))
		}
		s.SetFlags(0x101)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(sp.id) * time.Second)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(sp.id)*time.Second + 500*time.Millisecond)))
		s.Attributes().PutStr("stage_tracker.run.id", runID)
		if sp.stage == "" {
			s.SetName("pipeline")
			s.Attributes().PutInt("stage_tracker.run.stage_count", int64(sp.count))
			continue
		}
		s.SetName(sp.stage)
		s.Attributes().PutStr("stage_tracker.stage.name", sp.stage)
		if sp.errMsg != "" {
			s.Status().SetCode(ptrace.StatusCodeError)
			s.Status().SetMessage(sp.errMsg)
		}
	}
	return td
}

func newExporter(t *testing.T, cfg *Config) exporter.Traces {
	t.Helper()
	exp, err := NewFactory().CreateTraces(context.Background(), exportertest.NewNopSettings(Type), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	return exp
}

func testConfig(dir string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = dir
	return cfg
}

const runID = "5f0c8a61-1111-4e2b-9a3c-5d2e8f7a0b01"

func TestFactory(t *testing.T) {
	f := NewFactory()
	if f.Type().String() != "jsonrun" {
		t.Errorf("type = %s", f.Type())
	}
	if got := f.TracesStability(); got != metadata.TracesStability {
		t.Errorf("stability = %v", got)
	}
	if _, err := f.CreateMetrics(context.Background(), exportertest.NewNopSettings(Type), f.CreateDefaultConfig()); err == nil {
		t.Error("metrics exporter created; jsonrun takes traces only")
	}
}

// Stages that arrive in several requests, before their run's root, make
// one run file with their nesting and error.
func TestStagesAcrossRequestsMakeOneRunFile(t *testing.T) {
	dir := t.TempDir()
	exp := newExporter(t, testConfig(dir))
	ctx := context.Background()
	for _, td := range []ptrace.Traces{
		traces(runID, 1, spanSpec{id: 3, parent: 2, stage: "download"}),
		traces(runID, 1, spanSpec{id: 2, parent: 1, stage: "extract"}, spanSpec{id: 4, parent: 1, stage: "load", errMsg: "disk full"}),
		traces(runID, 1, spanSpec{id: 1, count: 3}),
	} {
		if err := exp.ConsumeTraces(ctx, td); err != nil {
			t.Fatal(err)
		}
	}
	run, err := runfile.ReadFile(filepath.Join(dir, runID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	extract, ok := run.Stages.Get("extract")
	if !ok {
		t.Fatalf("no extract stage: %+v", run.Stages)
	}
	if _, ok := extract.Stages.Get("download"); !ok {
		t.Errorf("download not nested in extract: %+v", extract.Stages)
	}
	if load, _ := run.Stages.Get("load"); load.Error != "disk full" {
		t.Errorf("load error = %q", load.Error)
	}
	if run.TraceID != hex.EncodeToString(func() []byte { id := traceID(1); return id[:] }()) {
		t.Errorf("trace id = %s", run.TraceID)
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// Spans with invalid ids are dropped and counted in the exporter's metric;
// the valid ones of the batch still count.
func TestInvalidSpansDropped(t *testing.T) {
	dir := t.TempDir()
	tel := componenttest.NewTelemetry()
	set := exportertest.NewNopSettings(Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	exp, err := NewFactory().CreateTraces(context.Background(), set, testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := exp.Start(ctx, componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	td := traces(runID, 1, spanSpec{id: 2, parent: 1, stage: "a"}, spanSpec{id: 1, count: 1})
	bad := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty()
	bad.SetName("no ids")
	if err := exp.ConsumeTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, runID+".json")); err != nil {
		t.Fatal(err)
	}
	m, err := tel.GetMetric("otelcol_exporter_jsonrun_rejected_spans")
	if err != nil {
		t.Fatal(err)
	}
	if sum, ok := m.Data.(metricdata.Sum[int64]); !ok || len(sum.DataPoints) != 1 || sum.DataPoints[0].Value != 1 {
		t.Errorf("rejected spans metric = %+v; want 1", m.Data)
	}
	if err := errors.Join(exp.Shutdown(ctx), tel.Shutdown(ctx)); err != nil {
		t.Fatal(err)
	}
}

func TestNotStartedIsPermanentError(t *testing.T) {
	exp, err := NewFactory().CreateTraces(context.Background(), exportertest.NewNopSettings(Type), testConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	err = exp.ConsumeTraces(context.Background(), traces(runID, 1, spanSpec{id: 1}))
	if !consumererror.IsPermanent(err) {
		t.Errorf("ConsumeTraces before Start = %v; want a permanent error", err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A Collector restarted in the middle of a run (Shutdown, then a new
// exporter on the same directory) writes the run whole: the stages from
// before the restart are resumed from the journal.
func TestRestartMidRunLosesNoStage(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := testConfig(dir)
	cfg.MaxPendingRuns = 1 // until every run is journaled, eviction gives the run its journal
	first := newExporter(t, cfg)
	const other = "5f0c8a61-1111-4e2b-9a3c-5d2e8f7a0b02"
	if err := first.ConsumeTraces(ctx, traces(runID, 1, spanSpec{id: 2, parent: 1, stage: "extract"})); err != nil {
		t.Fatal(err)
	}
	if err := first.ConsumeTraces(ctx, traces(other, 2, spanSpec{id: 9, parent: 8, stage: "x"})); err != nil {
		t.Fatal(err)
	}
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	second := newExporter(t, testConfig(dir))
	if err := second.ConsumeTraces(ctx, traces(runID, 1, spanSpec{id: 3, parent: 1, stage: "load"}, spanSpec{id: 1, count: 2})); err != nil {
		t.Fatal(err)
	}
	run, err := runfile.ReadFile(filepath.Join(dir, runID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"extract", "load"} {
		if _, ok := run.Stages.Get(k); !ok {
			t.Errorf("stage %s lost across the restart: %+v", k, run.Stages)
		}
	}
	if err := second.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

package jsonrun_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/benchcpu"
)

// Benchmarks put each path beside its baseline as sibling sub-benchmarks:
// a sub-benchmark whose last name element starts with "baseline=" is the
// baseline of every sibling, so scripts/benchratio can read a ratio from one
// run. docs/performance.md explains the method and records the figures.

// perfDiscard is the baseline exporter: it takes spans and does nothing.
type perfDiscard struct{}

func (perfDiscard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (perfDiscard) Shutdown(context.Context) error                             { return nil }

// BenchmarkNonRunSpan measures what a span that is not part of a run (an
// HTTP server span of another instrumentation) costs jsonrun, beside doing
// nothing with it. Target: under 50 ns and 0 allocations added.
//
//   - exporter/*: Exporter.ExportSpans called directly with a prebuilt span,
//     so the SDK's own cost is not in the figure, beside an exporter that
//     discards it. The span is a snapshot made by tracetest.SpanStubs
//     (span=tracetest) or the snapshot the SDK itself hands to exporters,
//     recorded from a real provider (span=sdk): their methods cost
//     differently.
//   - processor/*: the processor setup.Tracker registers (jsonrun.Processor,
//     which also keeps the journals), OnStart then OnEnd for the span,
//     beside a processor that does nothing. OnStart is given a live SDK
//     span, started once.
func BenchmarkNonRunSpan(b *testing.B) {
	stub := tracetest.SpanStub{
		Name:        "GET /users/{id}",
		SpanContext: perfSpanContext(1, 2),
		SpanKind:    trace.SpanKindServer,
		StartTime:   time.Unix(1746486850, 0),
		EndTime:     time.Unix(1746486850, 1e6),
		Attributes: []attribute.KeyValue{
			attribute.String("http.request.method", "GET"),
			attribute.String("url.path", "/users/42"),
			attribute.Int("http.response.status_code", 200),
			attribute.String("server.address", "api.example.com"),
			attribute.String("network.protocol.version", "1.1"),
			attribute.String("user_agent.original", "curl/8.5.0"),
		},
		InstrumentationScope: instrumentation.Scope{
			Name:    "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
			Version: "0.72.0",
		},
	}
	stubSpans := tracetest.SpanStubs{stub}.Snapshots()

	// A live span and its snapshot, from a real provider.
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tracer := tp.Tracer(stub.InstrumentationScope.Name, trace.WithInstrumentationVersion(stub.InstrumentationScope.Version))
	start := func() trace.Span {
		_, span := tracer.Start(context.Background(), stub.Name, trace.WithSpanKind(stub.SpanKind), trace.WithAttributes(stub.Attributes...))
		return span
	}
	ended := start()
	ended.End()
	sdkSpans := rec.Ended()
	live, ok := start().(sdktrace.ReadWriteSpan)
	if !ok {
		b.Fatal("the SDK's span is not a ReadWriteSpan")
	}

	exp := perfExporter(b, b.TempDir())
	b.Run("exporter", func(b *testing.B) {
		for _, bc := range []struct {
			name  string
			exp   sdktrace.SpanExporter
			spans []sdktrace.ReadOnlySpan
		}{
			{"span=tracetest", exp, stubSpans},
			{"span=sdk", exp, sdkSpans},
			{"baseline=discard", perfDiscard{}, stubSpans},
		} {
			b.Run(bc.name, func(b *testing.B) {
				ctx := b.Context()
				b.ReportAllocs()
				cpu := benchcpu.Start()
				for b.Loop() {
					if err := bc.exp.ExportSpans(ctx, bc.spans); err != nil {
						b.Fatal(err)
					}
				}
				cpu.Report(b)
			})
		}
	})
	b.Run("processor", func(b *testing.B) {
		for _, bc := range []struct {
			name string
			proc sdktrace.SpanProcessor
		}{
			{"jsonrun", jsonrun.NewProcessor(exp)},
			{"baseline=noop", perfNoopProcessor{}},
		} {
			b.Run(bc.name, func(b *testing.B) {
				ctx := b.Context()
				b.ReportAllocs()
				cpu := benchcpu.Start()
				for b.Loop() {
					bc.proc.OnStart(ctx, live)
					bc.proc.OnEnd(sdkSpans[0])
				}
				cpu.Report(b)
			})
		}
	})
}

// perfNoopProcessor is the baseline span processor: it does nothing.
type perfNoopProcessor struct{}

func (perfNoopProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (perfNoopProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (perfNoopProcessor) Shutdown(context.Context) error                  { return nil }
func (perfNoopProcessor) ForceFlush(context.Context) error                { return nil }

// BenchmarkFinishRun measures finishing a run of N stages: the run span
// arrives at an exporter that already holds the run's N stage spans, which
// it reassembles into a run record and writes as a file. The stage spans are
// fed to the exporter with the timer stopped, one span per call as the
// simple span processor does, each time to a new exporter (an exporter
// ignores the spans of a run it has finished); only the run span's export
// is timed.
//
// Sub-benchmarks, per N:
//   - exporter/disk: the exporter writing to b.TempDir (fsync included);
//   - exporter/tmpfs: the same writing to /dev/shm, when it exists, so the
//     figure is the CPU cost with the storage device left out;
//   - cpu=ToRun+AppendIndent: the pure conversion of all N+1 spans and the
//     encoding into memory, no exporter and no I/O;
//   - baseline=MarshalIndent: json.MarshalIndent of the same record as a
//     plain struct with json tags (perfRunMirror: stages as a slice, so in
//     start order, times as time.Time, data as json.RawMessage).
//
// Target: exporter at most 0.5× the baseline at N=10,000.
func BenchmarkFinishRun(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run("stages="+strconv.Itoa(n), func(b *testing.B) {
			r := perfRunSpans(n)
			b.Run("exporter/disk", func(b *testing.B) {
				perfBenchFinish(b, r, b.TempDir())
			})
			b.Run("exporter/tmpfs", func(b *testing.B) {
				perfBenchFinish(b, r, perfTmpfsDir(b))
			})
			b.Run("cpu=ToRun+AppendIndent", func(b *testing.B) {
				all := append(append([]sdktrace.ReadOnlySpan(nil), r.stages...), r.root)
				var buf []byte
				b.ReportAllocs()
				cpu := benchcpu.Start()
				for b.Loop() {
					run, err := jsonrun.ToRun(all)
					if err != nil {
						b.Fatal(err)
					}
					buf = run.AppendIndent(buf[:0])
				}
				cpu.Report(b)
			})
			b.Run("baseline=MarshalIndent", func(b *testing.B) {
				mirror := perfMirror(b, r)
				b.ReportAllocs()
				cpu := benchcpu.Start()
				for b.Loop() {
					if _, err := json.MarshalIndent(mirror, "", "  "); err != nil {
						b.Fatal(err)
					}
				}
				cpu.Report(b)
			})
		})
	}
}

func perfBenchFinish(b *testing.B, r perfRun, dir string) {
	ctx := b.Context()
	var exp *jsonrun.Exporter
	root := []sdktrace.ReadOnlySpan{r.root}
	b.ReportAllocs()
	cpu := benchcpu.Start()
	for b.Loop() {
		b.StopTimer()
		cpu.Exclude(func() {
			// A new exporter each time: an exporter ignores the spans of
			// a run it has already finished.
			if exp != nil {
				if err := exp.Shutdown(ctx); err != nil {
					b.Fatal(err)
				}
			}
			var err error
			if exp, err = jsonrun.New(jsonrun.WithDir(dir)); err != nil {
				b.Fatal(err)
			}
			for i := range r.stages {
				if err := exp.ExportSpans(ctx, r.stages[i:i+1]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.StartTimer()
		if err := exp.ExportSpans(ctx, root); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
	b.StopTimer()
	if err := exp.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, r.id+".json")
	got, err := jsonrun.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	if got.StageCount != len(r.stages) || got.Status != jsonrun.StatusOK {
		b.Fatalf("run file %s: %d stages, status %q; want %d, %q", path, got.StageCount, got.Status, len(r.stages), jsonrun.StatusOK)
	}
}

// BenchmarkReadFile measures jsonrun.ReadFile on a run file of N stages,
// beside reading the same file into a plain struct (stages as a map, the
// natural plain-Go reading of a JSON object) with encoding/json.
func BenchmarkReadFile(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run("stages="+strconv.Itoa(n), func(b *testing.B) {
			r := perfRunSpans(n)
			all := append(append([]sdktrace.ReadOnlySpan(nil), r.stages...), r.root)
			run, err := jsonrun.ToRun(all)
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), r.id+".json")
			if err := os.WriteFile(path, run.AppendIndent(nil), 0o644); err != nil {
				b.Fatal(err)
			}
			b.Run("ReadFile", func(b *testing.B) {
				b.ReportAllocs()
				cpu := benchcpu.Start()
				defer cpu.Report(b)
				for b.Loop() {
					got, err := jsonrun.ReadFile(path)
					if err != nil {
						b.Fatal(err)
					}
					if len(got.Stages) != n {
						b.Fatalf("read %d stages, want %d", len(got.Stages), n)
					}
				}
			})
			b.Run("baseline=Unmarshal", func(b *testing.B) {
				b.ReportAllocs()
				cpu := benchcpu.Start()
				defer cpu.Report(b)
				for b.Loop() {
					data, err := os.ReadFile(path)
					if err != nil {
						b.Fatal(err)
					}
					var got perfReadMirror
					if err := json.Unmarshal(data, &got); err != nil {
						b.Fatal(err)
					}
					if len(got.Stages) != n {
						b.Fatalf("read %d stages, want %d", len(got.Stages), n)
					}
				}
			})
		})
	}
}

// perfRun is the spans of one run as the tracker makes them: stage spans
// with 4 data keys, then the run span carrying the stage count.
type perfRun struct {
	id     string
	stages []sdktrace.ReadOnlySpan
	root   sdktrace.ReadOnlySpan
}

// perfStageNames cycle, so that names repeat as in a loop of stages.
var perfStageNames = [...]string{"load", "train", "eval", "checkpoint"}

// perfRunSpans builds the snapshots of a run of n stages, each stage with
// the attributes the tracker sets for 4 top-level data keys.
func perfRunSpans(n int) perfRun {
	id := uuid.NewString()
	scope := instrumentation.Scope{Name: keys.ScopeName, Version: "0.1.0"}
	rootSC := perfSpanContext(1, 1)
	start := time.Date(2025, 5, 5, 23, 14, 10, 235518000, time.UTC)
	stubs := make(tracetest.SpanStubs, 0, n)
	for i := range n {
		data := fmt.Sprintf(`{"cached":false,"loss":0.25,"rows":%d,"status":"ok"}`, i)
		t0 := start.Add(time.Duration(i) * time.Millisecond)
		name := perfStageNames[i%len(perfStageNames)]
		stubs = append(stubs, tracetest.SpanStub{
			Name:        name,
			SpanContext: perfSpanContext(1, uint64(i)+2),
			Parent:      rootSC,
			StartTime:   t0,
			EndTime:     t0.Add(700 * time.Microsecond),
			Attributes: []attribute.KeyValue{
				attribute.String(keys.RunID, id),
				attribute.String(keys.StageName, name),
				attribute.String(keys.StageData, data),
				attribute.Int(keys.StageDataSize, len(data)),
				attribute.Bool(keys.DataPrefix+"cached", false),
				attribute.Float64(keys.DataPrefix+"loss", 0.25),
				attribute.Int(keys.DataPrefix+"rows", i),
				attribute.String(keys.DataPrefix+"status", "ok"),
			},
			InstrumentationScope: scope,
		})
	}
	root := tracetest.SpanStub{
		Name:        "train-resnet",
		SpanContext: rootSC,
		StartTime:   start,
		EndTime:     start.Add(time.Duration(n)*time.Millisecond + time.Millisecond),
		Attributes: []attribute.KeyValue{
			attribute.String(keys.RunID, id),
			attribute.String(keys.RunArgs, `{"lr":0.001,"epochs":10,"model":"resnet50"}`),
			attribute.Int(keys.RunStageCount, n),
		},
		InstrumentationScope: scope,
	}
	return perfRun{id: id, stages: stubs.Snapshots(), root: root.Snapshot()}
}

func perfSpanContext(traceID, spanID uint64) trace.SpanContext {
	var tid trace.TraceID
	var sid trace.SpanID
	for i := range 8 {
		tid[15-i] = byte(traceID >> (8 * i))
		sid[7-i] = byte(spanID >> (8 * i))
	}
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    tid,
		SpanID:     sid,
		TraceFlags: trace.FlagsSampled,
	})
}

func perfExporter(tb testing.TB, dir string, opts ...jsonrun.Option) *jsonrun.Exporter {
	tb.Helper()
	exp, err := jsonrun.New(append([]jsonrun.Option{jsonrun.WithDir(dir)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp
}

// perfTmpfsDir returns a fresh directory on /dev/shm (memory-backed, so
// fsync costs nothing), removed at cleanup, or tb.TempDir when the machine
// has no /dev/shm.
func perfTmpfsDir(tb testing.TB) string {
	tb.Helper()
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		return tb.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "stage-tracker-perf-*")
	if err != nil {
		return tb.TempDir()
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// perfRunMirror is the run file as a plain struct: json tags, no custom
// methods, keys in the run file's order. Stages are a slice, so they keep
// start order; the baseline thus writes "stages" as an array of objects that
// carry their key, which is the same information as the run file's object.
type perfRunMirror struct {
	RunID            string            `json:"run_id"`
	StartTime        time.Time         `json:"start_time"`
	Args             json.RawMessage   `json:"args"`
	Stages           []perfStageMirror `json:"stages"`
	CompletedAt      time.Time         `json:"completed_at"`
	TotalDurationSec float64           `json:"total_duration_sec"`
	SchemaVersion    int               `json:"schema_version"`
	Name             string            `json:"name"`
	Status           string            `json:"status"`
	Error            *string           `json:"error"`
	TraceID          string            `json:"trace_id"`
	SpanID           string            `json:"span_id"`
	StageCount       int               `json:"stage_count"`
	Warnings         []string          `json:"warnings,omitempty"`
}

type perfStageMirror struct {
	Key         string            `json:"key"`
	StartTime   time.Time         `json:"start_time"`
	DurationSec float64           `json:"duration_sec"`
	Data        json.RawMessage   `json:"data"`
	Error       *string           `json:"error"`
	Name        string            `json:"name"`
	Attempt     int               `json:"attempt"`
	EndTime     time.Time         `json:"end_time"`
	Status      string            `json:"status"`
	SpanID      string            `json:"span_id"`
	Stages      []perfStageMirror `json:"stages,omitempty"`
}

// perfReadMirror reads a run file with encoding/json alone.
type perfReadMirror struct {
	RunID            string                     `json:"run_id"`
	StartTime        time.Time                  `json:"start_time"`
	Args             json.RawMessage            `json:"args"`
	Stages           map[string]perfStageMirror `json:"stages"`
	CompletedAt      time.Time                  `json:"completed_at"`
	TotalDurationSec float64                    `json:"total_duration_sec"`
	SchemaVersion    int                        `json:"schema_version"`
	Name             string                     `json:"name"`
	Status           string                     `json:"status"`
	Error            *string                    `json:"error"`
	TraceID          string                     `json:"trace_id"`
	SpanID           string                     `json:"span_id"`
	StageCount       int                        `json:"stage_count"`
}

func perfMirror(tb testing.TB, r perfRun) perfRunMirror {
	tb.Helper()
	run, err := jsonrun.ToRun(append(append([]sdktrace.ReadOnlySpan(nil), r.stages...), r.root))
	if err != nil {
		tb.Fatal(err)
	}
	return perfRunMirror{
		RunID:            run.RunID,
		StartTime:        run.StartTime,
		Args:             run.Args,
		Stages:           perfMirrorStages(run.Stages),
		CompletedAt:      run.CompletedAt,
		TotalDurationSec: run.TotalDurationSec,
		SchemaVersion:    run.SchemaVersion,
		Name:             run.Name,
		Status:           run.Status,
		TraceID:          run.TraceID,
		SpanID:           run.SpanID,
		StageCount:       run.StageCount,
		Warnings:         run.Warnings,
	}
}

func perfMirrorStages(s jsonrun.Stages) []perfStageMirror {
	if len(s) == 0 {
		return nil
	}
	out := make([]perfStageMirror, len(s))
	for i, st := range s {
		out[i] = perfStageMirror{
			Key:         st.Key,
			StartTime:   st.StartTime,
			DurationSec: st.DurationSec,
			Data:        st.Data,
			Name:        st.Name,
			Attempt:     st.Attempt,
			EndTime:     st.EndTime,
			Status:      st.Status,
			SpanID:      st.SpanID,
			Stages:      perfMirrorStages(st.Stages),
		}
	}
	return out
}

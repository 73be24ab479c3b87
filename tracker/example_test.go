package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// exampleTracker wires a tracker to a jsonrun exporter writing into dir,
// with a clock that ticks one second per call so the output is stable.
// Programs use setup.Tracker instead.
func exampleTracker(dir string) (*tracker.Tracker, func()) {
	exp, _ := jsonrun.New(jsonrun.WithDir(dir))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)))
	now := time.Date(2025, 5, 5, 23, 14, 10, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Second); return now }
	tr := tracker.New(tracker.WithTracerProvider(tp), tracker.WithClock(clock))
	return tr, func() { tp.Shutdown(context.Background()) }
}

// The Python stage-tracker's quick start: stages started and ended by name.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	tr, shutdown := exampleTracker(dir)
	defer shutdown()

	ctx := context.Background()
	ctx, run := tr.Start(ctx, "Reconnaissance_M1", tracker.WithRunID("af3c980c-3d22-46e8-83cd-7ff99abee586"))

	run.StartStage(ctx, "Detection")
	run.EndStage("Detection", map[string]any{"status": "clean"}, nil)

	run.StartStage(ctx, "Enrichment")
	run.EndStage("Enrichment", map[string]any{"added_cves": 3}, nil)

	if err := run.Finalize(ctx); err != nil {
		fmt.Println(err)
		return
	}
	rf, _ := runfile.ReadFile(run.File())
	fmt.Println(rf.RunID, rf.Status, rf.TotalDurationSec)
	for _, st := range rf.Stages {
		fmt.Println(st.Key, st.DurationSec, string(st.Data))
	}
	// Output:
	// af3c980c-3d22-46e8-83cd-7ff99abee586 ok 5
	// Detection 1 {"status":"clean"}
	// Enrichment 1 {"added_cves":3}
}

// A function as a stage: what it returns is the stage's data and error,
// and stages started with its context nest under it.
func ExampleRun_Stage() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	tr, shutdown := exampleTracker(dir)
	defer shutdown()

	ctx, run := tr.Start(context.Background(), "train-resnet")
	err := run.Stage(ctx, "train", func(ctx context.Context) (any, error) {
		for epoch := range 2 {
			run.Stage(ctx, "epoch", func(context.Context) (any, error) {
				return map[string]any{"epoch": epoch}, nil
			})
		}
		return map[string]any{"loss": 0.12}, nil
	})
	fmt.Println("train:", err)
	err = run.Stage(ctx, "evaluate", func(context.Context) (any, error) {
		return map[string]any{"accuracy": 0.87}, errors.New("accuracy below 0.9")
	})
	fmt.Println("evaluate:", err)
	run.Finalize(ctx)

	rf, _ := runfile.ReadFile(run.File())
	fmt.Println(rf.Status)
	for _, st := range rf.Stages {
		fmt.Println(strings.TrimSpace(st.Key + " " + st.Status + " " + st.Error))
		for _, inner := range st.Stages {
			fmt.Println("  ", inner.Key, string(inner.Data))
		}
	}
	// Output:
	// train: <nil>
	// evaluate: accuracy below 0.9
	// failed
	// train ok
	//    epoch#1 {"epoch":0}
	//    epoch {"epoch":1}
	// evaluate error accuracy below 0.9
}

// A program with its own tracer provider registers the jsonrun exporter on
// it, beside its other exporters, and gives the provider to the tracker.
// Finalize learns from the exporter that the file was written.
func Example_bringYourOwnTracerProvider() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	exp, err := jsonrun.New(jsonrun.WithDir(dir))
	if err != nil {
		fmt.Println(err)
		return
	}
	backend := tracetest.NewInMemoryExporter() // your OTLP exporter, say
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)),
		sdktrace.WithBatcher(backend),
		// Sample other traffic as you like; every run keeps its file.
		sdktrace.WithSampler(tracker.AlwaysSampleRuns(sdktrace.TraceIDRatioBased(0.1))),
	)
	defer tp.Shutdown(context.Background())

	tr := tracker.New(tracker.WithTracerProvider(tp))
	ctx, run := tr.Start(context.Background(), "nightly-etl")
	run.Stage(ctx, "extract", func(context.Context) (any, error) { return map[string]any{"rows": 120}, nil })
	if err := run.Finalize(ctx); err != nil {
		fmt.Println(err)
		return
	}
	rf, _ := runfile.ReadFile(run.File())
	fmt.Println(rf.Name, rf.Status, len(rf.Stages), "stage in the run file")
	fmt.Println(len(backend.GetSpans()), "spans sent to the backend")
	// Output:
	// nightly-etl ok 1 stage in the run file
	// 2 spans sent to the backend
}

// A service that wants its stages as spans in its own traces, and no run
// file per request, starts its runs WithoutRunFile: Finalize then needs no
// run-file exporter and does not wait.
func ExampleWithoutRunFile() {
	backend := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(backend))
	defer tp.Shutdown(context.Background())
	tr := tracker.New(tracker.WithTracerProvider(tp), tracker.WithoutRunFile())

	ctx, run := tr.Start(context.Background(), "GET /orders")
	run.Stage(ctx, "query", func(context.Context) (any, error) { return nil, nil })
	fmt.Println("Finalize:", run.Finalize(ctx), "file:", run.File() == "")
	for _, s := range backend.GetSpans() {
		fmt.Println(s.Name)
	}
	// Output:
	// Finalize: <nil> file: true
	// query
	// GET /orders
}

// A stage records the files it read and wrote, with their SHA-256, and
// the run what it was made of; here without the machine-dependent parts.
func ExampleStage_Input() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data.csv")
	_ = os.WriteFile(data, []byte("a,b\n1,2\n"), 0o644)

	exp, _ := jsonrun.New(jsonrun.WithDir(dir))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)))
	defer tp.Shutdown(context.Background())
	tr := tracker.New(tracker.WithTracerProvider(tp), tracker.WithoutProvenance())

	ctx, run := tr.Start(context.Background(), "train")
	_, stage := run.StartStage(ctx, "load")
	if err := stage.Input(data); err != nil {
		fmt.Println(err)
	}
	stage.End(nil, nil)
	if err := run.Finalize(ctx); err != nil {
		fmt.Println(err)
		return
	}
	rf, _ := runfile.ReadFile(run.File())
	in := rf.Stages[0].Inputs[0]
	fmt.Println(filepath.Base(in.Path), in.Size, in.SHA256)
	// Output: data.csv 8 492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470
}

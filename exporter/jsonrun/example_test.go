package jsonrun_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// The exporter beside any other instrumentation in one provider: the
// tracker's spans become a run file, an HTTP span is ignored.
func Example() {
	dir, _ := os.MkdirTemp("", "runs")
	defer os.RemoveAll(dir)

	exp, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithHistory(filepath.Join(dir, "history.jsonl")))
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)))
	defer tp.Shutdown(context.Background())

	_, req := tp.Tracer("http").Start(context.Background(), "GET /health")
	req.End() // not part of a run: ignored

	tr := tracker.New(tracker.WithTracerProvider(tp))
	ctx, run := tr.Start(context.Background(), "nightly-etl")
	run.Stage(ctx, "extract", func(context.Context) (any, error) { return map[string]any{"rows": 120}, nil })
	run.Stage(ctx, "load", func(context.Context) (any, error) { return nil, nil })
	if err := run.Finalize(ctx); err != nil {
		fmt.Println(err)
		return
	}

	rf, _ := jsonrun.ReadFile(run.File())
	fmt.Println(filepath.Base(run.File()) == rf.RunID+".json", rf.Name, rf.Status, rf.StageCount)
	runs, _ := jsonrun.ReadHistory(filepath.Join(dir, "history.jsonl"))
	fmt.Println(len(runs), "run in the history")
	// Output:
	// true nightly-etl ok 2
	// 1 run in the history
}

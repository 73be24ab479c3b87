package slogtrack_test

import (
	"context"
	"log/slog"
	"os"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/tracker"
	"github.com/stage-tracker/stage-tracker/tracker/slogtrack"
)

// Logs made inside a stage carry the run's id and the stage's name (and the
// trace and span ids, left out here because they are random), and warnings
// become events of the stage's span.
func Example() {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	tr := tracker.New(tracker.WithTracerProvider(tp))

	text := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, slogtrack.KeyTraceID, slogtrack.KeySpanID:
				return slog.Attr{}
			}
			return a
		},
	})
	log := slog.New(slogtrack.NewHandler(text, slogtrack.WithSpanEvents(slog.LevelWarn)))

	ctx, run := tr.Start(context.Background(), "nightly", tracker.WithRunID("0b8e6c1a-6f1e-4c4e-9d55-5a8d2c3e4f10"))
	_ = run.Stage(ctx, "train", func(ctx context.Context) (any, error) {
		log.InfoContext(ctx, "epoch done", "epoch", 1)
		log.WarnContext(ctx, "loss went up", "loss", 0.31)
		return nil, nil
	})
	_ = run.Finalize(ctx)
	// Output:
	// level=INFO msg="epoch done" epoch=1 run_id=0b8e6c1a-6f1e-4c4e-9d55-5a8d2c3e4f10 stage=train
	// level=WARN msg="loss went up" loss=0.31 run_id=0b8e6c1a-6f1e-4c4e-9d55-5a8d2c3e4f10 stage=train
}

// Command joinchild is the Go program of the stagetrack tests: a program
// that uses the library and, started inside "stagetrack run" (directly or
// through "stagetrack exec"), joins the run with tracker.StartOrJoin. It
// records two stages, "load" and "fit", and prints nothing.
//
// Outside a run it records a run of its own in ./runs.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/stage-tracker/stage-tracker/setup"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "joinchild:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	tr, shutdown, err := setup.Tracker(ctx, setup.WithDir("runs"))
	if err != nil {
		return err
	}
	defer shutdown(ctx)
	ctx, r := tr.StartOrJoin(ctx, "joinchild")
	if err := r.Stage(ctx, "load", func(context.Context) (any, error) {
		return map[string]any{"rows": 3}, nil
	}); err != nil {
		return err
	}
	if err := r.Stage(ctx, "fit", func(context.Context) (any, error) {
		return map[string]any{"epochs": 2}, nil
	}); err != nil {
		return err
	}
	return r.Finalize(ctx)
}

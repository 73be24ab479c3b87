// Command stagetrack records runs made of shell commands and processes (run,
// exec, recover), and looks at, compares, summarises, validates and replays
// the run files that stage-tracker writes. Run
// `stagetrack --help`, or read docs/cli.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"go.opentelemetry.io/otel"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

func main() {
	// Exporter errors become one warning line each, not timestamped logs.
	otel.SetErrorHandler(cli.NewErrorHandler(os.Stderr))
	// A soft memory limit from the size of the run files to read: the
	// garbage collector's headroom kept within 3× a large file.
	cli.TuneMemory(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.OSEnv())
	stop()
	os.Exit(code)
}

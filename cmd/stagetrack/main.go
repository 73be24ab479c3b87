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

	"github.com/stage-tracker/stage-tracker/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.OSEnv())
	stop()
	os.Exit(code)
}

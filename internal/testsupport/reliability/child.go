//go:build unix

package reliability

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/setup"
)

// Environment of a child process.
const (
	EnvMode   = "STAGE_TRACKER_TEST_CHILD" // which child to run
	EnvDir    = "STAGE_TRACKER_TEST_DIR"   // the run directory
	EnvStages = "STAGE_TRACKER_TEST_STAGES"
	EnvRuns   = "STAGE_TRACKER_TEST_RUNS"
	EnvHist   = "STAGE_TRACKER_TEST_HISTORY"
)

// Child modes.
const (
	ModePipeline = "pipeline" // stages one after another, reporting each
	ModeSignal   = "signal"   // stages, then blocks in a stage until a signal
	ModeHistory  = "history"  // many runs appending to one history file
	ModeFileSize = "filesize" // a run whose file exceeds RLIMIT_FSIZE
)

// RunChild runs the child named by EnvMode, if any, writing its reports to
// out, and returns whether it ran one and the exit code. Call it first
// thing in TestMain or main.
func RunChild(out io.Writer) (ran bool, code int) {
	mode := os.Getenv(EnvMode)
	if mode == "" {
		return false, 0
	}
	var err error
	switch mode {
	case ModePipeline:
		err = pipeline(out, false)
	case ModeSignal:
		err = pipeline(out, true)
	case ModeHistory:
		err = history(out)
	case ModeFileSize:
		err = fileSize(out)
	default:
		var ok bool
		if ok, err = runKillChild(mode, out); !ok {
			err = fmt.Errorf("unknown child mode %q", mode)
		}
	}
	if err != nil {
		fmt.Fprintln(out, "error", err)
		return true, 1
	}
	return true, 0
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// pipeline runs stages one after another and reports each on out once it
// has returned: "run ID", "start I", "ended I". With block, it then starts a
// stage that never ends and waits for a signal.
func pipeline(out io.Writer, block bool) error {
	ctx := context.Background()
	tr, shutdown, err := setup.Tracker(ctx, setup.WithDir(os.Getenv(EnvDir)))
	if err != nil {
		return err
	}
	defer shutdown(ctx)
	if block {
		stop := tr.FinalizeOnSignal()
		defer stop()
	}
	ctx, run := tr.Start(ctx, "crash-test")
	fmt.Fprintln(out, "run", run.ID())
	n := envInt(EnvStages, 200)
	for i := range n {
		_, s := run.StartStage(ctx, StageName(i))
		fmt.Fprintln(out, "start", i)
		s.End(StageData(i), nil)
		fmt.Fprintln(out, "ended", i)
	}
	if block {
		run.StartStage(ctx, "blocked")
		fmt.Fprintln(out, "blocked")
		select {} // until the signal handler finalises the run and re-raises
	}
	return run.Finalize(ctx)
}

// StageName is the name of the i-th stage of a child pipeline.
func StageName(i int) string { return fmt.Sprintf("stage-%04d", i) }

// StageData is the data of the i-th stage of a child pipeline, with some
// bulk so that a kill can land in the middle of a write.
func StageData(i int) map[string]any {
	return map[string]any{"i": i, "payload": strings.Repeat("x", 512+i%7)}
}

// history finishes EnvRuns runs of three stages, each appended to the
// history file EnvHist.
func history(out io.Writer) error {
	ctx := context.Background()
	tr, shutdown, err := setup.Tracker(ctx, setup.WithDir(os.Getenv(EnvDir)),
		setup.WithRunFileOptions(jsonrun.WithHistory(os.Getenv(EnvHist))))
	if err != nil {
		return err
	}
	defer shutdown(ctx)
	for i := range envInt(EnvRuns, 50) {
		ctx, run := tr.Start(ctx, map[string]any{"pid": os.Getpid(), "i": i})
		for s := range 3 {
			run.Stage(ctx, StageName(s), func(context.Context) (any, error) { return StageData(s), nil })
		}
		if err := run.Finalize(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "done")
	return nil
}

// fileSize finishes one small run, then lowers RLIMIT_FSIZE below the size
// of the next run's file and reports what Finalize said: "finalize ERR".
func fileSize(out io.Writer) error {
	ctx := context.Background()
	tr, shutdown, err := setup.Tracker(ctx, setup.WithDir(os.Getenv(EnvDir)))
	if err != nil {
		return err
	}
	defer shutdown(ctx)
	ctx2, first := tr.Start(ctx, "small")
	first.Stage(ctx2, "a", func(context.Context) (any, error) { return "fits", nil })
	if err := first.Finalize(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "first", first.ID())

	if err := limitFileSize(64 << 10); err != nil {
		return err
	}
	ctx3, big := tr.Start(ctx, "big")
	fmt.Fprintln(out, "second", big.ID())
	big.Stage(ctx3, "small-stage", func(context.Context) (any, error) { return "ok", nil })
	big.Stage(ctx3, "huge-stage", func(context.Context) (any, error) { return strings.Repeat("y", 200<<10), nil })
	fmt.Fprintln(out, "finalize", big.Finalize(ctx))
	return nil
}

// limitFileSize makes writes past n bytes fail with EFBIG instead of killing
// the process with SIGXFSZ.
func limitFileSize(n uint64) error {
	signal.Ignore(syscall.SIGXFSZ)
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n})
}

package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/journal"
	"github.com/stage-tracker/stage-tracker/internal/runid"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

func newFinishCommand(env *Env) *cobra.Command {
	var (
		exitCode int
		status   string
		errMsg   string
		quiet    bool
		wait     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "finish [--exit-code N | --status ok|failed] [--error MSG] [--wait DURATION]",
		Short: "Write the run file of the run that start opened",
		Long: `finish ends the run that "stagetrack start" opened (named by
STAGE_TRACKER_RUN_ID and STAGE_TRACKER_JOURNAL, as start set them): it writes
the run file DIR/<run_id>.json with every stage the steps recorded, ends the
run span (started at start's time, with start's ids, so the steps' spans are
its children) and prints the run file's path on stdout.

The run's status follows its stages, by the same rule as under stagetrack
run (the last attempt of each stage counts: a stage that failed and then
passed on retry fails nothing), and the flags: --exit-code N (N not 0) or
--status failed make it failed with the error "exit status N" or MSG
(--error); without them, a failed stage names itself in the run's error.
--status ok adds no error, but a failed stage still fails the run.

finish waits for the run's exec steps that still run, up to --wait, and
says so; past it, it finishes without them (their stages are unfinished).
finish exits 0 once the run file is written, whatever the run's status; 1
when it cannot be written (the journal is kept). Another finish of the same
run, at the same time or later, prints one line on stderr, leaves the file
as it is and exits 0. A finish killed midway is completed by the next one.`,
		Example: example(
			`stagetrack finish`,
			`stagetrack finish --exit-code "$status"`,
			`stagetrack finish --status failed --error "deploy was cancelled"`,
		),
		GroupID: groupRunning,
		Args:    args(cobra.NoArgs),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			switch status {
			case "", runfile.StatusOK, runfile.StatusFailed:
			default:
				return usagef("--status is ok or failed, not %q", status)
			}
			if cmd.Flags().Changed("exit-code") && status != "" {
				return usagef("--exit-code and --status do not go together")
			}
			runID, journal := os.Getenv(tracker.EnvRunID), os.Getenv(tracker.EnvJournal)
			if runID == "" || journal == "" {
				return fmt.Errorf("no started run: %s and %s are not set (stagetrack start sets them)", tracker.EnvRunID, tracker.EnvJournal)
			}
			runID, err := runid.Canonical(runID)
			if err != nil {
				return fmt.Errorf("%s: %w", tracker.EnvRunID, err)
			}
			var runErr error
			switch {
			case errMsg != "":
				runErr = errors.New(errMsg)
			case exitCode != 0:
				runErr = fmt.Errorf("exit status %d", exitCode)
			case status == runfile.StatusFailed:
				runErr = errors.New("failed")
			}
			if errMsg != "" && status == runfile.StatusOK {
				return usagef("--error goes with a failed run, not --status ok")
			}
			path, annotated, err := finishStarted(cmd.Context(), env, runID, journal, wait, runErr)
			if errors.Is(err, errFinished) {
				fmt.Fprintf(env.Stderr, "stagetrack: run %s is finished already: %s\n", runID, path)
				return nil
			}
			if err != nil {
				return err
			}
			if !quiet {
				if rf, rerr := runfile.ReadFile(path); rerr == nil {
					ciFinish(env, path, rf, annotated)
				}
			}
			pickUpSpool(cmd.Context(), env, runID)
			return write(env.Stdout, path+"\n")
		}),
	}
	f := cmd.Flags()
	f.IntVar(&exitCode, "exit-code", 0, "the job's exit code: not 0 makes the run failed with \"exit status N\"")
	f.StringVar(&status, "status", "", "ok or failed")
	f.StringVar(&errMsg, "error", "", "the run's error (makes it failed)")
	f.DurationVar(&wait, "wait", 30*time.Second, "how long to wait for steps of the run (exec) that still run")
	f.BoolVarP(&quiet, "quiet", "q", false, "write no CI summary or annotations")
	return cmd
}

var errFinished = errors.New("finished already")

// finishStarted writes the run file of the started run whose journal is at
// live, and returns its path.
//
// It takes the journal's exclusive lock first: steps still running (exec)
// hold its shared lock, so finish waits for them, up to wait; and of
// several finish calls, one gets it, and the others wait for it and then
// find the run file. The holder renames the journal aside
// (<id>.journal.finishing), keeping the lock until the run file is written
// and the journal removed, so that a late exec finds no journal and
// recovery leaves it alone while this process lives. The exporter of this
// process then opens the run with start's ids and start time, which writes
// a fresh journal with its run event; the stages of the steps are appended
// to it as a joined process appends them, and Finalize merges them into the
// run file as it merges any joined process's stages. It also returns what
// the steps annotated themselves (annotate.go).
func finishStarted(ctx context.Context, env *Env, runID, live string, wait time.Duration, runErr error) (string, stepAnnotated, error) {
	runFile := filepath.Join(filepath.Dir(live), runID+".json")
	if filepath.Base(live) != runID+jsonrun.JournalSuffix {
		return "", nil, fmt.Errorf("%s is not the journal of run %s", live, runID)
	}
	aside := strings.TrimSuffix(live, journal.Suffix) + journal.FinishingSuffix
	f, upTo, err := claimStarted(ctx, env, runID, live, aside, runFile, wait)
	if err != nil {
		if errors.Is(err, errFinished) {
			return runFile, nil, err
		}
		return "", nil, err
	}
	defer f.Close() // drops the lock, after aside is removed
	h, events, err := readStarted(aside, runID, upTo)
	if err != nil {
		_ = os.Rename(aside, live)
		return "", nil, err
	}
	annotated := stepAnnotated{}
	stages := slices.DeleteFunc(events, func(ev journal.Event) bool { return annotated.add(&ev) })
	// This process owns the run now: setup must not join it as a step.
	for _, k := range []string{tracker.EnvRunID, tracker.EnvJournal, tracker.EnvTraceParent, tracker.EnvTraceState} {
		os.Unsetenv(k)
	}
	path, err := assembleStarted(ctx, env, h, stages, runErr)
	if err != nil {
		if _, serr := os.Stat(live); serr != nil {
			_ = os.Rename(aside, live) // keep what the steps recorded
		}
		return "", nil, err
	}
	os.Remove(aside)
	return path, annotated, nil
}

// claimStarted returns the started run's journal, renamed to aside and
// locked exclusively by this process (and, when a step still held it past
// --wait, how much of it to read: -1 for all), or errFinished once the run file
// exists. A journal at aside whose lock is free is a finish that died
// between its rename and its run file: this one completes it.
func claimStarted(ctx context.Context, env *Env, runID, live, aside, runFile string, wait time.Duration) (*os.File, int64, error) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		stillRan := false
		if _, err := os.Lstat(runFile); err == nil {
			return nil, -1, errFinished
		}
		f, err := lockJournal(wctx, aside, nil)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, -1, fmt.Errorf("run %s: %w", runID, err)
		}
		if f != nil {
			if _, err := os.Lstat(runFile); err == nil {
				f.Close()
				os.Remove(aside) // the finish that died had written the run file
				return nil, -1, errFinished
			}
			// The finish that died may have left its exporter's journal of
			// the run (not start's: not detached); this one makes its own.
			if g, err := fsutil.OpenNoFollow(live, os.O_RDONLY); err == nil {
				if !journal.IsDetached(journal.FirstLine(g)) {
					os.Remove(live)
				}
				g.Close()
			}
			fmt.Fprintf(env.Stderr, "stagetrack: run %s: completing a finish that was interrupted (%s)\n", runID, filepath.Base(aside))
			return f, -1, nil
		}
		f, err = lockJournal(wctx, live, func() {
			fmt.Fprintf(env.Stderr, "stagetrack: run %s: waiting up to %s (--wait) for its running steps to end\n", runID, wait)
		})
		switch {
		case errors.Is(err, errStillHeld):
			// Steps still write the journal after --wait: finish without
			// them, as a finish without --wait always did.
			if f, err = fsutil.OpenNoFollow(live, os.O_RDONLY); err != nil {
				return nil, -1, fmt.Errorf("run %s: %w", runID, err)
			}
			stillRan = true
		case errors.Is(err, os.ErrNotExist):
			if _, serr := os.Lstat(runFile); serr == nil {
				return nil, -1, errFinished
			}
			if _, serr := os.Lstat(aside); serr == nil {
				continue
			}
			return nil, -1, fmt.Errorf("run %s: no journal %s: it was not started in this directory, or it was recovered", runID, live)
		case err != nil:
			return nil, -1, fmt.Errorf("run %s: %w", runID, err)
		case f == nil:
			continue // renamed by another finish: wait for it at aside
		}
		if err := os.Rename(live, aside); err != nil {
			f.Close()
			return nil, -1, fmt.Errorf("run %s: %w", runID, err)
		}
		if stillRan {
			// What finish reads ends here: a step still running may
			// append its end to the file aside, and that end is not in
			// the run file (the step says so), whenever it comes.
			fi, err := f.Stat()
			if err != nil {
				f.Close()
				return nil, -1, fmt.Errorf("run %s: %w", runID, err)
			}
			fmt.Fprintf(env.Stderr, "stagetrack: run %s: a step still ran after %s (--wait); finishing without its end\n", runID, wait)
			return f, fi.Size(), nil
		}
		return f, -1, nil
	}
}

var errStillHeld = errors.New("still held")

// lockJournal opens the journal at path and takes its exclusive lock,
// waiting until ctx is done (errStillHeld); onWait, if not nil, is called
// when the lock is not free at once. It returns nil, nil when the
// file it locked is no longer at path (another finish renamed or removed
// it), and an error wrapping os.ErrNotExist when there is none.
func lockJournal(ctx context.Context, path string, onWait func()) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := fsutil.OpenNoFollow(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	ok, err := fsutil.TryLockExclusive(f)
	if err == nil && !ok {
		if onWait != nil {
			onWait()
		}
		ok, err = fsutil.LockExclusiveContext(ctx, f)
	}
	if err == nil && !ok {
		err = errStillHeld
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fsutil.SameFile(f, path) {
		f.Close()
		return nil, nil
	}
	return f, nil
}

// readStarted reads a started run's journal: its run event and the
// stage events the steps recorded. Lines that are not events (a step
// killed mid-line) are left out.
func readStarted(path, runID string, upTo int64) (*startedRun, []journal.Event, error) {
	f, err := fsutil.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if upTo >= 0 {
		r = io.LimitReader(f, upTo)
	}
	jr := journal.NewReader(r)
	if !jr.Next() || jr.Event().Kind != journal.KindRun || jr.Event().RunID != runID || jr.Line() != 1 {
		return nil, nil, fmt.Errorf("%s is not the journal of run %s", path, runID)
	}
	h := &startedRun{Event: *jr.Event(), path: path}
	if !h.Detached {
		return nil, nil, fmt.Errorf("run %s was not opened by stagetrack start; its own process finishes it", runID)
	}
	var stages []journal.Event
	for jr.Next() {
		if ev := jr.Event(); ev.Kind != journal.KindRun {
			stages = append(stages, *ev)
		}
	}
	return h, stages, nil
}

// assembleStarted records the run span of h, as start began it, with the
// steps' stages, and returns the run file's path.
func assembleStarted(ctx context.Context, env *Env, h *startedRun, stages []journal.Event, runErr error) (string, error) {
	var tid trace.TraceID
	var sid, parent trace.SpanID
	var err error
	if tid, err = trace.TraceIDFromHex(h.TraceID); err != nil {
		return "", fmt.Errorf("run %s: %w", h.RunID, err)
	}
	if sid, err = trace.SpanIDFromHex(h.SpanID); err != nil {
		return "", fmt.Errorf("run %s: %w", h.RunID, err)
	}
	started := time.Unix(0, h.T)
	clk := &switchClock{at: started}
	tr, shutdown, err := newTracker(ctx, env, filepath.Dir(h.path), append(ciResource(h.CI),
		setup.WithTrackerOptions(tracker.WithClock(clk.now)),
		setup.WithProviderOptions(sdktrace.WithIDGenerator(&fixedIDs{trace: tid, span: sid})))...)
	if err != nil {
		return "", err
	}
	pctx := ctx
	if h.ParentSpanID != "" {
		if parent, err = trace.SpanIDFromHex(h.ParentSpanID); err == nil {
			ts, _ := trace.ParseTraceState(h.TraceState)
			pctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: tid, SpanID: parent, TraceFlags: trace.FlagsSampled, TraceState: ts, Remote: true,
			}))
		}
	}
	var args any
	if a := withCIArgs(h.Args, h.CI); len(a) > 0 {
		args = a
	}
	rctx, run := tr.Start(pctx, args, tracker.WithRunID(h.RunID), tracker.WithRunName(h.Name), startedProvenance(h.Provenance))
	clk.release()
	if run.SpanContext().SpanID() != sid {
		return "", errors.Join(fmt.Errorf("run %s: the run span did not get start's span id", h.RunID), finish(rctx, run, shutdown, nil))
	}
	owned := strings.TrimSuffix(h.path, journal.FinishingSuffix) + journal.Suffix
	if err := joinStages(owned, stages); err != nil {
		return "", errors.Join(err, finish(rctx, run, shutdown, nil))
	}
	if runErr == nil {
		// The stages' verdict by the run file's rule, as under stagetrack
		// run: a stage that passed on retry fails nothing.
		why, err := jsonrun.JournalFailure(owned)
		if err != nil {
			return "", errors.Join(err, finish(rctx, run, shutdown, nil))
		}
		if why != "" {
			runErr = errors.New(why)
		}
	}
	run.SetError(runErr)
	if err := finish(rctx, run, shutdown, nil); err != nil {
		return "", err
	}
	return run.File(), nil
}

// joinStages records the steps' stage events in the journal at path, that
// this process's exporter opened for the run, as a process that joined the
// run records its own: the exporter merges them into the run file.
func joinStages(path string, stages []journal.Event) error {
	if len(stages) == 0 {
		return nil
	}
	j, err := journal.Join(path, false)
	if err != nil {
		return fmt.Errorf("finish: journal: %w", err)
	}
	var buf []byte
	for i := range stages {
		buf = journal.Append(buf, &stages[i])
	}
	werr := j.Write(buf)
	if err := errors.Join(werr, j.Close()); err != nil {
		return fmt.Errorf("finish: %w", err)
	}
	return nil
}

// switchClock reads at until release, then the real time: the run span
// starts at start's time, and everything after it now.
type switchClock struct {
	mu       sync.Mutex
	at       time.Time
	released bool
}

func (c *switchClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released {
		return time.Now()
	}
	return c.at
}

func (c *switchClock) release() {
	c.mu.Lock()
	c.released = true
	c.mu.Unlock()
}

// fixedIDs is an sdktrace.IDGenerator whose first span (the run span) gets
// the ids start recorded; every later span gets random ones. It is safe for
// concurrent use.
type fixedIDs struct {
	mu    sync.Mutex
	used  bool
	trace trace.TraceID
	span  trace.SpanID
}

var _ sdktrace.IDGenerator = (*fixedIDs)(nil)

func (g *fixedIDs) first() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := !g.used
	g.used = true
	return f
}

func (g *fixedIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	if g.first() {
		return g.trace, g.span
	}
	var t trace.TraceID
	_, _ = rand.Read(t[:])
	return t, g.random()
}

func (g *fixedIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	if g.first() {
		return g.span
	}
	return g.random()
}

func (g *fixedIDs) random() trace.SpanID {
	var s trace.SpanID
	_, _ = rand.Read(s[:])
	return s
}

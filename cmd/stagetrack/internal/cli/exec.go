package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/contrib/propagators/envcar"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// Command group of run and exec in the help.
const groupRunning = "running"

func newExecCommand(env *Env) *cobra.Command {
	var (
		stageName string
		dir       string
		dataArgs  []string
		dataFile  string
		capture   captureFlags
		files     = stageFiles{capture: &capture}
		tailLines int
		retries   int
		lim       commandLimits
		strict    bool
	)
	cmd := &cobra.Command{
		Use:   "exec [--stage NAME] [--dir DIR] -- CMD [ARG...]",
		Short: "Run a command as one stage of the current run, or as a run of its own",
		Long: `exec runs CMD as one stage named NAME (default: the base name of CMD).

Inside a stagetrack run (STAGE_TRACKER_RUN_ID, STAGE_TRACKER_JOURNAL and
TRACEPARENT are set) the stage joins that run: it is recorded in the run's
one run file, under the stage or run that started this process, and is a span
of the run's trace. Outside a run, exec records a run of one stage in DIR.

The stage records its duration and the data {"command": [CMD, ARG...],
"exit_code": N} (and "signal" when a signal ended CMD); a non-zero exit is the
stage's error ("exit status N"), and, outside a run, the run's.

Stage data from the shell: --data KEY=VALUE adds to the stage's data (VALUE
as JSON where it parses: 3, 0.93, true; else a string). CMD can add its own:
STAGE_TRACKER_DATA_FILE names a file (--data-file F, or a fresh temporary
file) in which CMD writes a JSON object, or to which "stagetrack stage-data
KEY=VALUE" adds; exec reads it when CMD ends. A file that is not a JSON
object is ignored with a one-line warning. The data lands in the run file and
on the stage's span as the library's Stage.End data does; "command",
"exit_code" and "signal" are exec's own and win over the same keys.

A failed stage also records the last lines of CMD's stderr (--stderr-tail
lines, at most 4 KiB) as "stderr_tail", with secret-looking assignments
(TOKEN=…, password: …) and the values of secret-named environment variables
replaced by [REDACTED]. CMD's stderr still reaches stagetrack's stderr
unchanged, through a pipe (--stderr-tail 0 gives CMD stagetrack's own
stderr, a terminal stays a terminal).

--timeout D ends CMD after D, as timeout(1) does: CMD runs in its own process
group, which gets SIGTERM, then SIGKILL --kill-after later; the stage's
error is "timed out after D", its data has "timed_out": true, and exec exits
124. --retry N runs a failing CMD again, up to N more times (not when it
could not start or a signal interrupted it): each attempt is a stage of the
same name (the run file keys the last NAME and the earlier ones NAME#1,
NAME#2, ..., with "attempt"), and
exec's exit code and the run's error are the last attempt's.
CMD's stdin, stdout and stderr are stagetrack's own, untouched; CMD's
environment also carries STAGE_TRACKER_* and TRACEPARENT for this stage, so
an exec (or a Go program calling tracker.StartOrJoin) inside CMD nests under
it. SIGINT and SIGTERM are passed on to CMD.

With OTEL_TRACES_EXPORTER=otlp, spans that the OTLP endpoint does not
take (it is down, or refuses them) are kept in the spool (STAGETRACK_SPOOL,
default stagetrack/spool in the user's cache directory), one OTLP/JSON file
of mode 0600 per failed export, and one line on stderr says where;
"stagetrack send" sends them later, and a run or finish of the same run
sends them when it ends. A failed export does not change exec's exit code
unless --strict-export is given.

exec exits with CMD's exit code (128+N when signal N ended it or stagetrack
passed it on; 127 when CMD is not found, 126 when it cannot be started); 1
when CMD succeeded but the run could not be recorded; 2 for a usage error.`,
		Example: example(
			"stagetrack exec -- make build",
			"stagetrack exec --stage unit-tests -- go test ./...",
			"stagetrack exec --stage train --data model=resnet --data epochs=10 -- python train.py",
			"stagetrack exec --stage deploy --timeout 10m --retry 2 -- ./deploy.sh",
			`stagetrack exec --stage eval -- python -c 'import json,os; json.dump({"accuracy": 0.93}, open(os.environ["STAGE_TRACKER_DATA_FILE"], "w"))'`,
			`stagetrack run -- sh -c 'stagetrack exec -- ./fetch.sh && stagetrack exec --stage train -- python train.py'`,
		),
		GroupID: groupRunning,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, argv []string) error {
			if stageName == "" {
				stageName = filepath.Base(argv[0])
			}
			userData, err := parseData(dataArgs)
			if err != nil {
				return usageError(err)
			}
			if tailLines < 0 || retries < 0 || lim.timeout < 0 || lim.killAfter < 0 {
				return usageError(errors.New("--stderr-tail, --retry, --timeout and --kill-after take values of 0 or more"))
			}
			if tailLines > 0 {
				lim.tail = &tailWriter{maxLines: tailLines}
			}
			if os.Getenv(tracker.EnvRunID) != "" && !trace.SpanContextFromContext(parentFromEnv(cmd.Context())).IsValid() {
				// tracker.Join would start a run under the parent's run id,
				// in the parent's journal: record a run of its own instead.
				fmt.Fprintf(env.Stderr, "stagetrack: %s is set but %s is not a valid trace context; recording a run of its own\n",
					tracker.EnvRunID, tracker.EnvTraceParent)
				os.Unsetenv(tracker.EnvRunID)
				os.Unsetenv(tracker.EnvJournal)
			}
			journal := os.Getenv(tracker.EnvJournal)
			if id := os.Getenv(tracker.EnvRunID); id != "" && journal != "" {
				if err := tracker.CanJoin(id, journal); err != nil {
					return err // one line; CMD does not run, nothing is written
				}
			}
			if os.Getenv(tracker.EnvRunID) != "" && journal != "" && !cmd.Flags().Changed("dir") {
				// Whatever this process writes belongs beside the run it joins.
				dir = filepath.Dir(journal)
			}
			sigs := catchSignals()
			defer sigs.stop()
			ci := detectCI(env.getenv)
			sp := newSpooler(env) // what the OTLP exporter fails to send (spool.go)
			tr, shutdown, err := newTracker(cmd.Context(), env, dir, append(ciResource(ci), sp.option()...)...)
			if err != nil {
				return err
			}
			ctx := parentFromEnv(cmd.Context())
			var runArgs any
			if ci != nil {
				runArgs = map[string]any{"ci": ci}
			}
			provOpt, err := execRunOption(cmd.Context(), env, &capture, argv, os.Getenv(tracker.EnvRunID) != "" && os.Getenv(tracker.EnvJournal) != "")
			if err != nil {
				return errors.Join(err, shutdown(context.WithoutCancel(cmd.Context())))
			}
			ctx, run := tr.StartOrJoin(ctx, runArgs, tracker.WithRunName(stageName), provOpt)
			// A joined run's span is the parent's: remote to this process.
			joined := run.SpanContext().IsRemote()
			if !joined {
				if journal, err = journalPath(dir, run.ID()); err != nil {
					return errors.Join(err, finish(ctx, run, shutdown, nil))
				}
			}
			att := attempter{env: env, tr: tr, argv: argv, userData: userData, dataFile: dataFile, limits: lim, files: &files}
			var out outcome
			for attempt := 1; ; attempt++ {
				if attempt > 1 {
					sigs = catchSignals()
				}
				out, err = att.run(ctx, cmd.Context(), run, journal, stageName, sigs)
				if err != nil {
					return errors.Join(err, finish(ctx, run, shutdown, nil))
				}
				if out.err == nil || attempt > retries || out.received != nil || out.startErr != nil {
					break
				}
				fmt.Fprintf(env.Stderr, "stagetrack: %s failed (%v); attempt %d of %d\n", stageName, out.err, attempt+1, retries+1)
			}

			var ferr error
			switch {
			case joined:
				// Before finish: this process's shared lock on the
				// journal keeps stagetrack finish waiting meanwhile.
				annotateStep(env, journal, att.lastSpan)
				ferr = finish(ctx, run, shutdown, nil)
			case out.received != nil:
				ferr = finish(ctx, run, shutdown, func(ctx context.Context) error {
					return run.Interrupt(ctx, out.err.Error())
				})
			default:
				run.SetError(out.err)
				ferr = finish(ctx, run, shutdown, nil)
			}
			sp.settle()
			if !joined {
				ciFinishRun(env, run, nil)
			}
			if strict {
				ferr = errors.Join(ferr, sp.strictError())
			}
			return commandResult(out, ferr)
		}),
	}
	cmd.Flags().StringVar(&stageName, "stage", "", "the stage's name (default: the base name of CMD)")
	cmd.Flags().StringVar(&dir, "dir", "runs", "directory of the run file, outside a run (inside one: the run's own directory)")
	cmd.Flags().IntVar(&tailLines, "stderr-tail", defaultTailLines, "lines of CMD's stderr (at most 4 KiB) a failed stage records as stderr_tail; 0: none")
	cmd.Flags().DurationVar(&lim.timeout, "timeout", 0, "end CMD after this long (SIGTERM to its process group, SIGKILL --kill-after later); exit 124")
	cmd.Flags().DurationVar(&lim.killAfter, "kill-after", 5*time.Second, "with --timeout: how long after SIGTERM to send SIGKILL")
	cmd.Flags().IntVar(&retries, "retry", 0, "run a failing CMD again up to N times, each attempt a stage of the same name")
	cmd.Flags().StringArrayVar(&dataArgs, "data", nil, "add KEY=VALUE to the stage's data (VALUE as JSON where it parses, else a string); repeatable")
	files.register(cmd.Flags())
	capture.register(cmd.Flags())
	cmd.Flags().BoolVar(&strict, "strict-export", false, "exit 1 (or CMD's non-zero code) when the OTLP export failed, even if its spans were kept in the spool")
	cmd.Flags().StringVar(&dataFile, "data-file", "", "a JSON object file CMD writes its data to (default: a fresh temporary file); its path is in "+EnvDataFile)
	// Everything after CMD is CMD's, flags included: exec ls -l.
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// attempter runs one attempt of exec's command as a stage.
type attempter struct {
	env      *Env
	tr       *tracker.Tracker // its propagator writes the child's context
	argv     []string
	userData map[string]any
	dataFile string
	limits   commandLimits
	files    *stageFiles
	lastSpan string // the span id (hex) of the last attempt's stage
}

// run runs one attempt as a stage of run named name, under ctx, and ends
// the stage with its data. cmdCtx is the command's context, whose
// cancellation by a signal keeps CMD from starting.
func (a *attempter) run(ctx, cmdCtx context.Context, run *tracker.Run, journal, name string, sigs *signals) (outcome, error) {
	df, err := newDataFile(a.dataFile)
	if err != nil {
		sigs.stop()
		return outcome{}, err
	}
	defer df.remove()
	lim := a.limits
	if lim.tail != nil {
		lim.tail = &tailWriter{maxLines: lim.tail.maxLines}
	}
	sctx, stage := run.StartStage(ctx, name)
	endFiles := a.files.begin(sctx, stage, a.argv, a.env.Stderr)
	a.lastSpan = trace.SpanFromContext(sctx).SpanContext().SpanID().String()
	extra := append(a.tr.ChildEnv(sctx, run.ID(), journal), EnvDataFile+"="+df.path)
	out := runCommandWith(cmdCtx, a.env, a.argv, extra, sigs, lim)
	if out.timedOut {
		fmt.Fprintln(a.env.Stderr, timeoutLine(name, lim, out.killed))
	}
	data := map[string]any{}
	maps.Copy(data, a.userData)
	if fromFile, err := readDataFile(df.path); err != nil {
		fmt.Fprintf(a.env.Stderr, "stagetrack: data file %s ignored: %v\n", df.path, oneLine(err))
	} else {
		maps.Copy(data, redactHeaderSecrets(fromFile, os.Environ()))
	}
	// What exec measured is not the command's to overwrite.
	data["command"], data["exit_code"] = a.argv, out.code
	if out.signal != "" {
		data["signal"] = out.signal
	}
	if out.timedOut {
		data["timed_out"] = true
		// The run file's own stage field, beside the data.
		trace.SpanFromContext(sctx).SetAttributes(attribute.Bool(keys.StageTimedOut, true))
	}
	if out.err != nil && lim.tail != nil {
		if t := lim.tail.String(); t != "" {
			data["stderr_tail"] = redactText(t, os.Environ())
		}
	}
	// The semantic conventions' names for what ran, beside the data.
	trace.SpanFromContext(sctx).SetAttributes(semconv.ProcessCommandArgs(a.argv...), semconv.ProcessExitCode(out.code))
	endFiles()
	stage.End(data, out.err)
	return out, nil
}

// dataFile is the file a stage's command records its data in.
type dataFile struct {
	path string
	temp bool // made by exec, removed after
}

// newDataFile returns the data file given by --data-file, or a fresh empty
// temporary one. It refuses a given path that is there and not a regular
// file.
func newDataFile(given string) (*dataFile, error) {
	if given != "" {
		abs, err := filepath.Abs(given)
		if err != nil {
			return nil, fmt.Errorf("data file: %w", err)
		}
		// A FIFO or device would block the read after the command ends.
		if fi, err := os.Lstat(abs); err == nil && !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("data file %s is not a regular file (%s)", abs, fi.Mode().Type())
		}
		return &dataFile{path: abs}, nil
	}
	f, err := os.CreateTemp("", "stagetrack-data-*.json")
	if err != nil {
		return nil, fmt.Errorf("data file: %w", err)
	}
	f.Close()
	return &dataFile{path: f.Name(), temp: true}, nil
}

func (d *dataFile) remove() {
	if d.temp {
		os.Remove(d.path)
	}
}

// newTracker builds the tracker of run and exec with setup.Tracker, so the
// OTEL_* variables select exporters as in any program using the library;
// the console exporter prints on stderr, leaving stdout to the command.
//
// A signal cancels ctx; that must not keep the interrupted run from being
// recorded, so setup does not see the cancellation.
func newTracker(ctx context.Context, env *Env, dir string, extra ...setup.Option) (*tracker.Tracker, func(context.Context) error, error) {
	// A process that will own a run checks its directory before CMD runs;
	// one that joins a parent's run writes no file of its own there.
	if os.Getenv(tracker.EnvRunID) == "" || os.Getenv(tracker.EnvJournal) == "" {
		if err := checkDir(dir); err != nil {
			return nil, nil, err
		}
	}
	opts := append([]setup.Option{setup.WithDir(dir), setup.WithConsoleWriter(env.Stderr), setup.WithExportTimeout(cliExportTimeout)}, extra...)
	tr, shutdown, err := setup.Tracker(context.WithoutCancel(ctx), opts...)
	if err != nil {
		var ee *setup.EnvError
		if errors.As(err, &ee) {
			return nil, nil, usageError(err)
		}
		return nil, nil, err
	}
	return tr, boundedShutdown(env.Stderr, shutdown), nil
}

// journalPath is where the exporter that setup.Tracker built for dir keeps
// the journal of run runID: the same exporter code computes it, on an
// exporter of the same directory that records nothing.
func journalPath(dir, runID string) (string, error) {
	exp, err := jsonrun.New(jsonrun.WithDir(dir))
	if err != nil {
		return "", err
	}
	return exp.JournalPath(runID, "")
}

// parentFromEnv returns ctx holding the context that the environment
// carries in the format OTEL_PROPAGATORS names (TRACEPARENT, TRACESTATE and
// BAGGAGE by default), so that a run started under a traced parent process
// (a CI job, another run) is a span of its trace and keeps its baggage. An
// invalid OTEL_PROPAGATORS reads as the default here; setup.Tracker reports
// it.
func parentFromEnv(ctx context.Context) context.Context {
	p, err := setup.Propagator()
	if err != nil {
		p = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return p.Extract(ctx, &envcar.Carrier{})
}

// finalizeTimeout bounds finalising a run and shutting the provider down.
// They run after CMD has exited, on a context that a signal does not
// cancel: the signal that ended CMD must not also lose its run.
const finalizeTimeout = 30 * time.Second

// finish finalises run (with end, when given, instead of Finalize) and
// shuts the provider down.
func finish(ctx context.Context, run *tracker.Run, shutdown func(context.Context) error, end func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalizeTimeout)
	defer cancel()
	if end == nil {
		end = run.Finalize
	}
	err := end(ctx)
	return errors.Join(err, shutdown(ctx))
}

// commandResult is what run and exec return once CMD has ended and the run
// is finalised: CMD's exit code, with nothing more printed, unless the run
// could not be recorded.
func commandResult(out outcome, ferr error) error {
	if out.startErr != nil {
		ferr = errors.Join(out.startErr, ferr)
	}
	switch {
	case ferr != nil && out.code == 0:
		return ferr
	case ferr != nil:
		// Reported, so that Main prints it without the usage hint that
		// code 2 would otherwise bring.
		return &exitError{code: out.code, err: &reportedError{summary: ferr.Error()}}
	case out.code != 0:
		return &exitError{code: out.code, err: &reportedError{}}
	}
	return nil
}

// outcome is how a command ended.
type outcome struct {
	// code is the exit code stagetrack passes on: CMD's; 128+N when signal
	// N ended CMD, or when stagetrack received N and passed it on; 127 or
	// 126 when CMD could not be started.
	code int
	// err is CMD's failure as a stage or run error: "exit status 3",
	// "signal: killed", "interrupted by signal: terminated", or why it could
	// not start; nil when it exited 0 on its own.
	err error
	// signal names the signal that ended CMD, if one did.
	signal string
	// received is the first SIGINT or SIGTERM stagetrack received (and
	// passed on) while CMD ran.
	received os.Signal
	// startErr is why CMD could not be started.
	startErr error
	// timedOut is set when exec's --timeout ended CMD.
	timedOut bool
	// killed is set when CMD outlived the timeout's SIGTERM by
	// --kill-after and was sent SIGKILL.
	killed bool
}

// forwarded are the signals stagetrack passes on to the command.
var forwarded = []os.Signal{os.Interrupt, syscall.SIGTERM}

// signals catches SIGINT and SIGTERM for runCommandWith to pass on. Made
// before the run starts, so that a signal received while the run is being
// set up is not lost: CMD is then not started at all.
type signals struct{ ch chan os.Signal }

func catchSignals() *signals {
	s := &signals{ch: make(chan os.Signal, 4)}
	signal.Notify(s.ch, forwarded...)
	return s
}

// stop stops catching; it may be called more than once.
func (s *signals) stop() { signal.Stop(s.ch) }

// early returns the signal received before CMD was to start, or nil. A
// signal that came before catchSignals was called only cancelled ctx
// (cmd/stagetrack's signal.NotifyContext); its cause names it.
func (s *signals) early(ctx context.Context) os.Signal {
	select {
	case sig := <-s.ch:
		return sig
	default:
	}
	if ctx.Err() == nil {
		return nil
	}
	if strings.HasPrefix(context.Cause(ctx).Error(), syscall.SIGTERM.String()) {
		return syscall.SIGTERM
	}
	return os.Interrupt
}

// interrupted is the outcome of a run or stage cut short by sig.
func interrupted(out outcome, sig os.Signal) outcome {
	out.received = sig
	out.err = fmt.Errorf("interrupted by signal: %s", sig)
	if s, ok := sig.(syscall.Signal); ok {
		out.code = 128 + int(s)
	}
	return out
}

// commandLimits are what exec (and run's relay) add to running a command.
type commandLimits struct {
	// tail, when non-nil, receives a copy of CMD's stderr.
	tail *tailWriter
	// timeout, when positive, ends CMD's process group after that long:
	// SIGTERM, then SIGKILL killAfter later.
	timeout, killAfter time.Duration
	// stdio, when set, is CMD's stdout and stderr (the pseudo-terminal
	// that run relays, relay_unix.go); closed once CMD has ended.
	stdio *os.File
}

// tailDelay bounds how long exec waits for CMD's stderr to close once CMD
// has exited, when it copies stderr for the tail: a background process
// that keeps it open must not hold the stage open.
const tailDelay = 2 * time.Second

// runCommandWith runs argv with stagetrack's stdin, env's stdout and
// stderr (or lim.stdio), and the process environment plus extra (which
// replaces any variable of the same name), passes the signals sigs catches
// on to it, and waits for it to end; then it stops sigs. It does not tie
// CMD to ctx: a signal reaches CMD as itself, and CMD decides when to stop.
// When a signal came before, CMD is not started.
func runCommandWith(ctx context.Context, env *Env, argv, extra []string, sigs *signals, lim commandLimits) outcome {
	defer sigs.stop()
	if sig := sigs.early(ctx); sig != nil {
		return interrupted(outcome{err: errors.New("not started")}, sig)
	}
	c := exec.Command(argv[0], argv[1:]...)
	c.Stdin = os.Stdin
	c.Stdout = env.Stdout
	c.Stderr = env.Stderr
	if lim.tail != nil {
		c.Stderr = io.MultiWriter(env.Stderr, lim.tail)
		c.WaitDelay = tailDelay
	}
	var group *procGroup
	if lim.timeout > 0 {
		// As timeout(1) does: its own process group, so that the timeout
		// ends what CMD started too.
		group = newProcGroup(c)
	}
	if lim.stdio != nil {
		c.Stdout, c.Stderr = lim.stdio, lim.stdio
		defer lim.stdio.Close()
	}
	c.Env = childEnviron(os.Environ(), extra)
	if err := c.Start(); err != nil {
		code := 126
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			code = 127
		}
		err = fmt.Errorf("start %s: %w", argv[0], err)
		return outcome{code: code, err: err, startErr: err}
	}
	group.started(c.Process)
	defer group.close()

	var (
		wg       sync.WaitGroup
		received os.Signal
		done     = make(chan struct{})
		mu       sync.Mutex // guards exited and the kills, against pid reuse
		exited   bool
		timedOut bool
		killed   bool
	)
	signalCmd := func(sig os.Signal) {
		mu.Lock()
		defer mu.Unlock()
		if exited {
			return
		}
		if group.signal(c.Process, sig) {
			return
		}
		// It fails only when CMD has exited already.
		_ = c.Process.Signal(sig)
	}
	var timers []*time.Timer
	if lim.timeout > 0 {
		timers = append(timers, time.AfterFunc(lim.timeout, func() {
			mu.Lock()
			timedOut = !exited
			mu.Unlock()
			signalCmd(syscall.SIGTERM)
		}), time.AfterFunc(lim.timeout+lim.killAfter, func() {
			mu.Lock()
			killed = !exited
			mu.Unlock()
			signalCmd(syscall.SIGKILL)
		}))
	}
	wg.Go(func() {
		for {
			select {
			case sig := <-sigs.ch:
				if received == nil {
					received = sig
				}
				signalCmd(sig)
			case <-done:
				return
			}
		}
	})
	waitErr := c.Wait()
	mu.Lock()
	exited = true
	mu.Unlock()
	for _, t := range timers {
		t.Stop()
	}
	sigs.stop()
	close(done)
	wg.Wait()

	var out outcome
	ps := c.ProcessState
	switch ws, ok := ps.Sys().(syscall.WaitStatus); {
	case ok && ws.Signaled():
		out.code = 128 + int(ws.Signal())
		out.signal = ws.Signal().String()
		out.err = fmt.Errorf("signal: %s", out.signal)
	case ps.ExitCode() != 0:
		out.code = ps.ExitCode()
		out.err = fmt.Errorf("exit status %d", out.code)
	case waitErr != nil && !errors.Is(waitErr, exec.ErrWaitDelay):
		// copying output failed
		out.code = 1
		out.err = fmt.Errorf("%s: %w", argv[0], waitErr)
	}
	mu.Lock()
	out.timedOut, out.killed = timedOut, killed
	mu.Unlock()
	switch {
	case received != nil:
		out = interrupted(out, received)
	case out.timedOut:
		out.code = exitTimedOut
		out.err = fmt.Errorf("timed out after %s", lim.timeout)
	}
	return out
}

// timeoutLine says that --timeout ended stage name's command, and how:
//
//	stagetrack: stage "train" timed out after 2s; sent SIGTERM to its process group, then SIGKILL after 10s
//
// The SIGKILL part only when the command outlived SIGTERM by --kill-after.
func timeoutLine(name string, lim commandLimits, killed bool) string {
	line := fmt.Sprintf("stagetrack: stage %q timed out after %s; sent SIGTERM to its process group", name, lim.timeout)
	if killed {
		line += fmt.Sprintf(", then SIGKILL after %s", lim.killAfter)
	}
	return line
}

// exitTimedOut is exec's exit code when --timeout ended CMD, as timeout(1).
const exitTimedOut = 124

// childEnviron returns environ with the variables in extra set, and the
// variables a child joins a run by removed unless extra sets them: a
// TRACESTATE of an outer trace must not travel with this run's TRACEPARENT.
func childEnviron(environ, extra []string) []string {
	drop := map[string]bool{
		tracker.EnvRunID: true, tracker.EnvJournal: true,
		tracker.EnvTraceParent: true, tracker.EnvTraceState: true,
	}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	out := make([]string, 0, len(environ)+len(extra))
	for _, kv := range environ {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

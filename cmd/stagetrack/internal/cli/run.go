package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/receiver"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

func newRunCommand(env *Env) *cobra.Command {
	var (
		runArgs, name, dir string
		quiet              bool
		serveOTLP          bool
		capture            captureFlags
		params             paramFlags
		statusOn           bool
	)
	cmd := &cobra.Command{
		Use:   "run [--args ARGS|@FILE] [--param K=V]... [--name NAME] [--dir DIR] [--quiet] [--otlp=false] [--status-line=false] [--capture PARTS] [--env NAME]... -- CMD [ARG...]",
		Short: "Record a run made of a command and the processes it starts",
		Long: `run starts a run, runs CMD, and finalises the run when CMD exits: its run
file, DIR/<run_id>.json, holds every stage that CMD and the processes it
starts record, through "stagetrack exec" or a Go program calling
tracker.StartOrJoin. Its status follows CMD's exit and its stages: when the
last attempt of a stage failed, the run is "failed" with an error naming the
stage (stage "test" failed: exit status 1), whatever CMD's exit, and run
exits 1 if CMD exited 0; else "failed" with the error "exit status N" for a
non-zero exit, "signal: S" when signal S ended CMD, and "interrupted" when
stagetrack received SIGINT or SIGTERM, which it passes on to CMD. A stage
that failed and then passed on retry does not fail the run.

CMD's environment carries what a child needs to join the run:
STAGE_TRACKER_RUN_ID, STAGE_TRACKER_JOURNAL (the run's journal, where joined
processes append their stages), and the W3C TRACEPARENT and TRACESTATE of the
run span. A TRACEPARENT in stagetrack's own environment makes the run a span
of that trace. The OTEL_* variables select other exporters as for any program
using setup.Tracker (OTEL_TRACES_EXPORTER=otlp sends the trace to a
backend); with "console", spans are printed on stderr. Spans the OTLP
endpoint does not take are kept in the spool, as exec keeps them (see
"stagetrack exec --help" and "stagetrack send --help"); once the endpoint
has taken the run, run sends what its steps kept there.

While CMD runs, run serves OTLP/HTTP (/v1/traces, protobuf or JSON) on a
free 127.0.0.1 port and gives CMD OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
_TRACES_PROTOCOL and _TRACES_HEADERS (a per-run bearer token; also the
general OTEL_EXPORTER_OTLP_* ones unless OTEL_EXPORTER_OTLP_ENDPOINT is
set), so that a program using any OpenTelemetry SDK sends its spans to the
run: they become its stages, nested by parent, with their attributes as
data and an error status as the stage error, and go on to the exporters
OTEL_TRACES_EXPORTER names. Requests without the token get 401; bodies over
4 MiB 413; past 100,000 spans a run refuses more (partial success).
--otlp=false serves nothing: CMD's OTEL_* variables are left as they are, and
its spans are not stages (an instrumented service's own spans, say).

ARGS, the run's args, is recorded as JSON when it is valid JSON and as a
string otherwise, @FILE as the JSON in FILE; by default it is
{"command": [CMD, ARG...]}. --param K=V sets args[K] (V as JSON where it
parses, else a string, as exec --data). NAME defaults to the base name of
CMD.

Before CMD starts, run records what the run is made of in the run file's
"provenance": the git commit, branch, dirty state, digest of the
uncommitted diff and untracked count of the working directory's
repository, CMD and the working directory, the machine, Go's version (and
--tool-version CMD's). Environment variables are recorded only when named
by --env NAME or STAGE_TRACKER_ENV (globs: CUDA_*), secrets redacted.
--capture picks the parts (code, command, machine, tools; none).

While CMD runs, run prints each stage on stderr as it starts and ends, with
the time since the run started, its duration and its error: coloured on a
terminal, plain (no colour, no line cut) in a file or CI log; after 5
minutes without a line (STAGETRACK_STILL_RUNNING, a Go duration; 0: never)
it says which stages are still running and for how long. When stdout and
stderr are both the terminal, CMD's stdout and stderr are a pseudo-terminal
that run relays to it, and the last line shows the running stages' time,
updated in place while CMD is silent (--status-line=false gives CMD the
terminal and keeps the plain lines). At the end it prints the run's
status, the run file and the trace id on stderr. --quiet prints neither.

run exits with CMD's exit code: 128+N when signal N ended CMD or stagetrack
passed it on (130 for SIGINT, 143 for SIGTERM), 127 when CMD is not found,
126 when it cannot be started; 1 when CMD succeeded but a stage failed or the
run file could not be written; 2 for a usage error.`,
		Example: example(
			`stagetrack run -- sh -c 'stagetrack exec -- make && stagetrack exec --stage test -- make test'`,
			`stagetrack run --name nightly --args '{"branch":"main"}' --dir runs -- ./pipeline.sh`,
			"stagetrack run -q -- go run ./cmd/train   # a Go program that calls tracker.StartOrJoin",
		),
		GroupID: groupRunning,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, argv []string) error {
			if name == "" {
				name = filepath.Base(argv[0])
			}
			ci := detectCI(env.getenv) // h5: issue 11
			var a any = map[string]any{"command": argv}
			if ci != nil {
				a = map[string]any{"command": argv, "ci": ci}
			}
			if given, ok, err := params.runArgs(cmd.Flags().Changed("args"), runArgs); err != nil {
				return err
			} else if ok {
				a = given
			}
			prov, err := capture.provenance(cmd.Context(), env, argv)
			if err != nil {
				return err
			}
			sigs := catchSignals()
			defer sigs.stop()
			feed := setup.NewFeed()
			sp := newSpooler(env) // what the OTLP exporter fails to send (spool.go)
			tr, shutdown, err := newTracker(cmd.Context(), env, dir, append(append(ciResource(ci), setup.WithFeed(feed)), sp.option()...)...)
			if err != nil {
				return err
			}
			ctx, run := tr.Start(parentFromEnv(cmd.Context()), a, tracker.WithRunName(name), provenanceOption(prov))
			journal, err := journalPath(dir, run.ID())
			if err != nil {
				return errors.Join(err, finish(ctx, run, shutdown, nil))
			}

			stopProgress := func() {}
			var lim commandLimits
			var relay *ttyRelay
			if !quiet {
				p, w := env.progress(), io.Writer(env.Stderr)
				var status *statusLine
				if statusOn {
					if r, ok := openRelay(env); ok {
						// The status line says what "still running" lines would.
						relay, status, w, lim.stdio = r, r.status, r.status, r.tty
						p.stillEvery = 0
					}
				}
				stopProgress = followJournal(journal, pollInterval, w, p, status)
			}
			childEnv := tr.ChildEnv(ctx, run.ID(), journal)
			var recv *receiver.Receiver
			if serveOTLP {
				recv, err = receiver.Start(cmd.Context(), feed.End)
				if err != nil {
					// The run is still recorded; only CMD's OTLP spans have nowhere to go.
					fmt.Fprintf(env.Stderr, "stagetrack: warning: %s\n", oneLine(err))
				} else {
					childEnv = append(childEnv, recv.ChildEnv(os.Getenv)...)
				}
			}
			out := runCommandWith(cmd.Context(), env, argv, childEnv, sigs, lim)
			if relay != nil {
				relay.wait() // the rest of CMD's output, before the last lines
			}
			if recv != nil {
				// Before the run is finalised: what CMD sent at exit is in it.
				if err := recv.Shutdown(context.WithoutCancel(cmd.Context())); err != nil {
					fmt.Fprintf(env.Stderr, "stagetrack: warning: %s\n", oneLine(err))
				}
			}
			stopProgress()
			// What exec steps annotated, while the journal is there.
			annotated := readStepAnnotated(journal)
			if why := stageFailure(out, journal); why != "" {
				// The stage that decided the run says more than CMD's
				// "exit status 1" (a set -e script): the run file, the run
				// span and the last line all name it. When CMD succeeded,
				// the failed stage fails the run and run exits 1.
				out.err = errors.New(why)
				if out.code == 0 {
					out.code = 1
				}
			}

			var ferr error
			if out.received != nil {
				ferr = finish(ctx, run, shutdown, func(ctx context.Context) error {
					return run.Interrupt(ctx, out.err.Error())
				})
			} else {
				run.SetError(out.err)
				ferr = finish(ctx, run, shutdown, nil)
			}
			sp.settle()
			if failed, _ := sp.exportFailed(); !failed {
				// The endpoint took the run: its steps' spool goes too.
				pickUpSpool(cmd.Context(), env, run.ID())
			}
			if !quiet {
				printRunSummary(env.Stderr, run)
				ciFinishRun(env, run, annotated)
				if run.File() != "" {
					out.startErr = nil // the summary said why CMD did not start: once is enough
				}
			}
			return commandResult(out, ferr)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&runArgs, "args", "", `the run's args: JSON, any text, or @FILE of JSON (default {"command": [CMD, ARG...]})`)
	params.register(f)
	capture.register(f)
	f.StringVar(&name, "name", "", "the run's name (default: the base name of CMD)")
	f.StringVar(&dir, "dir", "runs", "directory of the run file")
	f.BoolVarP(&quiet, "quiet", "q", false, "print no progress and no summary")
	f.BoolVar(&statusOn, "status-line", true, "on a terminal, relay CMD's output through a pseudo-terminal and keep the running stages' time updated on the last line; =false gives CMD the terminal and prints plain still-running lines")
	f.BoolVar(&serveOTLP, "otlp", true, "serve OTLP/HTTP to CMD, whose spans become stages; --otlp=false leaves CMD's OTEL_* variables alone")
	// Everything after CMD is CMD's, flags included: run make -j4.
	f.SetInterspersed(false)
	return cmd
}

// stageFailure is why the stages in journal fail the run (the status rule,
// as jsonrun.JournalFailure applies it), when CMD exited on its own: with 0,
// or with a non-zero status. It is "" when no stage fails the run, when CMD
// was interrupted, ended by a signal or not started (that says more than a
// stage left unfinished), or when the journal cannot be read: the run file
// still says what the exporter found.
func stageFailure(out outcome, journal string) string {
	if out.received != nil || out.signal != "" || out.startErr != nil {
		return ""
	}
	why, _ := jsonrun.JournalFailure(journal)
	return why
}

// argsValue is the run's args for --args s: s itself when it is valid
// JSON, else s as a JSON string.
func argsValue(s string) any {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return s
}

// printRunSummary prints the run's outcome, file and trace id, as the run
// file says, to w.
func printRunSummary(w io.Writer, run *tracker.Run) {
	path := run.File()
	if path == "" {
		return // Finalize failed, and said why
	}
	if rf, err := runfile.ReadFile(path); err == nil {
		line := fmt.Sprintf("stagetrack: run %s in %s", runtree.RunStatus(rf), view.Duration(rf.CompletedAt.Sub(rf.StartTime)))
		if rf.Error != "" {
			line += ": " + view.Clean(rf.Error)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "stagetrack: run file %s\nstagetrack: trace %s\n", path, run.TraceID())
}

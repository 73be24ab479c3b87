package cli

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/journal"
	"github.com/stage-tracker/stage-tracker/tracker"
)

func newStartCommand(env *Env) *cobra.Command {
	var (
		name, dir, envFile, runArgs string
		capture                     captureFlags
		params                      paramFlags
	)
	cmd := &cobra.Command{
		Use:   "start [--name NAME] [--dir DIR] [--env-file FILE] [--args ARGS|@FILE] [--param K=V]... [--capture PARTS] [--env NAME]...",
		Short: "Open a run whose steps run in separate shells; finish ends it",
		Long: `start opens a run for a job whose steps each run in a new shell (CI steps,
a Makefile called several times) and prints what the steps need to join it,
as lines for eval:

  export STAGE_TRACKER_RUN_ID=…
  export STAGE_TRACKER_JOURNAL=…
  export TRACEPARENT=00-…-…-01

With --env-file FILE it appends KEY=VALUE lines to FILE instead, the format
of GitHub Actions' $GITHUB_ENV. Every "stagetrack exec" that sees these
variables records its stage in the run; "stagetrack finish" writes the run
file. No process stays alive between the steps: the run lives in its
journal, DIR/<run_id>.journal, until finish.

The run starts now (its start time and span ids are in the journal). A
TRACEPARENT in start's environment makes the run a span of that trace. A
started run that is never finished is left alone by the recovery that other
commands do, for 24 hours after its start; after that, "stagetrack recover"
records it as interrupted with the stages it had, and "stagetrack recover
--journal FILE" does so at once.`,
		Example: example(
			`eval "$(stagetrack start --name nightly)"`,
			`stagetrack start --name ci --env-file "$GITHUB_ENV"   # GitHub Actions`,
			`stagetrack start --env-file job.env && set -a && . ./job.env && set +a`,
		),
		GroupID: groupRunning,
		Args:    args(cobra.NoArgs),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			var a json.RawMessage
			if given, ok, err := params.runArgs(cmd.Flags().Changed("args"), runArgs); err != nil {
				return err
			} else if ok {
				b, _ := json.Marshal(given)
				a = b
			}
			// The job's provenance is start's: its working directory, its
			// machine; its command is start's own command line.
			prov, err := capture.provenance(cmd.Context(), env, os.Args)
			if err != nil {
				return err
			}
			h, err := newStartedRun(cmd.Context(), name, dir, a, time.Now())
			if err != nil {
				return err
			}
			if prov != nil {
				h.Provenance, _ = prov.MarshalJSON()
			}
			h.CI = detectCI(env.getenv)
			if err := h.write(); err != nil {
				return err
			}
			vars := h.env()
			if envFile == "" {
				var b strings.Builder
				for _, kv := range vars {
					k, v, _ := strings.Cut(kv, "=")
					fmt.Fprintf(&b, "export %s=%s\n", k, shellQuote(v))
				}
				if err := write(env.Stdout, b.String()); err != nil {
					os.Remove(h.path)
					return err
				}
				return nil
			}
			if err := appendEnvFile(envFile, vars); err != nil {
				// A refused start leaves nothing behind: no journal to be
				// recovered later as an interrupted run.
				os.Remove(h.path)
				return err
			}
			fmt.Fprintf(env.Stderr, "stagetrack: started run %s; its variables are in %s\n", h.RunID, envFile)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "run", "the run's name")
	f.StringVar(&dir, "dir", "runs", "directory of the journal and, at finish, the run file")
	f.StringVar(&envFile, "env-file", "", "append KEY=VALUE lines to FILE (as $GITHUB_ENV) instead of printing export lines")
	f.StringVar(&runArgs, "args", "", "the run's args: JSON, any text, or @FILE of JSON")
	params.register(f)
	capture.register(f)
	return cmd
}

// startedRun is the run event of a started run's journal, which carries
// everything finish needs to end the run span that start began, and where
// the journal is.
type startedRun struct {
	journal.Event
	path string // the journal
}

// newStartedRun makes the header of a run starting at now, under the trace
// context of ctx's TRACEPARENT when there is one.
func newStartedRun(ctx context.Context, name, dir string, args json.RawMessage, now time.Time) (*startedRun, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	// Detached tells recovery that no process owns the run until finish.
	h := &startedRun{Event: journal.Event{Kind: journal.KindRun, T: now.UnixNano(), RunID: uuid.NewString(), Name: name, Args: args, Detached: true}}
	h.Host, _ = os.Hostname()
	var tid trace.TraceID
	var sid trace.SpanID
	_, _ = rand.Read(tid[:])
	_, _ = rand.Read(sid[:])
	if p := trace.SpanContextFromContext(parentFromEnv(ctx)); p.IsValid() {
		tid = p.TraceID()
		h.ParentSpanID = p.SpanID().String()
		h.TraceState = p.TraceState().String()
	}
	h.TraceID, h.SpanID = tid.String(), sid.String()
	if h.path, err = journalPath(absDir, h.RunID); err != nil {
		return nil, err
	}
	return h, nil
}

// write writes the journal, its run event alone: whole or absent.
func (h *startedRun) write() error {
	b := journal.Append(nil, &h.Event)
	if err := os.MkdirAll(filepath.Dir(h.path), 0o755); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(h.path), ".start-*")
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	// A journal's mode whatever the umask, as journal.Create sets it.
	merr := tmp.Chmod(journal.Perm)
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(merr, werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("start: write %s: %w", h.path, err)
	}
	if err := os.Rename(tmp.Name(), h.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("start: %w", err)
	}
	return nil
}

// env is what a step needs to join the run.
func (h *startedRun) env() []string {
	vars := []string{
		tracker.EnvRunID + "=" + h.RunID,
		tracker.EnvJournal + "=" + h.path,
		tracker.EnvTraceParent + "=00-" + h.TraceID + "-" + h.SpanID + "-01",
	}
	if h.TraceState != "" {
		vars = append(vars, tracker.EnvTraceState+"="+h.TraceState)
	}
	return vars
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// appendEnvFile appends KEY=VALUE lines to the file at path, in one write.
func appendEnvFile(path string, vars []string) error {
	var b strings.Builder
	for _, kv := range vars {
		if strings.ContainsAny(kv, "\n\r") {
			return fmt.Errorf("start: %q holds a newline; it cannot go in an env file", kv)
		}
		b.WriteString(kv + "\n")
	}
	// Not blocking on a FIFO; only a regular file is appended to.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|fsutil.NonBlock, 0o644)
	if err != nil {
		return fmt.Errorf("start: env file: %w", err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("start: env file %s is not a regular file", path)
	}
	_, werr := io.WriteString(f, b.String())
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("start: env file %s: %w", path, err)
	}
	return nil
}

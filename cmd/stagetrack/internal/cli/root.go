// Package cli is the stagetrack command line: a cobra root command and a
// file per subcommand. Each subcommand is a constructor taking the *Env it
// prints to; commands lists them. The logic that turns runs into text, HTML
// or spans lives in its own package (view, report, rundiff, runstats,
// replay), so the commands here only parse flags, read files and print.
//
// Adding a command: write newXCommand(env *Env) *cobra.Command in x.go,
// wrap its RunE with runE, validate arguments with args(...), and add it to
// commands below.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/tracker"
)

// Command groups shown in the help.
const groupLook = "look"

// commands are the subcommands of stagetrack, in the order the help lists
// them within their group.
var commands = []func(*Env) *cobra.Command{
	newRunCommand,
	newStartCommand,
	newExecCommand,
	newStageDataCommand,
	newFinishCommand,
	newRecoverCommand,
	newMergeCommand,
	newLsCommand,
	newShowCommand,
	newReportCommand,
	newDiffCommand,
	newCompareCommand,
	newCheckCommand,
	newStatsCommand,
	newValidateCommand,
	newSendCommand,
}

// NewRootCommand returns the stagetrack command with every subcommand,
// printing to env. It is not safe for concurrent use; make one per
// execution.
func NewRootCommand(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "stagetrack",
		Short: "Record, look at, compare and summarise stage-tracker run files",
		Long: `stagetrack works with the run files that stage-tracker writes (one JSON
file per run of a pipeline: its stages, their timing, data and errors). It
records runs made of commands (run, exec), and looks at them.

Exit codes: 0 ok; 1 the command found a failure (a file that cannot be read
or is invalid, runs that could not be sent); 2 a usage error. run and exec
exit with their command's exit code.
Colour is used only when stdout is a terminal and NO_COLOR is unset.`,
		Example: `  stagetrack run -- sh -c 'stagetrack exec -- make && stagetrack exec -- make test'
  stagetrack ls --param seed=12
  stagetrack show latest
  stagetrack show runs/3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f.json
  stagetrack diff yesterday.json today.json
  stagetrack compare runs/
  stagetrack check today.json --baseline runs/ --metric 'evaluate.accuracy>=0.9'
  stagetrack stats runs/
  stagetrack report runs/*.json -o report.html`,
		Version:           tracker.Version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddGroup(&cobra.Group{ID: groupRunning, Title: "Recording runs:"})
	root.AddGroup(&cobra.Group{ID: groupLook, Title: "Looking at runs:"})
	for _, newCmd := range commands {
		root.AddCommand(newCmd(env))
	}
	return root
}

// Main runs stagetrack with args (without the program name) and returns
// the exit code. Errors are printed to env.Stderr.
func Main(ctx context.Context, args []string, env *Env) int {
	root := NewRootCommand(env)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	var silent *reportedError
	reported := errors.As(err, &silent)
	if !reported {
		fmt.Fprintf(env.Stderr, "stagetrack: %v\n", err)
	} else if silent.summary != "" {
		fmt.Fprintf(env.Stderr, "stagetrack: %s\n", silent.summary)
	}
	// A reported failure is not a usage error, whatever its code: run and
	// exec exit 2 when their command does.
	if code == ExitUsage && cmd != nil && !reported {
		fmt.Fprintf(env.Stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// reportedError is a failure whose details the command already printed;
// Main prints only its summary.
type reportedError struct{ summary string }

func (e *reportedError) Error() string { return e.summary }

// runE wraps a command's function so that every error it returns carries
// an exit code: ExitFailure unless it already has one.
func runE(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := fn(cmd, args)
		if err == nil {
			return nil
		}
		var e *exitError
		if errors.As(err, &e) {
			return err
		}
		return &exitError{code: ExitFailure, err: err}
	}
}

// args wraps a cobra argument validator so its errors are usage errors.
func args(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := v(cmd, a); err != nil {
			return usageError(err)
		}
		return nil
	}
}

// write writes s to w, reporting a failed write (a closed pipe) as a
// failure.
func write(w io.Writer, s string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// writeBytes is write for output held as bytes.
func writeBytes(w io.Writer, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// example indents a command's examples as cobra prints them.
func example(lines ...string) string {
	return "  " + strings.Join(lines, "\n  ")
}

package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
)

func newShowCommand(env *Env) *cobra.Command {
	var width int
	cmd := &cobra.Command{
		Use:   "show RUN...",
		Short: "Print a run as a waterfall of its stages",
		Long: `show prints a run as a waterfall: a header with the run's id, status, start,
duration and trace id, then one row per stage (nested stages indented under
their parent) with a bar placed and sized by the stage's start and duration on
the run's time axis, the duration, the status and the error. Under it, DATA
lists each stage's data as key=value (nested objects as dotted keys), and the
stderr tails of failed stages follow.

A RUN is a run file, a directory (each of its runs), latest (the newest run
in runs/; DIR/latest in DIR), or the start of a run id (3f2c, looked for in
runs/; DIR/3f2c in DIR) that only one run has.

The table fits the width given by --width, else the COLUMNS environment
variable, else the terminal's width; when stdout is not a terminal it is 100
columns. Several runs are shown one after the other, oldest first. A history
(the Python stage-tracker's history/pipeline_history.json, or a JSON Lines
history) shows each of its runs; FILE[i] picks the run at index i.`,
		Example: example(
			"stagetrack show runs/3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f.json",
			"stagetrack show latest",
			"stagetrack show 3f2c",
			"stagetrack show --width 80 run_output.json",
			"stagetrack show 'history/pipeline_history.json[3]'",
			"NO_COLOR=1 stagetrack show run_output.json | less",
		),
		GroupID: groupLook,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, files []string) error {
			if width < 0 {
				return usagef("--width must be positive, not %d", width)
			}
			files, err := resolveRuns(cmd.Context(), files)
			if err != nil {
				return err
			}
			runs, err := readLabeled(cmd.Context(), files, env.Stderr)
			if err != nil {
				return err
			}
			byStart(runs)
			printNotes(env.Stderr, runs)
			o := env.viewOptions(env.Stdout, width)
			// Written as it is made: the table of a large run is larger
			// than the run in memory.
			for i, r := range runs {
				if i > 0 {
					if err := write(env.Stdout, "\n"); err != nil {
						return err
					}
				}
				if err := view.WriteWaterfall(env.Stdout, r.run, o); err != nil {
					return fmt.Errorf("write output: %w", err)
				}
				if err := view.WriteData(env.Stdout, r.run, o); err != nil {
					return fmt.Errorf("write output: %w", err)
				}
				if err := write(env.Stdout, stderrTails(r.run)); err != nil {
					return err
				}
			}
			return nil
		}),
	}
	cmd.Flags().IntVarP(&width, "width", "w", 0, "columns to fit (default: $COLUMNS, the terminal's width, or 100)")
	return cmd
}

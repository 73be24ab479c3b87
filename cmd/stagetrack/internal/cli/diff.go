package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/rundiff"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
)

func newDiffCommand(env *Env) *cobra.Command {
	var (
		width  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare two runs stage by stage",
		Long: `diff compares run B with run A stage by stage. Stages are matched by their key
path (the same key at the same place in the stage tree: "train/epoch", the
last attempt of epoch, or "train/epoch#1", the first of several). For
each stage it prints the duration in A and in B, the change (absolute and in
percent of A), the status (a → b when it changed), and the top-level data keys
that were added (+), removed (-) or changed (~). Stages only in one run say so.
The last row compares the runs' total durations and statuses.

With --json it prints the comparison as one JSON object instead (fields are
described in docs/cli.md). diff exits 0 whenever both files could be read,
whatever the differences. A or B may be a history's run: FILE[i] picks the
run at index i (the Python tool's history/pipeline_history.json[3]).`,
		Example: example(
			"stagetrack diff runs/yesterday.json runs/today.json",
			"stagetrack diff --json a.json b.json | jq '.stages[] | select(.delta_pct > 10)'",
		),
		GroupID: groupLook,
		Args:    args(cobra.ExactArgs(2)),
		RunE: runE(func(cmd *cobra.Command, files []string) error {
			if width < 0 {
				return usagef("--width must be positive, not %d", width)
			}
			var runs []loadedRun
			for _, f := range files {
				if err := cmd.Context().Err(); err != nil {
					return err
				}
				rs, err := readFileRuns(f) // a FIFO or device is refused unread
				if err != nil {
					return err
				}
				if len(rs) != 1 {
					return fmt.Errorf("%s holds %d runs; pick one as %s[i], i from 0 to %d", f, len(rs), f, len(rs)-1)
				}
				runs = append(runs, rs[0])
			}
			printNotes(env.Stderr, runs)
			d := rundiff.Compare(runs[0].run, runs[1].run)
			d.A.File, d.B.File = runs[0].label, runs[1].label
			if asJSON {
				b, err := json.MarshalIndent(d, "", "  ")
				if err != nil {
					return err
				}
				return write(env.Stdout, string(b)+"\n")
			}
			return write(env.Stdout, view.Diff(d, env.viewOptions(env.Stdout, width)))
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	cmd.Flags().IntVarP(&width, "width", "w", 0, "columns to fit (default: $COLUMNS, the terminal's width, or 100)")
	return cmd
}

package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/internal/rundiff"
	"github.com/stage-tracker/stage-tracker/internal/view"
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
path (the same key at the same place in the stage tree: "train/epoch#2"). For
each stage it prints the duration in A and in B, the change (absolute and in
percent of A), the status (a → b when it changed), and the top-level data keys
that were added (+), removed (-) or changed (~). Stages only in one run say so.
The last row compares the runs' total durations and statuses.

With --json it prints the comparison as one JSON object instead (fields are
described in docs/cli.md). diff exits 0 whenever both files could be read,
whatever the differences.`,
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
			runs, err := readRuns(files)
			if err != nil {
				return err
			}
			d := rundiff.Compare(runs[0], runs[1])
			d.A.File, d.B.File = files[0], files[1]
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

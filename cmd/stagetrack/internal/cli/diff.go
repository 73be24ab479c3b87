package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

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
		Short: "Compare two runs: the values that changed, then stage by stage",
		Long: `diff compares run B with run A. First the values that changed, each with
A's value, B's and, for numbers, the change (absolute and in percent of A):

  DATA        each stage's data, as stage.key ("evaluate.accuracy"; nested
              objects as dotted keys, "train.metrics.top1")
  PARAMETERS  the run's args ("lr", "optimizer.name")
  PROVENANCE  the run's provenance (code.commit, code.dirty, tools.python…)
              and each stage's inputs and outputs (by SHA-256 and size) and
              tool versions

Then stage by stage: stages are matched by their key path (the same key at
the same place in the stage tree: "train/epoch", the last attempt of epoch, or
"train/epoch#1", the first of several). For each stage it prints the duration
in A and in B, the change (absolute and in percent of A), the status (a → b
when it changed), and the top-level data keys that were added (+), removed (-)
or changed (~). Stages only in one run say so. The last row compares the runs'
total durations and statuses.

With --json it prints the comparison as one JSON object instead (fields are
described in docs/cli.md). diff exits 0 whenever both files could be read,
whatever the differences: to fail a CI job on a regression, use check. A or B may be a history's run: FILE[i] picks the
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
			// The two files are read at once: reading is most of diff's time.
			runs := make([]loadedRun, len(files))
			provs := make([]rundiff.Provenance, len(files))
			errs := make([]error, len(files))
			var wg sync.WaitGroup
			for i, f := range files {
				wg.Go(func() { runs[i], provs[i], errs[i] = readDiffSide(cmd.Context(), f) })
			}
			wg.Wait()
			for _, err := range errs { // the first argument's error first
				if err != nil {
					return err
				}
			}
			printNotes(env.Stderr, runs)
			d := rundiff.Compare(runs[0].run, runs[1].run, rundiff.WithProvenance(provs[0], provs[1]))
			d.A.File, d.B.File = runs[0].label, runs[1].label
			if asJSON {
				b, err := json.MarshalIndent(d, "", "  ")
				if err != nil {
					return err
				}
				// Written as bytes: two runs of 100,000 stages make 47 MB,
				// which a string and its newline would copy twice more.
				return writeBytes(env.Stdout, append(b, '\n'))
			}
			return write(env.Stdout, view.Diff(d, env.viewOptions(env.Stdout, width)))
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	cmd.Flags().IntVarP(&width, "width", "w", 0, "columns to fit (default: $COLUMNS, the terminal's width, or 100)")
	return cmd
}

// readDiffSide reads one side of a diff: the one run that arg names (a
// file, FILE[i], latest or a run-id prefix), and its provenance.
func readDiffSide(ctx context.Context, arg string) (loadedRun, rundiff.Provenance, error) {
	if err := ctx.Err(); err != nil {
		return loadedRun{}, rundiff.Provenance{}, err
	}
	paths, err := resolveRun(ctx, arg) // a file, latest, an id prefix
	if err != nil {
		return loadedRun{}, rundiff.Provenance{}, err
	}
	if len(paths) != 1 {
		return loadedRun{}, rundiff.Provenance{}, fmt.Errorf("%s names %d runs; give one", arg, len(paths))
	}
	rs, err := readFileRuns(paths[0]) // a FIFO or device is refused unread
	if err != nil {
		return loadedRun{}, rundiff.Provenance{}, err
	}
	if len(rs) != 1 {
		return loadedRun{}, rundiff.Provenance{}, fmt.Errorf("%s holds %d runs; pick one as %s[i], i from 0 to %d", arg, len(rs), arg, len(rs)-1)
	}
	return rs[0], rundiff.FromRun(rs[0].run), nil
}

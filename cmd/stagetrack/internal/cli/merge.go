package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func newMergeCommand(env *Env) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge FILE... [-o OUT]",
		Short: "Merge the parts of one run, split across files, directories or hosts, into one run file",
		Long: `merge writes the run file that the parts of one run add up to: run files
and journals written by several processes, directories, or Collector
backends, each holding some of the run's stages. It is the file one exporter
would have written had it received every span: stages are merged by span
id (a stage in several parts is one, and one that ended anywhere has
ended), the run span is the one part that has it, and the status, error and
missing_stages follow from the merged stages by the rule every run file
follows.

A FILE ending in .journal is a journal (its stages, and the run event of its
owner); any other is a run file. Every part must be of the same run, and at
most one run span may own it. Nothing is removed: once OUT is written,
delete the parts yourself.

The run file goes to OUT (written atomically), or to standard output.`,
		Example: example(
			"stagetrack merge hostA/runs/3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f.json hostB/runs/3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f.json -o merged.json",
			"stagetrack merge runs/3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f.journal backend2/3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f.journal",
		),
		GroupID: groupRunning,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, a []string) error {
			a, err := resolveRuns(cmd.Context(), a)
			if err != nil {
				return err
			}
			var (
				runs     []*runfile.Run
				journals []string
			)
			for _, p := range a {
				if strings.HasSuffix(p, jsonrun.JournalSuffix) {
					journals = append(journals, p)
					continue
				}
				rs, err := runfile.ReadRuns(p)
				if err != nil {
					return fileErr(p, err)
				}
				runs = append(runs, rs...)
			}
			if len(journals) > 0 {
				r, err := jsonrun.MergeJournals(journals...)
				if err != nil {
					return err
				}
				runs = append(runs, r)
			}
			merged, err := jsonrun.Merge(runs...)
			if err != nil {
				return err
			}
			if out != "" && out != "-" {
				// OUT is the user's: written whole, a symlink followed,
				// /dev/stdout or a FIFO written in place.
				if err := fsutil.WriteOutput(out, 0o644, func(w io.Writer) error { return runfile.Write(w, merged) }); err != nil {
					return fmt.Errorf("cannot write the merged run to %s: %w", out, err)
				}
				fmt.Fprintf(env.Stderr, "stagetrack: run %s: %d stages from %d parts, status %s: %s\n",
					merged.RunID, merged.StageCount, len(a), merged.Status, out)
				return nil
			}
			// Streamed: the run file of a large run need not be held whole.
			if err := runfile.Write(env.Stdout, merged); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
			return nil
		}),
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the run file to `OUT` (default: standard output)")
	return cmd
}

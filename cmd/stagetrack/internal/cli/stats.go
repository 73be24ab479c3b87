package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runstats"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func newStatsCommand(env *Env) *cobra.Command {
	var (
		width  int
		jobs   int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "stats RUN...",
		Short: "Summarise many runs: per stage count, failures, flakes, p50, p95, max, and data",
		Long: `stats summarises many runs of a pipeline. Directories are searched
recursively for *.json files (names starting with a dot are skipped). For the
runs themselves and for each stage it prints how many records there are, how
many did not end ok (error, unfinished or running) and their share, the share
of runs in which it was flaky (failed, then passed on retry: its last attempt
ended ok and an earlier one did not), and the median (p50), 95th percentile
and maximum duration. Percentiles use the nearest-rank method, so each is a
duration that occurred.

Then DATA: for each stage and each key of its data that holds a number
(nested objects as dotted keys), the count, mean, min, p50, max, and the
value of the newest run (last).

A RUN is a file, a directory (searched recursively), latest, or the start of
a run id (see stagetrack show --help).

Stages are grouped by name path: nested stages as "train/epoch", and the
repeated records of a stage (epoch#1, epoch#2, epoch) together. Stages are listed
parents first, siblings in their usual start order.

Files are read in parallel (--jobs). A file that cannot be read is reported on
stderr and left out; the summary of the others is still printed, and stats
exits 1.`,
		Example: example(
			"stagetrack stats runs/",
			"stagetrack stats --json runs/ | jq '.stages[] | select(.failure_rate > 0.1)'",
			"stagetrack stats runs/2025-05-*.json",
		),
		GroupID: groupLook,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, paths []string) error {
			if width < 0 {
				return usagef("--width must be positive, not %d", width)
			}
			if jobs < 1 {
				return usagef("--jobs must be at least 1, not %d", jobs)
			}
			ctx := cmd.Context()
			files, err := resolveRuns(ctx, paths)
			if err != nil {
				return err
			}
			if len(files) == 0 {
				return fmt.Errorf("no run files (*.json) in %s", strings.Join(paths, ", "))
			}
			aggs := make([]runstats.Aggregator, min(jobs, len(files)))
			var naive atomic.Int64
			fileErrs, skipped, badFiles, err := forEachRun(ctx, files, jobs, func(w int, r *runfile.Run) {
				if len(r.Notes) > 0 {
					naive.Add(1)
				}
				aggs[w].Add(r)
			})
			if err != nil {
				return err
			}
			var all runstats.Aggregator
			for i := range aggs {
				all.Merge(&aggs[i])
			}
			s := all.Summary()
			for _, e := range skipped {
				fmt.Fprintf(env.Stderr, "stagetrack: note: skipped %v\n", e)
			}
			for _, e := range fileErrs {
				fmt.Fprintf(env.Stderr, "stagetrack: skipped %v\n", e)
			}
			if n := naive.Load(); n > 0 {
				fmt.Fprintf(env.Stderr, "stagetrack: note: %d of %d runs have timestamps with no UTC offset; read as UTC\n", n, s.Runs)
			}
			if s.Runs > 0 {
				if asJSON {
					err = writeSummaryJSON(env.Stdout, s)
				} else {
					if err = view.WriteStats(env.Stdout, s, env.viewOptions(env.Stdout, width)); err != nil {
						err = fmt.Errorf("write output: %w", err)
					}
				}
				if err != nil {
					return err
				}
			}
			if s.Runs == 0 && len(fileErrs) == 0 {
				return fmt.Errorf("no runs read from %s", strings.Join(paths, ", "))
			}
			if len(fileErrs) > 0 {
				return &reportedError{summary: fmt.Sprintf("%d of %d files could not be read", badFiles, len(files))}
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	cmd.Flags().IntVarP(&width, "width", "w", 0, "columns to fit (default: $COLUMNS, the terminal's width, or 100)")
	cmd.Flags().IntVarP(&jobs, "jobs", "j", max(4, 2*runtime.GOMAXPROCS(0)), "files to read at once")
	return cmd
}

// writeSummaryJSON writes what json.MarshalIndent(s, "", "  ") and a
// newline would, a stage at a time: the summary of a run of 100,000
// distinct stages is twice the size of its file as JSON, which need not
// be held whole.
func writeSummaryJSON(w io.Writer, s runstats.Summary) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	run, err := json.MarshalIndent(s.Run, "  ", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "{\n  \"runs\": %d,\n  \"run\": %s,\n  \"stages\": ", s.Runs, run)
	if s.Stages == nil {
		bw.WriteString("null")
	} else {
		bw.WriteByte('[')
	}
	for i, row := range s.Stages {
		b, err := json.MarshalIndent(row, "    ", "  ")
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(b)
	}
	if len(s.Stages) > 0 {
		bw.WriteString("\n  ")
	}
	if s.Stages != nil {
		bw.WriteByte(']')
	}
	bw.WriteString("\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

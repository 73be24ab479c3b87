package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/gate"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func newCheckCommand(env *Env) *cobra.Command {
	var (
		baseline []string
		metrics  []string
		relPct   float64
		abs      time.Duration
		minRuns  int
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "check RUN --baseline DIR|RUN... [--metric BOUND]...",
		Short: "Fail when a run regressed against a baseline of earlier runs",
		Long: `check is a regression gate for CI: it exits 1 when RUN regressed against the
runs given with --baseline (directories are searched for *.json files, as
stats does; RUN itself is left out of them), and 0 when it did not.

A stage regressed when it took longer than the baseline's 95th percentile
(nearest rank) by more than --max-slower percent AND by more than
--min-slower (default +25 % and +1s: a 100ms stage that takes 300ms is
noise, a 10s stage that takes 13s is not). A stage is judged only when at
least --min-runs baseline runs have it (default 5); otherwise check says
"not judged: stage train: 3 baseline runs, need 5" and does not fail.
Only the attempt that decides a stage counts (the last attempt of a
retried stage), and only baseline stages that ended ok.

--metric bounds a data value, named stage.key ("evaluate.accuracy"; nested
objects as dotted keys):
  --metric 'evaluate.accuracy>=0.9'   a fixed bound: >=, >, <=, < or ==
  --metric 'evaluate.accuracy:-0.01'  no worse than the baseline's median by
                                      0.01; the sign is the direction that is
                                      worse (-: lower is worse, +: higher)
A value the run does not have fails the check.

check prints one line per finding, then a summary. Under GitHub Actions
(GITHUB_ACTIONS=true) each finding is also an annotation: ::error for a
regression, ::warning for what was not judged. With --json it prints the
result as one JSON object instead. Exit codes: 0 no regression, 1 a
regression (or RUN could not be read), 2 a usage error.`,
		Example: example(
			"stagetrack check runs/latest.json --baseline runs/",
			"stagetrack check run.json --baseline main-runs/ --metric 'evaluate.accuracy>=0.9' --metric 'evaluate.accuracy:-0.01'",
			"stagetrack check run.json --baseline main-runs/ --max-slower 50 --min-slower 5s --min-runs 10",
		),
		GroupID: groupLook,
		Args:    args(cobra.ExactArgs(1)),
		RunE: runE(func(cmd *cobra.Command, a []string) error {
			if len(baseline) == 0 {
				return usagef("check needs --baseline DIR|RUN: the runs to hold %s to", a[0])
			}
			if relPct < 0 || abs < 0 || minRuns < 1 {
				return usagef("--max-slower and --min-slower must not be negative, --min-runs at least 1")
			}
			bounds := make([]gate.Bound, 0, len(metrics))
			for _, m := range metrics {
				b, err := gate.ParseBound(m)
				if err != nil {
					return usageError(err)
				}
				bounds = append(bounds, b)
			}
			ctx := cmd.Context()
			files, err := resolveRun(ctx, a[0]) // a file, latest, an id prefix
			if err != nil {
				return err
			}
			runs, err := readLabeled(ctx, files, env.Stderr)
			if err != nil {
				return err
			}
			if len(runs) != 1 {
				return usagef("%s holds %d runs; pick one as %s[i], i from 0 to %d", a[0], len(runs), a[0], len(runs)-1)
			}
			printNotes(env.Stderr, runs)
			base, err := readBaseline(cmd, env, baseline)
			if err != nil {
				return err
			}
			res := gate.Check(runs[0].run, base, gate.WithSlower(relPct/100, abs), gate.WithMinRuns(minRuns), gate.WithBounds(bounds...))
			var out strings.Builder
			if asJSON {
				err := indentJSON(&out, struct {
					Run string `json:"run"`
					gate.Result
					OK bool `json:"ok"`
				}{runs[0].label, res, !res.Failed()})
				if err != nil {
					return err
				}
			} else {
				for _, f := range res.Findings {
					// One line, whatever a stage's name holds.
					out.WriteString(view.Line(f.Message) + "\n")
				}
			}
			if env.getenv("GITHUB_ACTIONS") == "true" {
				for _, f := range res.Findings {
					kind := "error"
					if f.Level != gate.Error {
						kind = "warning"
					}
					fmt.Fprintf(&out, "::%s title=%s::%s\n", kind, escapeProperty("stagetrack check: "+findingTitle(f)), escapeData(f.Message))
				}
			}
			if !asJSON {
				verdict := "ok"
				if res.Failed() {
					verdict = "FAILED"
				}
				fmt.Fprintf(&out, "%s: %s against %s: %s and %s judged, %d failed\n",
					verdict, view.Line(runs[0].label), plural(res.BaselineRuns, "baseline run"), plural(res.StagesJudged, "stage"),
					plural(res.MetricsJudged, "metric"), errorCount(res))
			}
			if err := write(env.Stdout, out.String()); err != nil {
				return err
			}
			if res.Failed() {
				return &reportedError{summary: "check failed: " + plural(errorCount(res), "finding")}
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringArrayVar(&baseline, "baseline", nil, "a run file or a directory of them to compare with (repeatable)")
	f.StringArrayVar(&metrics, "metric", nil, "a bound on a data value: 'stage.key>=0.9' or 'stage.key:-0.01' (repeatable)")
	f.Float64Var(&relPct, "max-slower", gate.DefaultRelative*100, "percent over the baseline's p95 a stage may take")
	f.DurationVar(&abs, "min-slower", gate.DefaultAbsolute, "time over the baseline's p95 a stage may always take")
	f.IntVar(&minRuns, "min-runs", gate.DefaultMinRuns, "baseline runs a stage or metric needs to be judged")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// readBaseline reads the baseline's runs as stats reads its arguments:
// directories searched for *.json files, files read in parallel, a file
// that cannot be read skipped with a line on stderr.
func readBaseline(cmd *cobra.Command, env *Env, paths []string) ([]*runfile.Run, error) {
	ctx := cmd.Context()
	paths, err := resolveRuns(ctx, paths) // directories, latest, id prefixes
	if err != nil {
		return nil, err
	}
	files, err := runFiles(ctx, paths)
	if err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		runs []*runfile.Run
	)
	fileErrs, skipped, _, err := forEachRun(ctx, files, max(4, 2*runtime.GOMAXPROCS(0)), func(_ int, r *runfile.Run) {
		mu.Lock()
		runs = append(runs, r)
		mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	for _, e := range skipped {
		fmt.Fprintf(env.Stderr, "stagetrack: note: skipped %v\n", e)
	}
	for _, e := range fileErrs {
		fmt.Fprintf(env.Stderr, "stagetrack: skipped %v\n", e)
	}
	return runs, nil
}

// indentJSON writes v as indented JSON and a newline, with <, > and &
// as they are: the output is read by people and jq, not put in HTML.
func indentJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func findingTitle(f gate.Finding) string {
	switch f.Kind {
	case gate.KindDuration:
		return "stage " + f.Stage + " slower"
	case gate.KindMetric:
		return "metric " + f.Metric
	}
	if f.Metric != "" {
		return "metric " + f.Metric + " not judged"
	}
	return "stage " + f.Stage + " not judged"
}

func errorCount(r gate.Result) int {
	n := 0
	for _, f := range r.Findings {
		if f.Level == gate.Error {
			n++
		}
	}
	return n
}

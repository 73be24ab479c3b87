package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/report"
	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

func newReportCommand(env *Env) *cobra.Command {
	var (
		out    string
		title  string
		charts int
		format string
	)
	cmd := &cobra.Command{
		Use:   "report RUN... -o report.html",
		Short: "Write an HTML report: a summary of many runs and a Gantt chart of the newest",
		Long: `report writes one self-contained HTML file (inline CSS and SVG, a few lines
of inline script, nothing fetched from the network). It opens with a summary
of every run given: how many passed and failed, the median and p95 duration
of the runs and of each stage and how often it was flaky, a chart of run and
stage durations over time, a chart of each number the stages record in their
data (evaluate · accuracy) over the runs with a table summarising them, and
the newest failures first. Then come the newest runs (--charts, default
10), newest first, each with its metadata (id, status, start, duration, trace
id, args, error, warnings), a table of its parameters (args) and of its
stages' data, and a Gantt chart of its stages; the older runs are a list
(with their parameters) that opens on click. Only the drawn runs are kept in
memory whole, so thousands of runs make a report in little memory.

A chart draws at most 1,000 stages: of a larger run, the longest (each with
the stages it is nested in) and a line saying how many are left out; its
data table lists theirs. The summary's tables of stages and of data list
at most 1,000 rows each and count the rest. stagetrack show and stagetrack
stats list every stage.

A RUN is a file, a directory (its runs), latest, or the start of a run id
(see stagetrack show --help). Times are shown readable; hovering one shows
its exact ISO value.

Hovering a bar shows the stage's duration, status, error and data; clicking
it shows them in full below the chart, and puts a link to the stage in the
address bar. The charts share one time scale, so they can be compared by eye.

With -o - the report goes to stdout.

--format junit writes JUnit XML instead (default file junit.xml), which CI
systems display as test results: one test suite per run, one test case per
stage, a failed stage a <failure> with its error and stderr tail.`,
		Example: example(
			"stagetrack report run_output.json -o report.html",
			"stagetrack report runs/ -o runs.html --title 'nightly runs'",
			"stagetrack report --format junit runs/*.json -o junit.xml",
		),
		GroupID: groupLook,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, files []string) error {
			if out == "" {
				return usagef("-o must name a file (or - for stdout)")
			}
			if charts < 1 {
				return usagef("--charts must be at least 1, not %d", charts)
			}
			files, err := resolveRuns(cmd.Context(), files)
			if err != nil {
				return err
			}
			var (
				render func(io.Writer) error // writes the report
				n      int
			)
			switch format { // h5: issue 11
			case "html":
				// The report keeps the runs it draws and a summary of the
				// others: runs are read ahead in parallel and handed to it
				// one at a time, never all held at once.
				rp := report.New(report.Options{Title: title, Charts: charts})
				err := streamRuns(cmd.Context(), files, max(4, 2*runtime.GOMAXPROCS(0)), env.Stderr, func(l loadedRun) {
					rp.Add(report.Input{File: l.label, Run: l.run})
					n++
				})
				if err != nil {
					return err
				}
				render = rp.Write
			case "junit":
				runs, err := readLabeled(cmd.Context(), files, env.Stderr) // a history gives several runs
				if err != nil {
					return err
				}
				in := make([]report.Input, len(runs))
				for i, r := range runs {
					in[i] = report.Input{File: r.label, Run: r.run}
				}
				render = func(w io.Writer) error { return report.WriteJUnit(w, in, title) }
				n = len(runs)
				if !cmd.Flags().Changed("output") {
					out = "junit.xml"
				}
			default:
				return usagef("--format is html or junit, not %q", format)
			}
			if out == "-" {
				// Made whole first, as before: an error making it leaves
				// nothing half written on stdout.
				var buf bytes.Buffer
				if err := render(&buf); err != nil {
					return err
				}
				return write(env.Stdout, buf.String())
			}
			// Written to the file as it is made: the report of a large run
			// need not be held whole.
			if err := writeFileAtomicFunc(out, render); err != nil {
				return fmt.Errorf("cannot write the report to %s: %w", out, err)
			}
			fmt.Fprintf(env.Stderr, "wrote %s (%s)\n", out, plural(n, "run"))
			return nil
		}),
	}
	cmd.Flags().StringVarP(&out, "output", "o", "report.html", "the HTML file to write, - for stdout")
	cmd.Flags().StringVar(&format, "format", "html", "html, or junit for JUnit XML")
	cmd.Flags().StringVar(&title, "title", "", `the report's title (default "stage-tracker report")`)
	cmd.Flags().IntVar(&charts, "charts", report.DefaultCharts, "newest runs drawn in full with a Gantt chart; the rest are listed")
	return cmd
}

// writeFileAtomicFunc writes what write writes to path as fsutil.WriteOutput
// writes a person's named output: a file whole (a browser reloading the
// report never sees half of it), a symlink's target, a device or FIFO in
// place. Errors are the cause alone, never naming the temporary file,
// whose name means nothing to the user: the caller names path.
func writeFileAtomicFunc(path string, write func(io.Writer) error) error {
	return cause(fsutil.WriteOutput(path, 0o644, write))
}

// cause strips the path of a *fs.PathError or *os.LinkError: the error of
// the underlying call ("permission denied", "no such file or directory").
func cause(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	if le, ok := errors.AsType[*os.LinkError](err); ok {
		return le.Err
	}
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

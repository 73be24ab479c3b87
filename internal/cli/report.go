package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/internal/report"
)

func newReportCommand(env *Env) *cobra.Command {
	var (
		out    string
		title  string
		format string
	)
	cmd := &cobra.Command{
		Use:   "report RUNFILE... -o report.html",
		Short: "Write an HTML report with a Gantt chart of each run",
		Long: `report writes one self-contained HTML file (inline CSS and SVG, a few lines
of inline script, nothing fetched from the network) with, for each run, its
metadata (id, status, start, duration, trace id, args, error, warnings) and a
Gantt chart of its stages. Hovering a bar shows the stage's duration, status,
error and data; clicking it shows them in full below the chart, and puts a
link to the stage in the address bar. Several runs share one time scale, so
their charts can be compared by eye.

With -o - the report goes to stdout.

--format junit writes JUnit XML instead (default file junit.xml), which CI
systems display as test results: one test suite per run, one test case per
stage, a failed stage a <failure> with its error and stderr tail.`,
		Example: example(
			"stagetrack report run_output.json -o report.html",
			"stagetrack report runs/*.json -o runs.html --title 'nightly runs'",
			"stagetrack report --format junit runs/*.json -o junit.xml",
		),
		GroupID: groupLook,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, files []string) error {
			if out == "" {
				return usagef("-o must name a file (or - for stdout)")
			}
			runs, err := readRuns(files)
			if err != nil {
				return err
			}
			in := make([]report.Input, len(runs))
			for i, r := range runs {
				in[i] = report.Input{File: files[i], Run: r}
			}
			var buf bytes.Buffer
			render := func() error { return report.Write(&buf, in, report.Options{Title: title}) }
			switch format { // h5: issue 11
			case "html":
			case "junit":
				render = func() error { return report.WriteJUnit(&buf, in, title) }
				if !cmd.Flags().Changed("output") {
					out = "junit.xml"
				}
			default:
				return usagef("--format is html or junit, not %q", format)
			}
			if err := render(); err != nil {
				return err
			}
			if out == "-" {
				return write(env.Stdout, buf.String())
			}
			if err := writeFileAtomic(out, buf.Bytes()); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
			fmt.Fprintf(env.Stderr, "wrote %s (%s)\n", out, plural(len(runs), "run"))
			return nil
		}),
	}
	cmd.Flags().StringVarP(&out, "output", "o", "report.html", "the HTML file to write, - for stdout")
	cmd.Flags().StringVar(&format, "format", "html", "html, or junit for JUnit XML")
	cmd.Flags().StringVar(&title, "title", "", `the report's title (default "stage-tracker report")`)
	return cmd
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory, so a browser reloading the report never sees half of it.
func writeFileAtomic(path string, b []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

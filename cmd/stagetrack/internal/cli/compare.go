package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runcompare"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func newCompareCommand(env *Env) *cobra.Command {
	var (
		width   int
		format  string
		changed bool
	)
	cmd := &cobra.Command{
		Use:   "compare RUN...",
		Short: "Lay runs side by side: parameters, data values and durations",
		Long: `compare lays runs side by side, oldest first: one column per run, and a row
for each parameter (the run's args, nested objects as dotted keys), each data
value (each stage's data as stage.key: "evaluate.accuracy") and each stage's
duration, then the run's. Only the attempt that decides a stage counts (the
last attempt of a retried one). A run that lacks a value has "—" (empty in
CSV, null in JSON); in the table, rows whose values differ are marked "≠",
and --changed keeps only those.

--format picks the output: table (the default), markdown (a GitHub table,
every value escaped so that no name can add markup), csv (RFC 4180; a value
that a spreadsheet would run as a formula gets a leading ') or json.
A RUN may be a directory: all the run files in it.`,
		Example: example(
			"stagetrack compare runs/a.json runs/b.json runs/c.json",
			"stagetrack compare --format markdown runs/ >> \"$GITHUB_STEP_SUMMARY\"",
			"stagetrack compare --format csv runs/ > runs.csv",
			"stagetrack compare --changed runs/",
		),
		GroupID: groupLook,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, paths []string) error {
			if width < 0 {
				return usagef("--width must be positive, not %d", width)
			}
			switch format {
			case "table", "markdown", "csv", "json":
			default:
				return usagef("--format must be table, markdown, csv or json, not %q", format)
			}
			ctx := cmd.Context()
			paths, err := resolveRuns(ctx, paths) // directories, latest, id prefixes
			if err != nil {
				return err
			}
			runs, err := readLabeled(ctx, paths, env.Stderr)
			if err != nil {
				return err
			}
			byStart(runs)
			printNotes(env.Stderr, runs)
			rs, files := make([]*runfile.Run, len(runs)), make([]string, len(runs))
			for i, r := range runs {
				rs[i], files[i] = r.run, r.label
			}
			m := runcompare.Build(rs, files)
			if changed {
				m.Rows = slices.DeleteFunc(m.Rows, func(r runcompare.Row) bool { return !r.Differs })
			}
			var out string
			switch format {
			case "table":
				// Written as it is made: the table of large runs need not
				// be held whole.
				if err := view.WriteCompare(env.Stdout, m, env.viewOptions(env.Stdout, width)); err != nil {
					return fmt.Errorf("write output: %w", err)
				}
				return nil
			case "markdown":
				out = compareMarkdown(m)
			case "csv":
				out, err = compareCSV(m)
			case "json":
				var b strings.Builder
				err = indentJSON(&b, m)
				out = b.String()
			}
			if err != nil {
				return err
			}
			return write(env.Stdout, out)
		}),
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output: table, markdown, csv or json")
	cmd.Flags().BoolVar(&changed, "changed", false, "only the rows whose values differ between the runs")
	cmd.Flags().IntVarP(&width, "width", "w", 0, "columns to fit the table's names to (default: $COLUMNS, the terminal's width, or 100)")
	return cmd
}

// compareMarkdown is the matrix as a GitHub Markdown table; every text from
// the run files is escaped by mdText, so that none can break a cell or add
// a link, an image or HTML (see mdCell).
func compareMarkdown(m runcompare.Matrix) string {
	var b strings.Builder
	b.WriteString("| kind | name |")
	for _, c := range m.Runs {
		b.WriteString(" " + mdCell(runtree.ShortID(c.RunID)) + " |")
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(m.Runs)) + "\n| | status |")
	for _, c := range m.Runs {
		b.WriteString(" " + mdCell(c.Status) + " |")
	}
	b.WriteString("\n")
	for _, r := range m.Rows {
		b.WriteString("| " + r.Kind + " | " + mdCell(r.Key) + " |")
		for _, v := range r.Values {
			b.WriteString(" " + mdCell(peopleText(r.Kind, v)) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// mdCell is s as inert Markdown in a table cell, all of it on one line.
func mdCell(s string) string { return mdText(view.Line(s)) }

// peopleText is a value for a person: a duration formatted, "—" for none.
func peopleText(kind string, v json.RawMessage) string {
	if v == nil {
		return "—"
	}
	if kind == runcompare.Duration {
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return view.Duration(time.Duration(f * float64(time.Second)))
		}
	}
	return runcompare.Text(v)
}

// compareCSV is the matrix as CSV: a header of run ids, a row per value;
// durations in seconds. A cell that a spreadsheet would read as a formula
// (starting with =, +, -, @, a tab or a carriage return, and not a number)
// gets a leading '.
func compareCSV(m runcompare.Matrix) (string, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rec := []string{"kind", "key"}
	for _, c := range m.Runs {
		rec = append(rec, csvCell(c.RunID))
	}
	if err := w.Write(rec); err != nil {
		return "", err
	}
	rec = []string{"status", ""}
	for _, c := range m.Runs {
		rec = append(rec, csvCell(c.Status))
	}
	if err := w.Write(rec); err != nil {
		return "", err
	}
	for _, r := range m.Rows {
		rec = append(rec[:0], r.Kind, csvCell(r.Key))
		for _, v := range r.Values {
			rec = append(rec, csvCell(runcompare.Text(v)))
		}
		if err := w.Write(rec); err != nil {
			return "", err
		}
	}
	w.Flush()
	return buf.String(), w.Error()
}

func csvCell(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

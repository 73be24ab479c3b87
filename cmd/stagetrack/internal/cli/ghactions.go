package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/report"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/internal/journal"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// ciFinish tells the CI system about a finished run: on GitHub Actions, a
// Markdown summary appended to $GITHUB_STEP_SUMMARY and an annotation per
// failed (::error) or flaky (::warning) stage on stdout (where the runner
// reads workflow commands), but for those its steps printed (done).
// Elsewhere it does nothing. Failures to write are one line on
// stderr: the run file is written already.
func ciFinish(env *Env, path string, rf *runfile.Run, done stepAnnotated) {
	if env.getenv("GITHUB_ACTIONS") != "true" {
		return
	}
	var errs []error
	if p := env.getenv("GITHUB_STEP_SUMMARY"); p != "" {
		errs = append(errs, appendFile(p, stepSummary(path, rf)))
	}
	_, err := io.WriteString(env.Stdout, annotations(rf, done))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(env.Stderr, "stagetrack: GitHub Actions summary: %s\n", oneLine(err))
	}
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, werr := io.WriteString(f, s)
	return errors.Join(werr, f.Close())
}

// summaryLimit bounds the step summary: GitHub drops a step's summary
// over 1 MiB, and the step may have written some of its own.
const summaryLimit = 1000 * 1000

// stepSummary is the Markdown summary of a run for $GITHUB_STEP_SUMMARY.
// Every string from the run is escaped: a code span is fenced with more
// backticks than it holds, other text has Markdown punctuation
// backslash-escaped and HTML's characters as entities, so no name or error
// can add a link, an image or markup. It stays under summaryLimit: the
// failed stages are kept first, then the longest, and the rest counted.
func stepSummary(path string, rf *runfile.Run) string {
	return boundedSummary(path, rf, summaryLimit)
}

func boundedSummary(path string, rf *runfile.Run, limit int) string {
	status := runtree.RunStatus(rf)
	runMark := "❌"
	if status == runfile.StatusOK {
		runMark = "✅"
	}
	var head strings.Builder
	fmt.Fprintf(&head, "### %s stagetrack run %s: %s in %s\n\n", runMark, mdCode(rf.Name), status, view.Duration(rf.CompletedAt.Sub(rf.StartTime)))
	if rf.Error != "" {
		fmt.Fprintf(&head, "**Error:** %s\n\n", mdText(rf.Error))
	}
	head.WriteString("| Stage | Status | Duration | Error |\n|---|---|---|---|\n")
	foot := fmt.Sprintf("\nRun file %s, trace %s.\n\n", mdCode(path), mdCode(rf.TraceID))

	rows := runtree.Flatten(rf)
	lines := make([]string, len(rows))
	for i, row := range rows {
		lines[i] = fmt.Sprintf("| %s%s | %s | %s | %s |\n", strings.Repeat("&nbsp;&nbsp;", row.Depth), mdText(row.KeyPath),
			statusCell(row), view.Duration(row.End.Sub(row.Start)), mdText(row.Stage.Error))
	}
	// Failures that decide the run first, then other failures and flaky
	// stages, then the longest stages; start order among equals.
	rank := func(row runtree.Row) int {
		switch {
		case row.Decides && runtree.Failed(row.Status):
			return 0
		case runtree.Failed(row.Status) || row.Flaky():
			return 1
		}
		return 2
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ra, rb := rows[order[a]], rows[order[b]]
		if x, y := rank(ra), rank(rb); x != y {
			return x < y
		}
		return ra.End.Sub(ra.Start) > rb.End.Sub(rb.Start)
	})
	const moreReserve = 100 // the "… and N more stages" line
	budget := limit - head.Len() - len(foot) - moreReserve
	// A kept stage's stderr tail comes with it, when it fits.
	keep := make([]bool, len(rows))
	tails := make([]string, len(rows))
	kept := 0
	for _, i := range order {
		if len(lines[i]) > budget {
			continue
		}
		keep[i], budget = true, budget-len(lines[i])
		kept++
		if tail := report.StderrTail(rows[i].Stage.Data); tail != "" {
			d := fmt.Sprintf("\n<details><summary>stderr of %s</summary>\n\n%stext\n%s\n%s\n\n</details>\n",
				mdText(rows[i].KeyPath), fence(tail, 3), tail, fence(tail, 3))
			if len(d) <= budget {
				tails[i], budget = d, budget-len(d)
			}
		}
	}
	var details strings.Builder
	for _, d := range tails {
		details.WriteString(d)
	}

	var b strings.Builder
	b.WriteString(head.String())
	for i, l := range lines {
		if keep[i] {
			b.WriteString(l)
		}
	}
	if n := len(rows) - kept; n > 0 {
		fmt.Fprintf(&b, "\n… and %d more stages (the run file has them all).\n", n)
	}
	b.WriteString(details.String())
	b.WriteString(foot)
	return b.String()
}

func statusCell(row runtree.Row) string {
	switch {
	case row.Flaky():
		return "⚠️ ok (flaky)"
	case row.Status == runfile.StageOK:
		return "✅ ok"
	case row.Status == runfile.StageError:
		return "❌ error"
	}
	return "⚠️ " + mdText(row.Status)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// mdText makes s inert Markdown text on one line, also in a table cell:
// HTML's special characters become entities and every other ASCII
// punctuation character is backslash-escaped, so no link, image, emphasis,
// code span or cell break can start in it.
func mdText(s string) string {
	s = strings.Join(strings.Fields(view.Clean(s)), " ")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r < 0x80 && unicode.IsPunct(r) || r < 0x80 && unicode.IsSymbol(r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode is s on one line as a code span, fenced by more backticks than any
// run of them in s, so that s cannot end it; nothing inside a code span is
// Markdown or HTML.
func mdCode(s string) string {
	s = strings.Join(strings.Fields(view.Clean(s)), " ")
	f := fence(s, 1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || s == "" {
		pad = " "
	}
	return f + pad + s + pad + f
}

// fence is a run of backticks longer than any in s, and at least min long.
func fence(s string, min int) string {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(min, longest+1))
}

// annotations are the workflow commands that tell a person watching the
// job how each stage ended, by the attempt that decides it: ::error for a
// stage that failed (or never ended), ::warning for a flaky one (it passed
// after a failed attempt). Earlier attempts say nothing of their own, so a
// green job shows no error. What a step annotated itself (done, see
// annotate.go) is left out.
func annotations(rf *runfile.Run, done stepAnnotated) string {
	var b strings.Builder
	for _, row := range runtree.Flatten(rf) {
		switch {
		case !row.Decides:
		case runtree.Failed(row.Status):
			if !done.has(row.Stage.SpanID, journal.LevelError) {
				b.WriteString(errorAnnotation(row))
			}
		case row.Flaky():
			if !done.has(row.Stage.SpanID, journal.LevelWarning) {
				b.WriteString(flakyAnnotation(row))
			}
		}
	}
	return b.String()
}

// stageProblem is a stage's error with its stderr tail.
func stageProblem(st *runfile.Stage) string {
	msg := st.Error
	if tail := report.StderrTail(st.Data); tail != "" {
		msg += "\n" + tail
	}
	return msg
}

// escapeData and escapeProperty escape a workflow command's message and
// property values as the runner unescapes them.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// ciFinishRun is ciFinish for a run this process finalised.
func ciFinishRun(env *Env, run *tracker.Run, done stepAnnotated) {
	if path := run.File(); path != "" {
		if rf, err := runfile.ReadFile(path); err == nil {
			ciFinish(env, path, rf, done)
		}
	}
}

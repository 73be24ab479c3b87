package view

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runstats"
)

// Stats renders a summary of many runs: a row for the runs themselves, then
// a row per stage path, nested stages indented under their parent, with
// the number of records, how many failed (and the rate), the share of runs
// in which it was flaky (failed, then passed on retry), and the p50, p95
// and maximum duration. Then, when stages recorded numbers in their data,
// a DATA table: per stage and key, the count, mean, min, p50, max and the
// newest run's value.
func Stats(s runstats.Summary, o Options) string {
	var b strings.Builder
	_ = WriteStats(&b, s, o) // a strings.Builder does not fail
	return b.String()
}

// WriteStats writes Stats(s, o) to w a line at a time; each row is made
// twice, to measure the columns and to write it, rather than held for
// every stage of a summary of 100,000 stage paths. It returns the first
// error writing to w.
func WriteStats(w io.Writer, s runstats.Summary, o Options) error {
	st := style(o.Color)
	W := o.width()
	b := bufio.NewWriterSize(w, 64<<10)
	b.WriteString(st.bold(plural(s.Runs, "run")) + "\n\n")

	type row struct{ name, count, failed, rate, flaky, p50, p95, max string }
	mk := func(name string, r runstats.Row) row {
		out := row{
			name:   name,
			count:  strconv.Itoa(r.Count),
			failed: strconv.Itoa(r.Failures),
			rate:   fmt.Sprintf("%.1f%%", 100*r.FailureRate),
			flaky:  fmt.Sprintf("%.1f%%", 100*r.FlakeRate),
			p50:    Duration(secs(r.P50Sec)),
			p95:    Duration(secs(r.P95Sec)),
			max:    Duration(secs(r.MaxSec)),
		}
		if r.Timed == 0 && r.Count > 0 { // no known duration
			out.p50, out.p95, out.max = UnknownDuration, UnknownDuration, UnknownDuration
		}
		return out
	}
	// rowAt is the row of the runs (0) or of stage i-1.
	rowAt := func(i int) row {
		if i == 0 {
			return mk("(run)", s.Run)
		}
		r := s.Stages[i-1]
		return mk(strings.Repeat("  ", r.Depth)+Clean(lastKey(r.Path)), r)
	}
	n := 1 + len(s.Stages)
	head := row{"STAGE", "COUNT", "FAILED", "FAIL%", "FLAKY%", "P50", "P95", "MAX"}
	nameW, cW, fW, rW := width(head.name), width(head.count), width(head.failed), width(head.rate)
	flW, p50W, p95W, maxW := width(head.flaky), width(head.p50), width(head.p95), width(head.max)
	for i := range n {
		r := rowAt(i)
		nameW, cW, fW, rW = max(nameW, width(r.name)), max(cW, width(r.count)), max(fW, width(r.failed)), max(rW, width(r.rate))
		flW, p50W, p95W, maxW = max(flW, width(r.flaky)), max(p50W, width(r.p50)), max(p95W, width(r.p95)), max(maxW, width(r.max))
	}
	nameW = min(nameW, max(12, W-50))

	format := func(r row, rateCode string) string {
		name := truncate(r.name, nameW)
		return padRight(name, width(name), nameW) + "  " +
			padLeft(r.count, width(r.count), cW) + "  " +
			padLeft(r.failed, width(r.failed), fW) + "  " +
			st.paint(rateCode, padLeft(r.rate, width(r.rate), rW)) + "  " +
			padLeft(r.flaky, width(r.flaky), flW) + "  " +
			padLeft(r.p50, width(r.p50), p50W) + "  " +
			padLeft(r.p95, width(r.p95), p95W) + "  " +
			padLeft(r.max, width(r.max), maxW)
	}
	b.WriteString(st.bold(format(head, "")) + "\n")
	for i := range n {
		r := rowAt(i)
		rate := s.Run.FailureRate
		if i > 0 {
			rate = s.Stages[i-1].FailureRate
		}
		code := ""
		if rate > 0 {
			code = sgrRed
		}
		b.WriteString(format(r, code) + "\n")
		if i == 0 {
			b.WriteString(st.dim(strings.Repeat("─", min(W, nameW+cW+fW+rW+flW+p50W+p95W+maxW+14))) + "\n")
		}
	}
	type at struct{ stage, metric int32 }
	var data []at
	for i, r := range s.Stages {
		for j := range r.Data {
			data = append(data, at{int32(i), int32(j)})
		}
	}
	if len(data) == 0 {
		return b.Flush()
	}
	b.WriteString("\n" + st.bold("DATA") + "\n")
	if err := b.Flush(); err != nil {
		return err
	}
	return writeTable(w, []string{"STAGE", "KEY", "COUNT", "MEAN", "MIN", "P50", "MAX", "LAST"}, len(data),
		func(i int, dst []string) []string {
			r := &s.Stages[data[i].stage]
			m := r.Data[data[i].metric]
			return append(dst, r.Path, m.Key, strconv.Itoa(m.Count), Number(m.Mean), Number(m.Min), Number(m.P50), Number(m.Max), Number(m.Last))
		}, []bool{false, false, true, true, true, true, true, true}, o)
}

// Number formats a metric for a table: six significant digits at most,
// as %g prints them (0.912, 50000, 1.23457e+06).
func Number(x float64) string {
	return strconv.FormatFloat(x, 'g', 6, 64)
}

package view

import (
	"fmt"
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
	st := style(o.Color)
	W := o.width()
	var b strings.Builder
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
	rows := []row{mk("(run)", s.Run)}
	for _, r := range s.Stages {
		rows = append(rows, mk(strings.Repeat("  ", r.Depth)+Clean(lastKey(r.Path)), r))
	}
	head := row{"STAGE", "COUNT", "FAILED", "FAIL%", "FLAKY%", "P50", "P95", "MAX"}
	w := func(f func(row) string) int {
		n := width(f(head))
		for _, r := range rows {
			n = max(n, width(f(r)))
		}
		return n
	}
	nameW := min(w(func(r row) string { return r.name }), max(12, W-50))
	cW, fW, rW := w(func(r row) string { return r.count }), w(func(r row) string { return r.failed }), w(func(r row) string { return r.rate })
	flW := w(func(r row) string { return r.flaky })
	p50W, p95W, maxW := w(func(r row) string { return r.p50 }), w(func(r row) string { return r.p95 }), w(func(r row) string { return r.max })

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
	for i, r := range rows {
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
	var data [][]string
	for _, r := range s.Stages {
		for _, m := range r.Data {
			data = append(data, []string{r.Path, m.Key, strconv.Itoa(m.Count), Number(m.Mean), Number(m.Min), Number(m.P50), Number(m.Max), Number(m.Last)})
		}
	}
	if len(data) > 0 {
		b.WriteString("\n" + st.bold("DATA") + "\n" + Table([]string{"STAGE", "KEY", "COUNT", "MEAN", "MIN", "P50", "MAX", "LAST"}, data,
			[]bool{false, false, true, true, true, true, true, true}, o))
	}
	return b.String()
}

// Number formats a metric for a table: six significant digits at most,
// as %g prints them (0.912, 50000, 1.23457e+06).
func Number(x float64) string {
	return strconv.FormatFloat(x, 'g', 6, 64)
}

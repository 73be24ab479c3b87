package view

import (
	"strconv"
	"strings"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runcompare"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
)

// compareCellW is the widest a value's column gets in Compare; longer
// values are cut.
const compareCellW = 24

// Compare renders runs side by side: a column per run headed by its short
// id and status, then sections of rows (PARAMETERS, DATA as stage.key,
// DURATIONS per stage and the run's), a row per value. A value a run does
// not have is "—". Rows whose values differ are marked with "≠".
func Compare(m runcompare.Matrix, o Options) string {
	st := style(o.Color)
	keyW := width("DURATIONS")
	cells := make([][]string, len(m.Rows))
	colW := make([]int, len(m.Runs))
	head := make([]string, len(m.Runs))
	status := make([]string, len(m.Runs))
	for j, c := range m.Runs {
		head[j], status[j] = Clean(runtree.ShortID(c.RunID)), Clean(c.Status)
		colW[j] = max(width(head[j]), width(status[j]))
	}
	for i, r := range m.Rows {
		keyW = max(keyW, width(Line(r.Key))+2)
		cells[i] = make([]string, len(r.Values))
		for j, v := range r.Values {
			s := "—"
			switch {
			case v == nil:
			case r.Kind == runcompare.Duration:
				if f, err := strconv.ParseFloat(string(v), 64); err == nil {
					s = Duration(secs(f))
				}
			default:
				s = truncate(Line(runcompare.Text(v)), compareCellW)
			}
			cells[i][j] = s
			colW[j] = max(colW[j], width(s))
		}
	}
	keyW = min(keyW, max(16, o.width()*2/5))
	var b strings.Builder
	line := func(mark, key string, vals []string) string {
		k := truncate(key, keyW-2)
		l := mark + " " + padRight(k, width(k), keyW-2)
		for j, v := range vals {
			l += "  " + padRight(v, width(v), colW[j])
		}
		return strings.TrimRight(l, " ") + "\n"
	}
	b.WriteString(st.bold(line(" ", "RUN", head)))
	b.WriteString(line(" ", "status", status))
	titles := map[string]string{runcompare.Param: "PARAMETERS", runcompare.Data: "DATA", runcompare.Duration: "DURATIONS"}
	kind := ""
	for i, r := range m.Rows {
		if r.Kind != kind {
			kind = r.Kind
			b.WriteString("\n" + st.bold(titles[kind]) + "\n")
		}
		mark := " "
		if r.Differs {
			mark = "≠"
		}
		b.WriteString(line(mark, Line(r.Key), cells[i]))
	}
	return b.String()
}

package view

import (
	"bufio"
	"io"
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
	var b strings.Builder
	_ = WriteCompare(&b, m, o) // a strings.Builder does not fail
	return b.String()
}

// WriteCompare writes Compare(m, o) to w a line at a time; the cells are
// made twice, to measure the columns and to write them, rather than held
// for every row of runs of 100,000 stages. It returns the first error
// writing to w.
func WriteCompare(w io.Writer, m runcompare.Matrix, o Options) error {
	st := style(o.Color)
	keyW := width("DURATIONS")
	colW := make([]int, len(m.Runs))
	head := make([]string, len(m.Runs))
	status := make([]string, len(m.Runs))
	for j, c := range m.Runs {
		head[j], status[j] = Clean(runtree.ShortID(c.RunID)), Clean(c.Status)
		colW[j] = max(width(head[j]), width(status[j]))
	}
	cells := make([]string, len(m.Runs)) // one row's, reused
	rowCells := func(r *runcompare.Row) []string {
		cells = cells[:0]
		for _, v := range r.Values {
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
			cells = append(cells, s)
		}
		return cells
	}
	for i := range m.Rows {
		r := &m.Rows[i]
		keyW = max(keyW, width(Line(r.Key))+2)
		for j, s := range rowCells(r) {
			colW[j] = max(colW[j], width(s))
		}
	}
	keyW = min(keyW, max(16, o.width()*2/5))
	b := bufio.NewWriterSize(w, 64<<10)
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
	for i := range m.Rows {
		r := &m.Rows[i]
		if r.Kind != kind {
			kind = r.Kind
			b.WriteString("\n" + st.bold(titles[kind]) + "\n")
		}
		mark := " "
		if r.Differs {
			mark = "≠"
		}
		b.WriteString(line(mark, Line(r.Key), rowCells(r)))
	}
	return b.Flush()
}

package view

import "strings"

// maxCell is the most columns one cell of a Table takes; longer values
// end in "…".
const maxCell = 40

// Table renders rows under a bold header, columns separated by two spaces,
// each as wide as its widest cell (at most maxCell columns). right marks
// the columns aligned to the right (numbers); it may be shorter than head.
// Every cell goes through Clean. Lines are cut at o.Width columns.
func Table(head []string, rows [][]string, right []bool, o Options) string {
	st := style(o.Color)
	W := o.width()
	ws := make([]int, len(head))
	clean := make([][]string, len(rows))
	head = append([]string(nil), head...)
	for i, h := range head {
		head[i] = truncate(Clean(h), maxCell)
		ws[i] = width(head[i])
	}
	for r, row := range rows {
		clean[r] = make([]string, len(head))
		for i := range head {
			if i < len(row) {
				c := truncate(Clean(row[i]), maxCell)
				clean[r][i] = c
				ws[i] = max(ws[i], width(c))
			}
		}
	}
	line := func(cells []string) string {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			c = truncate(c, ws[i])
			if i < len(right) && right[i] {
				b.WriteString(padLeft(c, width(c), ws[i]))
			} else if i < len(cells)-1 {
				b.WriteString(padRight(c, width(c), ws[i]))
			} else {
				b.WriteString(c)
			}
		}
		return truncate(strings.TrimRight(b.String(), " "), W)
	}
	var b strings.Builder
	b.WriteString(st.bold(line(head)) + "\n")
	for _, c := range clean {
		b.WriteString(line(c) + "\n")
	}
	return b.String()
}

package view

import (
	"bufio"
	"io"
	"strings"
)

// maxCell is the most columns one cell of a Table takes; longer values
// end in "…".
const maxCell = 40

// Table renders rows under a bold header, columns separated by two spaces,
// each as wide as its widest cell (at most maxCell columns). right marks
// the columns aligned to the right (numbers); it may be shorter than head.
// Every cell goes through Clean. Lines are cut at o.Width columns.
func Table(head []string, rows [][]string, right []bool, o Options) string {
	var b strings.Builder
	_ = writeTable(&b, head, len(rows), func(r int, dst []string) []string { return append(dst, rows[r]...) }, right, o)
	return b.String()
}

// writeTable writes Table's output for n rows, row r's cells being what
// cells(r, dst) appends to dst. Each row's cells are made twice, to
// measure the columns and to write the row, rather than held for every
// row of a large table. It returns the first error writing to w.
func writeTable(w io.Writer, head []string, n int, cells func(r int, dst []string) []string, right []bool, o Options) error {
	st := style(o.Color)
	W := o.width()
	ws := make([]int, len(head))
	head = append([]string(nil), head...)
	for i, h := range head {
		head[i] = truncate(Clean(h), maxCell)
		ws[i] = width(head[i])
	}
	var raw []string
	clean := make([]string, len(head))
	row := func(r int) []string {
		raw = cells(r, raw[:0])
		for i := range head {
			clean[i] = ""
			if i < len(raw) {
				clean[i] = truncate(Clean(raw[i]), maxCell)
			}
		}
		return clean
	}
	for r := range n {
		for i, c := range row(r) {
			if i < len(raw) {
				ws[i] = max(ws[i], width(c))
			}
		}
	}
	var lb strings.Builder
	line := func(cells []string) string {
		lb.Reset()
		for i, c := range cells {
			if i > 0 {
				lb.WriteString("  ")
			}
			c = truncate(c, ws[i])
			if i < len(right) && right[i] {
				lb.WriteString(padLeft(c, width(c), ws[i]))
			} else if i < len(cells)-1 {
				lb.WriteString(padRight(c, width(c), ws[i]))
			} else {
				lb.WriteString(c)
			}
		}
		return truncate(strings.TrimRight(lb.String(), " "), W)
	}
	b := bufio.NewWriterSize(w, 64<<10)
	b.WriteString(st.bold(line(head)) + "\n")
	for r := range n {
		b.WriteString(line(row(r)))
		b.WriteByte('\n')
	}
	return b.Flush()
}

package view

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Waterfall renders one run as a header and a table with a row per stage,
// nested stages indented under their parent: the stage's name, a bar placed
// and sized by its start and duration on the run's time axis, its duration,
// its status and its error. The table fits o.Width columns; bars are drawn
// to an eighth of a column.
func Waterfall(r *runfile.Run, o Options) string {
	var b strings.Builder
	_ = WriteWaterfall(&b, r, o) // a strings.Builder does not fail
	return b.String()
}

// WriteWaterfall writes Waterfall(r, o) to w a line at a time, so that
// the table of a large run is never held whole in memory. It returns the
// first error writing to w.
func WriteWaterfall(w io.Writer, r *runfile.Run, o Options) error {
	st := style(o.Color)
	W := o.width()
	// The stages are walked twice (runtree.Each), to measure the columns
	// and to write the lines, rather than flattened into rows held for
	// the whole table: 16 MB for a run of 100,000 stages.
	start, end := runtree.BoundsOf(r)
	total := end.Sub(start)
	n := 0
	runtree.Each(r, func(*runtree.Row) { n++ })

	bw := bufio.NewWriterSize(w, 64<<10)
	var b strings.Builder
	writeRunHeader(&b, st, r, runtree.DurationOf(r), n, W)
	if n == 0 {
		b.WriteString(st.dim("no stages") + "\n")
	}
	bw.WriteString(b.String())
	if n == 0 {
		return bw.Flush()
	}

	// Cells, sanitised and measured, then made again as each line is
	// written: a large run's cells need not be held all at once.
	type cells struct{ name, dur, status, err string }
	cellsOf := func(row *runtree.Row) cells {
		c := cells{
			name:   strings.Repeat("  ", row.Depth) + Clean(row.Stage.Key),
			dur:    Duration(row.End.Sub(row.Start)),
			status: Clean(row.Status),
			err:    Clean(row.Stage.Error),
		}
		if row.Start.IsZero() {
			c.dur = "?"
		}
		if row.Stage.DurationUnknown {
			c.dur = UnknownDuration
		}
		if c.err == "" && row.Stage.DataError != "" {
			c.err = "data: " + Clean(row.Stage.DataError)
		}
		return c
	}
	nameW, durW, statusW, errW := width("STAGE"), width("DURATION"), width("STATUS"), 0
	runtree.Each(r, func(row *runtree.Row) {
		c := cellsOf(row)
		nameW, durW, statusW = max(nameW, width(c.name)), max(durW, width(c.dur)), max(statusW, width(c.status))
		errW = max(errW, width(c.err))
	})

	// Column budget: name, bar, duration, status, error, separated by two
	// spaces (one between name and bar). The bar gets what is left, at
	// least minBar; the error column and then the name give way first.
	const minBar = 10
	nameW = min(nameW, max(12, W/4))
	errW = min(errW, max(16, W/3))
	sep := 1 + 2 + 2
	if errW > 0 {
		sep += 2
	}
	barW := W - nameW - durW - statusW - errW - sep
	if barW < minBar {
		take := min(minBar-barW, max(errW-8, 0))
		errW -= take
		barW += take
	}
	if barW < minBar {
		take := min(minBar-barW, max(nameW-8, 0))
		nameW -= take
		barW += take
	}
	barW = max(barW, minBar)

	// Header and axis.
	head := padRight("STAGE", 5, nameW) + " " + axis(total, barW) + "  " +
		padLeft("DURATION", 8, durW) + "  " + padRight("STATUS", 6, statusW)
	if errW > 0 {
		head += "  ERROR"
	}
	bw.WriteString(st.bold(strings.TrimRight(head, " ")) + "\n")

	runtree.Each(r, func(row *runtree.Row) {
		c := cellsOf(row)
		name := truncate(c.name, nameW)
		line := padRight(name, width(name), nameW) + " "
		bar := ""
		if !row.Start.IsZero() && total > 0 {
			from := float64(row.Start.Sub(start)) / float64(total)
			to := float64(row.End.Sub(start)) / float64(total)
			bar = drawBar(from, to, barW, row.Status != runfile.StageUnfinished && row.Status != runfile.StageRunning)
		} else if !row.Start.IsZero() {
			bar = "▏" + strings.Repeat(" ", barW-1)
		} else {
			bar = strings.Repeat(" ", barW)
		}
		line += st.paint(barCode(row.Status), bar) + "  "
		line += padLeft(c.dur, width(c.dur), durW) + "  "
		status := st.status(c.status)
		if errW > 0 && c.err != "" {
			line += padRight(status, width(c.status), statusW) + "  " + st.red(truncate(c.err, errW))
		} else {
			line += status
		}
		bw.WriteString(strings.TrimRight(line, " "))
		bw.WriteByte('\n')
	})
	return bw.Flush()
}

// writeRunHeader writes the run's header; dur is runtree.Duration and n
// its number of stage records.
func writeRunHeader(b *strings.Builder, st style, r *runfile.Run, dur time.Duration, n int, W int) {
	status := Clean(runtree.RunStatus(r))
	id := "run " + Clean(r.RunID)
	line := st.bold(id) + "  " + st.status(status)
	if name := truncate(Clean(r.Name), W-width(id)-width(status)-4); name != "" {
		line += "  " + name
	}
	b.WriteString(line + "\n")

	facts := []string{
		"started " + timestamp(r.StartTime),
		"took " + Duration(dur),
		plural(n, "stage"),
	}
	if r.TraceID != "" {
		facts = append(facts, "trace "+Clean(r.TraceID))
	}
	b.WriteString(st.dim(truncate(strings.Join(facts, " · "), W)) + "\n")
	if len(r.Args) > 0 && string(r.Args) != "null" {
		b.WriteString(st.dim(truncate("args "+Clean(compactJSON(r.Args)), W)) + "\n")
	}
	if r.Error != "" {
		b.WriteString(st.red(truncate("error: "+Clean(r.Error), W)) + "\n")
	}
	if r.MissingStages > 0 {
		b.WriteString(st.yellow(fmt.Sprintf("%s never arrived: the run file is incomplete", plural(r.MissingStages, "stage"))) + "\n")
	}
	for _, w := range r.Warnings {
		b.WriteString(st.yellow(truncate("warning: "+Clean(w), W)) + "\n")
	}
	b.WriteString("\n")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// axis labels the bar column: 0 on the left, the run's length on the
// right, and the midpoint when there is room.
func axis(total time.Duration, w int) string {
	left, right := "0", Duration(total)
	mid := Duration(total / 2)
	cells := []rune(strings.Repeat(" ", w))
	put := func(at int, s string) {
		for i, r := range []rune(s) {
			if at+i >= 0 && at+i < len(cells) {
				cells[at+i] = r
			}
		}
	}
	put(0, left)
	put(w-width(right), right)
	if w >= 3*(width(mid)+width(right)) {
		put(w/2-width(mid)/2, mid)
	}
	return string(cells)
}

// eighths are the left-aligned partial blocks, 1/8 to 7/8 of a cell.
var eighths = []rune(" ▏▎▍▌▋▊▉")

// drawBar draws a bar from from to to (fractions of the axis, 0..1) in w
// cells. A bar shorter than an eighth of a cell is drawn as a thin marker
// so that no stage is invisible. closed is false for a stage that never
// ended: its bar is drawn shaded.
func drawBar(from, to float64, w int, closed bool) string {
	from = math.Max(0, math.Min(1, from))
	to = math.Max(from, math.Min(1, to))
	sc, ec := from*float64(w), to*float64(w)
	cells := []rune(strings.Repeat(" ", w))
	full := '█'
	if !closed {
		full = '▒'
	}
	if ec-sc < 1.0/8 {
		c := min(int(sc), w-1)
		cells[c] = '▏'
		return string(cells)
	}
	for c := int(sc); c < w && float64(c) < ec; c++ {
		lo, hi := math.Max(sc, float64(c)), math.Min(ec, float64(c+1))
		cover := hi - lo
		switch {
		case cover >= 7.0/8:
			cells[c] = full
		case lo > float64(c): // covers the right part of the cell
			if cover >= 0.5 {
				cells[c] = '▐'
			} else if c+1 < w && float64(c+1) < ec {
				cells[c] = ' ' // the next cell starts the bar
			} else {
				cells[c] = '▕'
			}
		default: // covers the left part
			n := int(math.Round(cover * 8))
			if n >= 8 {
				cells[c] = full
			} else if n > 0 {
				cells[c] = eighths[n]
			} else if c == int(sc) {
				cells[c] = '▏'
			}
		}
	}
	if !closed { // shading has no partial forms: keep the bar in whole cells
		for i, r := range cells {
			if r != ' ' && r != full {
				cells[i] = full
			}
		}
	}
	return string(cells)
}

// UnknownDuration is shown for a stage whose duration is unknown (the
// Python tool's duration_sec null, with no end_time).
const UnknownDuration = "—"

// compactJSON returns the JSON value b on one line (args written indented
// by the Python tool span several).
func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

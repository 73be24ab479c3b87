package view

import (
	"math"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/rundiff"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
)

// Diff renders a comparison of two runs: a line for each run; the values
// that changed, each with A's, B's and for numbers the change (DATA: each
// stage's data keys as "stage.key"; PARAMETERS: the run's args;
// PROVENANCE: the run's and the stages'); then a row per stage with its duration in A and in B, the change (absolute and
// relative), the status (a → b when it changed) and the data keys that
// changed (+added -removed ~changed). Stages only in one run say so. When a
// stage's status changed and B has an error, the error follows on its own
// line. Rows wider than o.Width have their data column cut.
func Diff(d rundiff.Diff, o Options) string {
	st := style(o.Color)
	W := o.width()
	var b strings.Builder

	// The two runs, aligned: label, id, status, start, duration, name, file.
	sides := [2][]string{}
	for i, r := range []rundiff.RunInfo{d.A, d.B} {
		sides[i] = []string{"run " + Clean(runtree.ShortID(r.RunID)), Clean(r.Status), timestamp(r.StartTime), Duration(secs(r.DurationSec)), Clean(r.Name)}
	}
	// Fit the lines to W: the file name gives way first, then the run name.
	cellW := make([]int, len(sides[0]))
	used := 1 // the label
	for j := range cellW {
		cellW[j] = max(width(sides[0][j]), width(sides[1][j]))
		used += 2 + cellW[j]
	}
	if last := len(cellW) - 1; used > W {
		cellW[last] = max(cellW[last]-(used-W), 0)
		used = W
	}
	fileW := W - used - 2
	for i, label := range []string{"A", "B"} {
		line := st.bold(label)
		for j, cell := range sides[i] {
			w := cellW[j]
			cell = truncate(cell, w)
			if j == 1 {
				cell = padRight(st.status(cell), width(cell), w)
			} else if j == 3 {
				cell = padLeft(cell, width(cell), w)
			} else {
				cell = padRight(cell, width(cell), w)
			}
			line += "  " + cell
		}
		if f := []string{d.A.File, d.B.File}[i]; f != "" && fileW >= 8 {
			line += "  " + st.dim(truncate(Clean(f), fileW))
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	b.WriteString("\n")

	// The values that changed, then the durations.
	data, params, prov := diffValues(d)
	for _, sec := range []struct {
		title string
		rows  []valueRow
	}{{"DATA", data}, {"PARAMETERS", params}, {"PROVENANCE", prov}} {
		if len(sec.rows) > 0 {
			writeValues(&b, st, sec.title, sec.rows, W)
		}
	}

	type row struct {
		name, a, b, delta, pct, status, data string
		deltaCode                            string
		statusCode                           string
		err                                  string
	}
	rows := make([]row, 0, len(d.Stages)+1)
	for _, s := range d.Stages {
		r := row{name: strings.Repeat("  ", s.Depth) + Clean(lastKey(s.Key))}
		r.a, r.b = optDuration(s.ASec), optDuration(s.BSec)
		switch s.Presence {
		case rundiff.OnlyA:
			r.delta, r.deltaCode = "only in A", sgrYellow
			r.status = s.StatusA
		case rundiff.OnlyB:
			r.delta, r.deltaCode = "only in B", sgrYellow
			r.status = s.StatusB
		default:
			r.delta, r.pct, r.deltaCode = changeCells(s.Change)
			r.status = s.StatusB
			if s.StatusChanged {
				r.status = s.StatusA + " → " + s.StatusB
				if s.ErrorB != "" {
					r.err = s.ErrorB
				}
			}
		}
		r.statusCode = statusCode(s.StatusB)
		if s.Presence == rundiff.OnlyA {
			r.statusCode = statusCode(s.StatusA)
		}
		r.data = dataCell(s.Data)
		rows = append(rows, r)
	}
	total := row{name: "(run)", a: optDuration(d.Total.ASec), b: optDuration(d.Total.BSec), status: d.B.Status, statusCode: statusCode(d.B.Status)}
	total.delta, total.pct, total.deltaCode = changeCells(d.Total)
	if d.A.Status != d.B.Status {
		total.status = d.A.Status + " → " + d.B.Status
	}
	rows = append(rows, total)
	for i := range rows { // statuses come from the run files too
		rows[i].status = Clean(rows[i].status)
	}

	nameW, aW, bW, dW, pW, sW := width("STAGE"), 1, 1, width("CHANGE"), 0, width("STATUS")
	anyData := false
	for _, r := range rows {
		nameW, aW, bW = max(nameW, width(r.name)), max(aW, width(r.a)), max(bW, width(r.b))
		if r.pct != "" {
			dW, pW = max(dW, width(r.delta)), max(pW, width(r.pct))
		}
		sW = max(sW, width(r.status))
		anyData = anyData || r.data != ""
	}
	nameW = min(nameW, max(12, W/4))
	changeW := dW + 2 + pW
	for _, r := range rows {
		if r.pct == "" {
			changeW = max(changeW, width(r.delta))
		}
	}
	dataW := W - (nameW + 2 + aW + 2 + bW + 2 + changeW + 2 + sW + 2)

	head := padRight("STAGE", 5, nameW) + "  " + padLeft("A", 1, aW) + "  " + padLeft("B", 1, bW) + "  " +
		padRight("CHANGE", 6, changeW) + "  " + padRight("STATUS", 6, sW)
	if anyData {
		head += "  DATA"
	}
	// A line's room at most (wider when coloured), in one allocation: two
	// runs of 100,000 stages make 10 MB, which doubling would copy again.
	b.Grow((len(rows) + 3) * (min(W, nameW+2+aW+2+bW+2+changeW+2+sW+2+max(dataW, 0)) + 1))
	b.WriteString(st.bold(strings.TrimRight(head, " ")) + "\n")
	for i, r := range rows {
		if i == len(rows)-1 {
			b.WriteString(st.dim(strings.Repeat("─", min(W, nameW+2+aW+2+bW+2+changeW+2+sW))) + "\n")
		}
		name := truncate(r.name, nameW)
		line := padRight(name, width(name), nameW) + "  " + padLeft(r.a, width(r.a), aW) + "  " + padLeft(r.b, width(r.b), bW) + "  "
		change := st.paint(r.deltaCode, padLeft(r.delta, width(r.delta), dW))
		cw := max(dW, width(r.delta))
		if r.pct != "" {
			change += "  " + st.paint(r.deltaCode, padLeft(r.pct, width(r.pct), pW))
			cw += 2 + pW
		}
		line += padRight(change, cw, changeW) + "  "
		line += padRight(st.paint(r.statusCode, r.status), width(r.status), sW)
		if r.data != "" && dataW >= 4 {
			line += "  " + truncate(r.data, dataW)
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
		if r.err != "" {
			indent := strings.Repeat(" ", min(width(r.name)-width(strings.TrimLeft(r.name, " "))+2, nameW))
			b.WriteString(st.red(truncate(indent+"error: "+Clean(r.err), W)) + "\n")
		}
	}
	if anyData {
		b.WriteString(st.dim("data keys: +added -removed ~changed") + "\n")
	}
	return b.String()
}

// lastKey is the last element of a key path.
func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func optDuration(f *float64) string {
	if f == nil {
		return "—"
	}
	return Duration(secs(*f))
}

// changeCells formats a change and picks its colour: red for slower, green
// for faster, dim when it is within 1%.
func changeCells(c rundiff.Change) (delta, pct, code string) {
	if c.DeltaSec == nil {
		return "", "", ""
	}
	delta, pct = SignedDuration(secs(*c.DeltaSec)), "n/a"
	rel := math.Inf(1)
	if c.DeltaPct != nil {
		rel = *c.DeltaPct
		pct = Percent(rel)
	}
	switch {
	case *c.DeltaSec == 0 || math.Abs(rel) < 1:
		code = sgrDim
	case *c.DeltaSec > 0:
		code = sgrRed
	default:
		code = sgrGreen
	}
	return delta, pct, code
}

func dataCell(d *rundiff.DataDiff) string {
	if d == nil {
		return ""
	}
	var parts []string
	if d.ValueChanged {
		parts = append(parts, "~(value)")
	}
	for _, k := range d.Added {
		parts = append(parts, "+"+Clean(k))
	}
	for _, k := range d.Removed {
		parts = append(parts, "-"+Clean(k))
	}
	for _, k := range d.Changed {
		parts = append(parts, "~"+Clean(k))
	}
	return strings.Join(parts, " ")
}

package view

import (
	"strconv"
	"strings"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/rundiff"
)

// valueRow is one changed value in diff's DATA, PARAMETERS or PROVENANCE
// section: its name, the two values and the change.
type valueRow struct {
	key, a, b, change string
}

// diffValues are diff's sections of changed values, each a table with
// the value in A, in B and the change of numbers, before the durations.
func diffValues(d rundiff.Diff) (data, params, prov []valueRow) {
	params, prov = valuesRows(d.Params), valuesRows(d.Provenance)
	for _, s := range d.Stages {
		if s.Data != nil {
			for _, v := range s.Data.Values {
				data = append(data, valueRowOf(joinKey(s.Key, v.Key), v))
			}
		}
		for _, v := range s.Provenance {
			prov = append(prov, valueRowOf(joinKey(s.Key, v.Key), v))
		}
	}
	return data, params, prov
}

func valuesRows(vs []rundiff.Value) []valueRow {
	rows := make([]valueRow, len(vs))
	for i, v := range vs {
		rows[i] = valueRowOf(v.Key, v)
	}
	return rows
}

// joinKey names a stage's value as check's --metric does: "evaluate.accuracy".
func joinKey(stage, key string) string {
	if key == "" {
		return stage
	}
	return stage + "." + key
}

func valueRowOf(key string, v rundiff.Value) valueRow {
	r := valueRow{key: Line(key), a: JSONValue(v.A), b: JSONValue(v.B)}
	switch {
	case v.Delta != nil:
		r.change = SignedNumber(*v.Delta)
		if v.DeltaPct != nil {
			r.change += "  " + Percent(*v.DeltaPct)
		}
	case v.A == nil:
		r.change = "added"
	case v.B == nil:
		r.change = "removed"
	}
	return r
}

// Line is s on one line for a terminal: white space runs (line breaks
// too) become one space, then Clean. Unlike Clean alone it keeps what
// follows a line break, for names whose end tells them apart.
func Line(s string) string {
	if !oneLine(s) {
		s = strings.Join(strings.Fields(s), " ")
	}
	return Clean(s)
}

// oneLine reports whether s is ASCII whose only white space is single
// spaces between words, which Line's join of its fields would return
// unchanged (diff names 100,000 values so).
func oneLine(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80 || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
			return false
		case c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' '):
			return false
		}
	}
	return true
}

// JSONValue is a JSON value as the views print it: its compact JSON text
// on one line, "—" when there is none.
func JSONValue(raw []byte) string {
	if len(raw) == 0 {
		return "—"
	}
	return Clean(string(raw))
}

// SignedNumber formats a change of a number with its sign: "+0.25",
// "-0.06", "±0".
func SignedNumber(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	switch {
	case f > 0:
		return "+" + s
	case f == 0:
		return "±0"
	}
	return s
}

// writeValues writes a section of changed values fitted to W columns: the
// name, the values in A and B (each cut to an equal share of what is
// left), and the change.
func writeValues(b *strings.Builder, st style, title string, rows []valueRow, W int) {
	keyW, aW, bW, cW := width(title), 1, 1, width("CHANGE")
	for _, r := range rows {
		keyW, aW, bW, cW = max(keyW, width(r.key)), max(aW, width(r.a)), max(bW, width(r.b)), max(cW, width(r.change))
	}
	keyW = min(keyW, max(16, W*2/5))
	share := max(8, (W-keyW-cW-6)/2)
	aW, bW = min(aW, share), min(bW, share)
	head := padRight(title, width(title), keyW) + "  " + padRight("A", 1, aW) + "  " + padRight("B", 1, bW) + "  CHANGE"
	b.Grow((len(rows) + 2) * (keyW + aW + bW + cW + 7)) // a line's room at most, in one allocation
	b.WriteString(st.bold(head) + "\n")
	for _, r := range rows {
		k, a, v := truncate(r.key, keyW), truncate(r.a, aW), truncate(r.b, bW)
		line := padRight(k, width(k), keyW) + "  " + padRight(a, width(a), aW) + "  " + padRight(v, width(v), bW) + "  " + r.change
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	b.WriteString("\n")
}

package view

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/flatjson"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Data renders the data of a run's stages, a line per stage that has any,
// nested stages indented as in Waterfall, after a "DATA" heading:
//
//	DATA
//	load_data  rows=50000 source=s3://ml-data/cifar10
//	train      best_loss=0.41 epochs=3
//	  epoch#1  loss=0.93
//
// Objects are flattened to dotted keys (opt.lr=0.1); strings are shown
// without quotes unless they hold a space, an equals sign or nothing. The
// stderr tail (stderr_tail) is left out: show prints it under its own
// heading. Lines are cut at o.Width columns. "" when no stage has data.
func Data(r *runfile.Run, o Options) string {
	var b strings.Builder
	_ = WriteData(&b, r, o) // a strings.Builder does not fail
	return b.String()
}

// WriteData writes Data(r, o) to w a line at a time. It returns the first
// error writing to w.
func WriteData(w io.Writer, r *runfile.Run, o Options) error {
	st := style(o.Color)
	W := o.width()
	// kv is a stage's data as key=value pairs; "" when it has none. The
	// stages are walked twice (runtree.Each), to measure the names and to
	// write the lines, rather than held for every stage of a large run.
	var kv strings.Builder
	kvOf := func(row *runtree.Row) string {
		kv.Reset()
		flatjson.Walk(row.Stage.Data, func(k string, v []byte) {
			if k == "stderr_tail" {
				return
			}
			if kv.Len() > 0 {
				kv.WriteByte(' ')
			}
			if k != "" {
				kv.WriteString(Clean(k) + "=")
			}
			kv.WriteString(Clean(dataText(v)))
		})
		return kv.String()
	}
	nameOf := func(row *runtree.Row) string { return strings.Repeat("  ", row.Depth) + Clean(row.Stage.Key) }
	nameW, some := 0, false
	runtree.Each(r, func(row *runtree.Row) {
		if kvOf(row) != "" {
			some = true
			nameW = max(nameW, width(nameOf(row)))
		}
	})
	if !some {
		return nil
	}
	nameW = min(nameW, max(12, W/4))
	b := bufio.NewWriterSize(w, 64<<10)
	b.WriteString("\n" + st.bold("DATA") + "\n")
	runtree.Each(r, func(row *runtree.Row) {
		if kv := kvOf(row); kv != "" {
			name := truncate(nameOf(row), nameW)
			b.WriteString(truncate(padRight(name, width(name), nameW)+"  "+kv, W))
			b.WriteByte('\n')
		}
	})
	return b.Flush()
}

// dataText is a data value as show prints it after "key=".
func dataText(v []byte) string {
	s := flatjson.Text(v)
	if v[0] == '"' && (s == "" || strings.ContainsAny(s, " =")) {
		return unescapeHTML(v)
	}
	if v[0] == '[' {
		return unescapeHTML(v)
	}
	return s
}

// unescapeHTML shows <, > and & as themselves where the value was written
// with encoding/json's HTML escapes (\u003c, \u003e, \u0026): a person
// reads "a && b", not "a \u0026\u0026 b". It re-encodes through
// encoding/json, so a literal backslash stays escaped.
func unescapeHTML(v []byte) string {
	if !bytes.Contains(v, []byte(`\u00`)) {
		return string(v)
	}
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	var x any
	if d.Decode(&x) != nil {
		return string(v)
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if e.Encode(x) != nil {
		return string(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

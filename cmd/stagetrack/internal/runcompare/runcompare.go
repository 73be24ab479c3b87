// Package runcompare lays several runs side by side: one column per run,
// a row per parameter (the run's args), per data value (each stage's data
// as "stage.key") and per stage duration. Build is a pure function; its
// result is what `stagetrack compare --format json` prints, and what the
// other formats lay out.
//
// Build is safe for concurrent use.
package runcompare

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/rundiff"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Kinds of a Row, in the order rows come.
const (
	Param    = "parameter"
	Data     = "data"
	Duration = "duration"
)

// Matrix is runs side by side. It is a plain value, safe to read from
// several goroutines.
type Matrix struct {
	Runs []Column `json:"runs"`
	Rows []Row    `json:"rows"`
}

// Column identifies one run.
type Column struct {
	File      string    `json:"file,omitempty"`
	RunID     string    `json:"run_id"`
	Name      string    `json:"name,omitempty"`
	Status    string    `json:"status"`
	StartTime time.Time `json:"start_time"`
}

// Row is one value across the runs.
type Row struct {
	Kind string `json:"kind"` // Param, Data or Duration
	// Key names the value: a parameter's dotted key ("optimizer.lr"), a
	// data value as stage.key ("evaluate.accuracy"), a stage's key path
	// ("train/epoch") or "(run)" for the run's total duration.
	Key string `json:"key"`
	// Values has one entry per run, in the order of Runs: compact JSON
	// (seconds for a duration); null where the run has none.
	Values []json.RawMessage `json:"values"`
	// Differs is true when the runs that have the value do not all agree,
	// or only some have it.
	Differs bool `json:"differs"`
}

// Build lays out runs side by side, columns in the order given. Rows are
// the parameters in key order, then the data values and the durations of
// the stages in the order the runs show them (a stage first seen in a
// later run comes after the earlier runs' stages), data keys in key order
// within a stage, and last the runs' total durations. Only the attempt
// that decides a stage counts: the last attempt of a retried one.
func Build(runs []*runfile.Run, files []string) Matrix {
	m := Matrix{Runs: make([]Column, len(runs))}
	n := len(runs)
	type cells = map[string][]json.RawMessage
	params, data, durs := cells{}, cells{}, cells{}
	var paramKeys, dataKeys, stageKeys []string
	dataStage := map[string]string{} // a data row's stage
	set := func(c cells, keys *[]string, key string, i int, v json.RawMessage) {
		row, ok := c[key]
		if !ok {
			row = make([]json.RawMessage, n)
			c[key] = row
			*keys = append(*keys, key)
		}
		row[i] = v
	}
	total := make([]json.RawMessage, n)
	for i, r := range runs {
		rows := runtree.Flatten(r)
		m.Runs[i] = Column{RunID: r.RunID, Name: r.Name, Status: runtree.RunStatus(r), StartTime: r.StartTime}
		if i < len(files) {
			m.Runs[i].File = files[i]
		}
		for _, f := range rundiff.Fields(r.Args) {
			if f.Key == "" {
				f.Key = "args"
			}
			set(params, &paramKeys, f.Key, i, f.Value)
		}
		for _, row := range rows {
			if !row.Decides {
				continue
			}
			if !row.Stage.DurationUnknown {
				set(durs, &stageKeys, row.KeyPath, i, seconds(row.Stage.DurationSec))
			} else if _, ok := durs[row.KeyPath]; !ok {
				set(durs, &stageKeys, row.KeyPath, i, nil)
			}
			for _, f := range rundiff.Fields(row.Stage.Data) {
				key := row.KeyPath
				if f.Key != "" {
					key += "." + f.Key
				}
				set(data, &dataKeys, key, i, f.Value)
				dataStage[key] = row.KeyPath
			}
		}
		total[i] = seconds(runtree.Duration(r, rows).Seconds())
	}
	slices.Sort(paramKeys)
	for _, k := range paramKeys {
		m.Rows = append(m.Rows, row(Param, k, params[k]))
	}
	// Data values follow their stage's order, keys sorted within it.
	order := make(map[string]int, len(stageKeys))
	for i, k := range stageKeys {
		order[k] = i
	}
	slices.SortStableFunc(dataKeys, func(a, b string) int {
		if x, y := order[dataStage[a]], order[dataStage[b]]; x != y {
			return x - y
		}
		return strings.Compare(a, b)
	})
	for _, k := range dataKeys {
		m.Rows = append(m.Rows, row(Data, k, data[k]))
	}
	for _, k := range stageKeys {
		m.Rows = append(m.Rows, row(Duration, k, durs[k]))
	}
	m.Rows = append(m.Rows, row(Duration, "(run)", total))
	return m
}

func row(kind, key string, vals []json.RawMessage) Row {
	r := Row{Kind: kind, Key: key, Values: vals}
	var first json.RawMessage
	for _, v := range vals {
		switch {
		case v == nil:
			r.Differs = true
		case first == nil:
			first = v
		case string(v) != string(first):
			r.Differs = true
		}
	}
	return r
}

func seconds(s float64) json.RawMessage {
	return strconv.AppendFloat(nil, s, 'f', -1, 64)
}

// Text is a value as the formats print it: a string's text unquoted,
// other JSON as compact JSON, "" for none. Durations are seconds; the
// formats that print them for people format them as durations.
func Text(v json.RawMessage) string {
	if v == nil {
		return ""
	}
	if len(v) > 0 && v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
	}
	return string(v)
}

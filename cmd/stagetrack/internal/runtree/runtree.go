// Package runtree walks the stage tree of a run file the way every view of
// it needs: depth-first in start order, with each stage's depth, its path of
// keys and of names, and its status and end as a reader should see them,
// including in files written by the Python stage-tracker (no status, no
// end_time).
//
// Its functions are pure and safe for concurrent use.
package runtree

import (
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// Row is one stage of a run, flattened.
type Row struct {
	Stage    *runfile.Stage
	Depth    int    // 0 for a top-level stage
	KeyPath  string // keys from the top, joined by "/": "train/epoch#1"; unique in a run
	NamePath string // names from the top, joined by "/": "train/epoch"; shared by repeats
	Parent   string // the parent stage's NamePath; "" for a top-level stage
	Status   string // Status(Stage)
	Start    time.Time
	End      time.Time // End(Stage)
	// Decides is true when the stage is the last attempt of its name at its
	// level and every stage it is nested in is the last attempt of its own
	// name: the record that counts for the run's status (see
	// internal/runstatus). False for name#1, name#2… and their children.
	Decides bool
	// Earlier are the earlier attempts of the stage's name at its level,
	// in start order; empty for a name used once.
	Earlier []*runfile.Stage
}

// Flatten returns the stages of r depth-first, each parent before its
// children, siblings in file (start) order.
func Flatten(r *runfile.Run) []Row {
	n := count(r.Stages)
	if n == 0 {
		return nil
	}
	rows := make([]Row, 0, n) // one allocation, not a copy per doubling
	Each(r, func(row *Row) { rows = append(rows, *row) })
	return rows
}

// Each calls fn with each row Flatten returns, in its order, without
// holding them all: a run of 100,000 stages has 16 MB of rows. The row is
// fn's only until it returns.
func Each(r *runfile.Run, fn func(*Row)) {
	var row Row
	var walk func(s runfile.Stages, depth int, keys, names string, decides bool)
	walk = func(s runfile.Stages, depth int, keys, names string, decides bool) {
		// The last index of each name, when a name comes more than once
		// at this level (nil when every name is its own: the common case,
		// which needs no lookups).
		var last map[string]int
		if len(s) > 1 {
			last = make(map[string]int, len(s))
			for i := range s {
				last[name(&s[i])] = i
			}
			if len(last) == len(s) {
				last = nil
			}
		}
		var seen map[string][]*runfile.Stage
		for i := range s {
			st := &s[i]
			n := name(st)
			kp, np := join(keys, st.Key), join(names, n)
			d, earlier := decides, []*runfile.Stage(nil)
			if last != nil {
				d, earlier = decides && last[n] == i, seen[n]
				if last[n] != i { // later attempts of n follow; the last needs no list
					if seen == nil {
						seen = map[string][]*runfile.Stage{}
					}
					seen[n] = append(earlier[:len(earlier):len(earlier)], st)
				}
			}
			row = Row{
				Stage: st, Depth: depth, KeyPath: kp, NamePath: np, Parent: names,
				Status: Status(st), Start: st.StartTime, End: End(st),
				Decides: d, Earlier: earlier,
			}
			fn(&row)
			walk(st.Stages, depth+1, kp, np, d)
		}
	}
	walk(r.Stages, 0, "", "", true)
}

// count is how many stage records s holds, nested ones included.
func count(s runfile.Stages) int {
	n := len(s)
	for i := range s {
		n += count(s[i].Stages)
	}
	return n
}

func join(prefix, s string) string {
	if prefix == "" {
		return s
	}
	return prefix + "/" + s
}

func name(st *runfile.Stage) string {
	if st.Name != "" {
		return st.Name
	}
	return st.Key
}

// Status returns the stage's status: its recorded status, or, for files
// that have none, "error" when it has an error and "ok" otherwise.
func Status(st *runfile.Stage) string {
	switch {
	case st.Status != "":
		return st.Status
	case st.Error != "":
		return runfile.StageError
	default:
		return runfile.StageOK
	}
}

// Flaky reports whether the row decides its stage, passed, and an earlier
// attempt of its name at its level did not.
func (r Row) Flaky() bool {
	if !r.Decides || Failed(r.Status) {
		return false
	}
	for _, e := range r.Earlier {
		if Failed(Status(e)) {
			return true
		}
	}
	return false
}

// Failed reports whether a stage with this status did not end well: any
// status other than ok (error, unfinished, running).
func Failed(status string) bool { return status != runfile.StageOK }

// End returns when the stage ended: its end_time, or start_time plus
// duration_sec for files that have no end_time.
func End(st *runfile.Stage) time.Time {
	if !st.EndTime.IsZero() {
		return st.EndTime
	}
	if st.StartTime.IsZero() {
		return time.Time{}
	}
	return st.StartTime.Add(st.Duration())
}

// RunStatus returns the run's status: its recorded status, or, for files
// that have none, "failed" when the run or a stage has an error and "ok"
// otherwise.
func RunStatus(r *runfile.Run) string {
	if r.Status != "" {
		return r.Status
	}
	if r.Error != "" {
		return runfile.StatusFailed
	}
	for _, row := range Flatten(r) {
		if row.Status == runfile.StageError {
			return runfile.StatusFailed
		}
	}
	return runfile.StatusOK
}

// Bounds returns the run's time axis: from the earlier of its start and its
// first stage's start to the later of its completion and its last stage's
// end. Both are zero for a run with no times at all.
func Bounds(r *runfile.Run, rows []Row) (start, end time.Time) {
	var b bounds
	b.run(r)
	for i := range rows {
		b.row(&rows[i])
	}
	return b.result()
}

// BoundsOf is Bounds(r, Flatten(r)) without the rows.
func BoundsOf(r *runfile.Run) (start, end time.Time) {
	var b bounds
	b.run(r)
	Each(r, b.row)
	return b.result()
}

// bounds is Bounds' computation, a row at a time.
type bounds struct{ start, end time.Time }

func (b *bounds) run(r *runfile.Run) {
	b.start, b.end = r.StartTime, r.CompletedAt
	if b.end.IsZero() && !b.start.IsZero() {
		b.end = b.start.Add(time.Duration(r.TotalDurationSec * float64(time.Second)))
	}
}

func (b *bounds) row(row *Row) {
	if !row.Start.IsZero() && (b.start.IsZero() || row.Start.Before(b.start)) {
		b.start = row.Start
	}
	if row.End.After(b.end) {
		b.end = row.End
	}
}

func (b *bounds) result() (start, end time.Time) {
	if b.end.Before(b.start) {
		return b.start, b.start
	}
	return b.start, b.end
}

// Duration returns the run's total duration: total_duration_sec, or the
// length of its time axis when that is missing.
func Duration(r *runfile.Run, rows []Row) time.Duration {
	if r.TotalDurationSec > 0 {
		return time.Duration(r.TotalDurationSec * float64(time.Second))
	}
	s, e := Bounds(r, rows)
	return e.Sub(s)
}

// DurationOf is Duration(r, Flatten(r)) without the rows.
func DurationOf(r *runfile.Run) time.Duration {
	if r.TotalDurationSec > 0 {
		return time.Duration(r.TotalDurationSec * float64(time.Second))
	}
	s, e := BoundsOf(r)
	return e.Sub(s)
}

// ShortID returns the first 8 characters of a run id, as people quote it.
func ShortID(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 && i <= 8 {
		return id[:i]
	}
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// Package runstatus holds the one rule that decides whether a run's stages
// fail the run, shared by the tracker (the run span's status), the jsonrun
// exporter (the run file's status and error) and stagetrack run (its exit
// code), so the three always agree.
//
// The rule: at each nesting level, the attempts of a stage name are its
// records in start order, and only the last attempt of each name counts. A
// stage that failed, or never finished, fails the run when it is the last
// attempt of its name and every stage it is nested in is the last attempt of
// its own name. A stage that failed and then passed on retry does not fail
// the run; the earlier attempt is still recorded with its error.
//
// When the rule fails a run, Failure names the first such stage in start
// order: stage "test" failed: exit status 1, with "outer/inner" for a
// nested stage, and says how many more failed.
package runstatus

import (
	"fmt"
	"strings"
)

// Attempts collects the attempts of one run's stages. Start them in start
// order. The zero value is ready to use. It is not safe for concurrent use.
type Attempts struct {
	latest map[slot]uint64
	seq    uint64
	failed []failure
}

// Attempt is one stage record.
type Attempt struct {
	slot   slot
	seq    uint64
	parent *Attempt // == slot.parent
}

type slot struct {
	parent *Attempt
	name   string
}

type failure struct {
	at  *Attempt
	msg string
}

// Start records a stage named name nested in parent (nil for a top-level
// stage): the latest attempt of that name at that level, so far.
func (a *Attempts) Start(parent *Attempt, name string) *Attempt {
	if a.latest == nil {
		a.latest = make(map[slot]uint64)
	}
	a.seq++
	// A slot is keyed by the parent attempt itself, so each attempt of a
	// parent starts fresh slots for its children.
	at := &Attempt{slot: slot{parent: parent, name: name}, seq: a.seq, parent: parent}
	a.latest[at.slot] = at.seq
	return at
}

// Fail records that at failed (or never finished), and why.
func (a *Attempts) Fail(at *Attempt, why string) {
	if at != nil {
		a.failed = append(a.failed, failure{at: at, msg: why})
	}
}

// Failure returns why the stages fail the run, or "" when they do not.
func (a *Attempts) Failure() string {
	first, n := -1, 0
	for i, f := range a.failed {
		if !a.counts(f.at) {
			continue
		}
		if first < 0 || f.at.seq < a.failed[first].at.seq {
			first = i
		}
		n++
	}
	if first < 0 {
		return ""
	}
	f := a.failed[first]
	msg := fmt.Sprintf("stage %q failed", path(f.at))
	if f.msg != "" {
		msg += ": " + f.msg
	}
	if n > 1 {
		msg += fmt.Sprintf(" (and %d more failed stages)", n-1)
	}
	return msg
}

// counts reports whether at and every stage it is nested in are the last
// attempts of their names.
func (a *Attempts) counts(at *Attempt) bool {
	for ; at != nil; at = at.parent {
		if a.latest[at.slot] != at.seq {
			return false
		}
	}
	return true
}

func path(at *Attempt) string {
	var names []string
	for ; at != nil; at = at.parent {
		names = append(names, at.slot.name)
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return strings.Join(names, "/")
}

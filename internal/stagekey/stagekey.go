// Package stagekey holds the rule that gives a run file's stage records
// their keys in a stages object, shared by the jsonrun exporter, which
// writes them, and package runfile, which re-keys files of schema version 1
// as it reads them, so that the two always agree.
//
// The rule, at one level of the stage tree: the records of one stage name,
// in start order, are its attempts 1, 2, ... N. The last one, the attempt
// that decides the stage (as the status rule of internal/runstatus has it),
// is keyed by the plain name; the earlier ones by "name#1", "name#2", ...
// by attempt number. A name that occurs once is keyed by the plain name.
// So stages["flaky"] is what a retried stage came to, as in the Python
// stage-tracker, which overwrote stages[name].
//
// Keys never collide. Every name at the level keeps its plain key; an
// earlier attempt whose numbered key is a stage's name at the same level
// (a stage literally named "x#1") takes the next free number instead, and
// the attempts after it follow on: stages "x#1", "x", "x" are keyed "x#1",
// "x#2", "x". Numbered keys of two different names cannot collide, as the
// text after a key's last '#' is a number and no name is split there.
package stagekey

import (
	"strconv"
	"strings"
)

// Level gives the keys of the stage records of one level. Count every
// record's name first, then call Next (or NextNumber) for each record in
// start order with the same names. The zero value is ready to use. A Level is not safe for
// concurrent use.
type Level struct {
	names map[string]counts
	hash  bool // a name holds '#': a numbered key may be a name
	// last is, when hash, the number of each name's last numbered key,
	// which skipping taken keys may put ahead of its attempts. It is kept
	// apart from names, so that a level whose names hold no '#' costs
	// 8 bytes a name beside the map's own.
	last map[string]int
}

type counts struct {
	total, seen int32 // records of the name; how many have been keyed
}

// Grow makes room for n distinct names.
func (l *Level) Grow(n int) {
	if l.names == nil {
		l.names = make(map[string]counts, n)
	}
}

// Count counts one record named name.
func (l *Level) Count(name string) {
	if l.names == nil {
		l.names = make(map[string]counts)
	}
	c := l.names[name]
	c.total++
	l.names[name] = c
	if !l.hash && strings.IndexByte(name, '#') >= 0 {
		l.hash = true
	}
}

// Next returns the key and the attempt number of the next record named
// name, in start order. Every name must have been counted.
func (l *Level) Next(name string) (key string, attempt int) {
	n, attempt := l.NextNumber(name)
	return Key(name, n), attempt
}

// NextNumber is Next without building the key: it returns the key's
// number, 0 for the plain name, for Key.
func (l *Level) NextNumber(name string) (n, attempt int) {
	c := l.names[name]
	c.seen++
	if c.seen >= c.total {
		l.names[name] = c
		return 0, int(c.seen)
	}
	l.names[name] = c
	if !l.hash {
		return int(c.seen), int(c.seen)
	}
	if l.last == nil {
		l.last = make(map[string]int)
	}
	k := max(int(c.seen), l.last[name]+1)
	for l.taken(Key(name, k)) {
		k++
	}
	l.last[name] = k
	return k, int(c.seen)
}

// Key returns the key numbered n of name: name#n, or name for 0. It is
// small enough to inline, so a key that does not outlive its caller's
// frame need not be allocated.
func Key(name string, n int) string {
	if n == 0 {
		return name
	}
	return name + "#" + strconv.Itoa(n)
}

// taken reports whether key is the name of a stage at this level.
func (l *Level) taken(key string) bool {
	_, ok := l.names[key]
	return ok
}

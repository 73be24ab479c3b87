package jsonrun

import (
	"slices"

	"go.opentelemetry.io/otel/attribute"
)

// Which spans of a run's trace are its stages, when a process marks them.
//
// By the convention any span of a run's trace is a stage. But a process
// whose stages name their run (stage_tracker.run.id on the stage span, as
// the tracker's always do) says which of its spans are stages: its other
// spans are its libraries' (an HTTP client call, a database query inside a
// stage), and would fill the run file with records, and fail the run with
// an error the program handled. So a span that names no run is not a stage
// when its resource (its process) is one that marks its stages: one that
// sent a stage naming the run, or the tracker's run span. Spans of other
// processes (another language's SDK sending its spans to stagetrack run, a
// host sending to a Collector) stay stages.

// marks is the set of resources that mark a run's stages. A run has one
// resource per process that took part, so a slice does. Not safe for
// concurrent use: openRun.mu guards it.
type marks []attribute.Distinct

// mark records res as a resource that marks its stages; the zero value
// (unknown) is ignored.
func (m *marks) mark(res attribute.Distinct) {
	if res != (attribute.Distinct{}) && !slices.Contains(*m, res) {
		*m = append(*m, res)
	}
}

// admit reports whether rec is a stage of the run, marking its resource
// when rec names its run.
func (m *marks) admit(rec *stageRecord) bool {
	if !rec.loose {
		m.mark(rec.res)
		return true
	}
	return !slices.Contains(*m, rec.res)
}

// dropMarked removes the loose stages of processes that mark their stages,
// now that every stage is in: those that arrived before their process's
// first marked stage too.
func dropMarked(root *rootRecord, stages []stageRecord) []stageRecord {
	var m marks
	if root != nil && root.tracker {
		m.mark(root.res)
	}
	loose := false
	for i := range stages {
		if stages[i].loose {
			loose = true
		} else {
			m.mark(stages[i].res)
		}
	}
	if !loose || len(m) == 0 {
		return stages
	}
	return slices.DeleteFunc(stages, func(s stageRecord) bool { return s.loose && slices.Contains(m, s.res) })
}

// markRoot marks the resource of the tracker's run span: the tracker marks
// every stage it makes, and its process's other spans are libraries'.
func (r *openRun) markRoot(root *rootRecord) {
	if !root.tracker {
		return
	}
	r.mu.Lock()
	r.marks.mark(root.res)
	r.mu.Unlock()
}

// marksRes reports whether res marks r's stages: a span of it that names no
// run is a library's, dropped before anything is built of it.
func (r *openRun) marksRes(res attribute.Distinct) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.marks, res)
}

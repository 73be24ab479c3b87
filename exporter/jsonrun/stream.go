package jsonrun

import (
	"bytes"
	"cmp"
	"io"
	"slices"

	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
	"github.com/stage-tracker/stage-tracker/internal/runstatus"
	"github.com/stage-tracker/stage-tracker/internal/stagekey"
	"github.com/stage-tracker/stage-tracker/runfile"
	"go.opentelemetry.io/otel/trace"
)

// Streaming a run file from the buffer. A run's file, built whole, costs
// several times the heap its buffered stages hold: every record unpacked,
// then a Stage for each (issue 12 asks for a peak of 1.5× the held heap).
// For the common shape, a flat run whose stages arrived in start order, the
// file is encoded straight from the packed records instead, one stage at a
// time; any other run is assembled as a tree, as before.

// flat reports whether the buffer's stages can be streamed: all children
// of the run span (runSpan; buildTree names any other parent of a
// top-level stage, which the stream does not), in start order, and every stage named its run (none is
// loose, so dropMarked keeps them all and the run span's count counts them
// all), and none is a count span's. This is the rule under which assemble makes a flat tree in buffer
// order, which writeFlatStages keys as buildTree does.
func (b *stageBuffer) flat(runSpan trace.SpanID) bool {
	var prev *packedStage
	for _, c := range b.chunks {
		for i := range c {
			p := &c[i]
			if p.parentID != runSpan || p.spanID == runSpan || (p.origin != nil && p.origin.loose) || (p.rare != nil && p.rare.claim > 0) {
				return false
			}
			// Equal: one span twice, which assemble merges (merge.go).
			if prev != nil && comparePacked(prev, p) >= 0 {
				return false
			}
			prev = p
		}
	}
	return true
}

// sortByStart puts the records in the order assemble gives them (by start,
// then span id; stable, so that one span twice keeps its arrival order),
// so that a run whose stages came interleaved from several processes is
// streamed too (flat) instead of unpacked and assembled as a tree, the
// rule for a Collector's runs, whose producers' requests interleave.
// Records in order already, as those of one process are, are not moved.
func (b *stageBuffer) sortByStart() {
	var prev *packedStage
	sorted := true
	for _, c := range b.chunks {
		for i := range c {
			if prev != nil && comparePacked(prev, &c[i]) > 0 {
				sorted = false
			}
			prev = &c[i]
		}
	}
	if sorted {
		return
	}
	all := make([]packedStage, 0, b.n)
	for _, c := range b.chunks {
		all = append(all, c...)
	}
	slices.SortStableFunc(all, func(x, y packedStage) int { return comparePacked(&x, &y) })
	b.chunks = [][]packedStage{all}
}

// comparePacked orders records as assemble does: by start, then span id.
func comparePacked(a, b *packedStage) int {
	return cmp.Or(cmp.Compare(a.startSec, b.startSec), cmp.Compare(a.startNs, b.startNs), bytes.Compare(a.spanID[:], b.spanID[:]))
}

// each calls fn with every record unpacked, in buffer order, into one
// variable: fn must not keep r.
func (b *stageBuffer) each(fn func(r *stageRecord)) {
	r := new(stageRecord)
	for _, c := range b.chunks {
		for i := range c {
			*r = c[i].unpack()
			fn(r)
		}
	}
}

// failure applies the status rule to a flat buffer, as stagesFailure does
// to a tree. A run none of whose stages failed needs no rule (and not its
// record of every attempt, ≈ 44 bytes a stage).
func (b *stageBuffer) failure() string {
	if !b.anyFailed() {
		return ""
	}
	var a runstatus.Attempts
	b.each(func(r *stageRecord) {
		at := a.Start(nil, jsonscalar.ValidUTF8(r.name))
		switch status, msg := recordStatus(r.failed, r.errMsg, r.status); status {
		case StageError:
			a.Fail(at, msg)
		case StageUnfinished:
			a.Fail(at, "did not finish")
		}
	})
	return a.Failure()
}

// anyFailed reports whether a stage of the buffer ended in error or did not
// finish.
func (b *stageBuffer) anyFailed() bool {
	for _, c := range b.chunks {
		for i := range c {
			if rs := c[i].rare; rs != nil {
				if st, _ := recordStatus(rs.failed, rs.errMsg, rs.status); st == StageError || st == StageUnfinished {
					return true
				}
			}
		}
	}
	return false
}

// recordStatus is a stage's status in the file and its error, as toStage
// gives them.
func recordStatus(failed bool, errMsg, status string) (string, string) {
	st, msg := StageOK, ""
	if failed {
		st, msg = StageError, errMsg
	}
	if status != "" {
		st = status
	}
	return st, msg
}

// assembleFlat is assemble for a flat buffer and its run span: the run
// without its stages, which encodeFlat writes.
func assembleFlat(root *rootRecord, runID string, b *stageBuffer) *Run {
	r := &Run{RunID: runID, SchemaVersion: SchemaVersion, StageCount: b.n}
	describeRun(r, root, b.countOwn(root), 0, b.failure()) // flat: no count spans
	return r
}

// writeFlatStages writes the stages of a flat buffer, keys and attempts as
// buildTree gives them, host and pid as omitSameProc leaves them. A key
// depends on how many records share its name, so the names are counted
// first, from the packed records, without unpacking them.
func (b *stageBuffer) writeFlatStages(sw *runfile.StageWriter, run proc) {
	var names stagekey.Level
	for _, c := range b.chunks {
		for i := range c {
			names.Count(jsonscalar.ValidUTF8(c[i].name))
		}
	}
	b.each(func(r *stageRecord) {
		st := toStage(r)
		name := jsonscalar.ValidUTF8(r.name)
		n, attempt := names.NextNumber(name)
		st.Key, st.Attempt = stagekey.Key(name, n), attempt // inlined: the key stays off the heap
		if st.Host == run.host || st.Host == "" {
			st.Host = ""
			if st.PID == run.pid {
				st.PID = 0
			}
		}
		sw.Stage(&st)
	})
}

// writeFlat writes the run file of run, whose stages are the flat buffer b,
// streaming them, as runWriter.write does; the caller makes sure there is
// no history file, whose line would need the stages again.
func (w *runWriter) writeFlat(run *Run, b *stageBuffer, runProc proc, outputFile string, replace bool) (string, error) {
	return w.writeWith(run, outputFile, replace, func(f io.Writer) error {
		return runfile.WriteStages(f, run, func(sw *runfile.StageWriter) { b.writeFlatStages(sw, runProc) })
	})
}

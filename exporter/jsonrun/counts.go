package jsonrun

import (
	"bytes"
	"slices"

	"github.com/stage-tracker/stage-tracker/internal/journal"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Completeness per process. The tracker's run span counts only the stages
// of its own process (counted). Every other process that adds stages to
// the run (a joined tracker, stagetrack exec, a sender in another
// language) tells how many it ended with one count span: a span naming
// the run by stage_tracker.process.run_id and carrying
// stage_tracker.process.stage_count, from the same resource as its
// stages, sent after them. A count span is kept as a record like a stage
// (claim > 0), so that it is buffered, journaled, stored, deduplicated by
// span id and written (process_counts) as every record is; assemble takes
// the claims out before the tree is built.
//
// A process is its host.name and process.pid: a run file keeps them for
// stages of other processes and for each count, so that a file read back
// counts what the spans counted. A count from a resource that does not
// name both, or from the run span's own process (whose stage_count covers
// it), claims nothing.

// maxClaim bounds one count span's claim: a hostile count cannot make
// missing_stages overflow.
const maxClaim = 1 << 31

// splitClaims moves the count spans' records out of stages: the stages,
// in the order they had, and the claims, one per span id (a count read
// back from a file has no start time, so dedupSorted may leave two
// records of one count span), in span id order.
func splitClaims(stages []stageRecord) (rest, claims []stageRecord) {
	if !slices.ContainsFunc(stages, func(s stageRecord) bool { return s.claim > 0 }) {
		return stages, nil
	}
	rest = stages[:0:0]
	for _, s := range stages {
		if s.claim > 0 {
			claims = append(claims, s)
		} else {
			rest = append(rest, s)
		}
	}
	slices.SortFunc(claims, func(a, b stageRecord) int {
		if c := bytes.Compare(a.spanID[:], b.spanID[:]); c != 0 {
			return c
		}
		return b.claim - a.claim // the larger first, whichever came first
	})
	claims = slices.CompactFunc(claims, func(a, b stageRecord) bool { return a.spanID == b.spanID })
	return rest, claims
}

// claimedMissing is how many stages the count spans claims say their
// processes ended that are not among stages: per process, the sum of its
// claims less its stages present, never below zero. Claims of the run
// span's own process, and of unknown processes, are left out.
func claimedMissing(root *rootRecord, stages, claims []stageRecord) int {
	if len(claims) == 0 {
		return 0
	}
	// By process, in a map: a run of many joined processes (a CI job of
	// many exec steps, or a hostile sender's many pids) stays linear.
	type claimed struct{ n, found int }
	procs := make(map[proc]*claimed)
	for i := range claims {
		c := &claims[i]
		if c.proc.host == "" || c.proc.pid == 0 {
			continue // a process a run file could not tell apart
		}
		if root != nil && c.proc == root.proc {
			continue
		}
		p := procs[c.proc]
		if p == nil {
			p = &claimed{}
			procs[c.proc] = p
		}
		p.n += c.claim
	}
	for i := range stages {
		if p := procs[stages[i].proc]; p != nil {
			p.found++
		}
	}
	missing := 0
	for _, p := range procs {
		missing += max(0, p.n-p.found)
	}
	return missing
}

// processCounts is the run file's process_counts, from splitClaims'
// claims: one entry per count span, by span id.
func processCounts(claims []stageRecord) []runfile.ProcessCount {
	if len(claims) == 0 {
		return nil
	}
	out := make([]runfile.ProcessCount, len(claims))
	for i, c := range claims {
		out[i] = runfile.ProcessCount{SpanID: c.spanID.String(), Host: c.proc.host, PID: c.proc.pid, StageCount: c.claim}
	}
	return out
}

// claimsOf turns a run file's process_counts back into records.
func claimsOf(run *Run) ([]stageRecord, error) {
	out := make([]stageRecord, 0, len(run.ProcessCounts))
	for _, pc := range run.ProcessCounts {
		id, err := journal.ParseSpanID(pc.SpanID)
		if err != nil {
			return nil, err
		}
		if pc.StageCount <= 0 {
			continue
		}
		out = append(out, stageRecord{spanID: id, claim: min(pc.StageCount, maxClaim), proc: proc{host: pc.Host, pid: pc.PID}, name: keys.CountSpanName})
	}
	return out, nil
}

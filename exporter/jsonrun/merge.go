package jsonrun

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/journal"
)

// A run is a set of stage records keyed by span id, and every way a run
// file is made (spans buffered in memory, a journal, several journals or
// run files of one run, a stage that arrives after the file was written)
// is a merge of such sets followed by assemble. The merge is:
//
//   - idempotent: records with one span id are one stage;
//   - order-free: the records are sorted by start time then span id, and
//     of two records of one span the better (see better) is kept, so any
//     arrival order and any split gives the same file;
//   - monotone: a record of a stage that ended wins over one of a stage
//     that did not (unfinished, running); nothing recorded is dropped.
//
// Duplicates are found where the sort puts them, side by side, so that the
// hot path keeps no set of span ids.

// dedupSorted collapses the records of one span, which the sort by start
// then span id puts side by side, into the better of them. stages must be
// sorted so.
func dedupSorted(stages []stageRecord) []stageRecord {
	out := stages[:0]
	for i := range stages {
		if n := len(out); n > 0 && out[n-1].spanID == stages[i].spanID && out[n-1].start.Equal(stages[i].start) {
			if better(&stages[i], &out[n-1]) {
				out[n-1] = stages[i]
			}
			continue
		}
		out = append(out, stages[i])
	}
	clear(stages[len(out):]) // no stale strings kept alive
	return out
}

// better reports whether a is a better record of a span than b: ended over
// not ended, then the later end, then the record read from a span (whose
// resource is known) over one read back from a file, then, for records
// that differ in nothing else, a fixed order of their fields, so that the
// choice never depends on which came first.
func better(a, b *stageRecord) bool {
	if ea, eb := endedRecord(a), endedRecord(b); ea != eb {
		return ea
	}
	if c := a.end.Compare(b.end); c != 0 {
		return c > 0
	}
	if ka, kb := a.res != (attribute.Distinct{}), b.res != (attribute.Distinct{}); ka != kb {
		return ka
	}
	return cmp.Or(
		cmp.Compare(a.name, b.name),
		cmp.Compare(a.status, b.status),
		cmp.Compare(a.errMsg, b.errMsg),
		cmp.Compare(a.data, b.data),
		cmp.Compare(a.dataErr, b.dataErr),
		cmp.Compare(a.stack, b.stack),
		bytes.Compare(a.parentID[:], b.parentID[:]),
		boolCompare(a.failed, b.failed),
		boolCompare(a.timedOut, b.timedOut),
		boolCompare(!a.loose, !b.loose),
		cmp.Compare(a.proc.host, b.proc.host),
		cmp.Compare(a.proc.pid, b.proc.pid),
		cmp.Compare(a.prov, b.prov),
	) > 0
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// endedRecord reports whether r is the record of a stage that ended, not
// one of a stage still open when its run or process ended.
func endedRecord(r *stageRecord) bool {
	return r.status != StageUnfinished && r.status != StageRunning
}

// sameProcess reports whether stage s ran in the process of the run span
// root: by resource when both are known (spans), else by host and pid
// (records read back from a journal or a run file, where an unknown
// process is the run's own, as the run file omits the host and pid of
// stages that ran where the run did).
func sameProcess(root *rootRecord, s *stageRecord) bool {
	if s.res != (attribute.Distinct{}) && root.res != (attribute.Distinct{}) {
		return s.res == root.res
	}
	if s.proc == (proc{}) || root.proc == (proc{}) {
		return true
	}
	return s.proc.pid == root.proc.pid && (s.proc.host == "" || root.proc.host == "" || s.proc.host == root.proc.host)
}

// procCounts counts a run's stages that named their run, by the process
// they came from: a tracker's run span counts only its own process's
// stages, and the root is not known while the stages arrive. A run has
// one entry per process that took part. Not safe for concurrent use.
type procCounts []procCount

type procCount struct {
	res  attribute.Distinct
	proc proc
	n    int
}

// add counts rec, a stage that named its run.
func (c *procCounts) add(rec *stageRecord) {
	for i := len(*c) - 1; i >= 0; i-- {
		if e := &(*c)[i]; e.res == rec.res && e.proc == rec.proc {
			e.n++
			return
		}
	}
	*c = append(*c, procCount{res: rec.res, proc: rec.proc, n: 1})
}

// of returns how many of the counted stages ran in root's process.
func (c procCounts) of(root *rootRecord) int {
	n := 0
	for _, e := range c {
		if sameProcess(root, &stageRecord{res: e.res, proc: e.proc}) {
			n += e.n
		}
	}
	return n
}

// countOwn is counted for a flat buffer: the stages (all named their run)
// that ran in root's process, or all of them for a run span that counts
// by hand.
func (b *stageBuffer) countOwn(root *rootRecord) int {
	if !root.tracker {
		return b.n
	}
	n := 0
	for _, c := range b.chunks {
		for i := range c {
			rec := stageRecord{}
			if o := c[i].origin; o != nil {
				rec.proc, rec.res = o.proc, o.res
			}
			if sameProcess(root, &rec) {
				n++
			}
		}
	}
	return n
}

// recordsOf turns a run file back into the records it was assembled from:
// the run span (nil when the file has none, a run written without it) and
// its stages, each with its parent stage's span id (the run span's for the
// top level). Assembling them again gives the same file, but for the
// warnings, which the caller carries over: that is what makes run files
// mergeable.
func recordsOf(run *Run) (*rootRecord, []stageRecord, error) {
	// A journal that names no run span (a Collector backend's, which only
	// received stages) is recovered with an all-zero one: no run span, its
	// stages only.
	hasRoot := strings.Trim(run.SpanID, "0") != ""
	var rootSpan trace.SpanID
	if hasRoot {
		id, err := journal.ParseSpanID(run.SpanID)
		if err != nil {
			return nil, nil, fmt.Errorf("run %s: %w", run.RunID, err)
		}
		rootSpan = id
	}
	runProc := proc{host: run.Host, pid: run.PID}
	var (
		stages []stageRecord
		errs   []error
	)
	var walk func(level Stages, parent trace.SpanID)
	walk = func(level Stages, parent trace.SpanID) {
		for i := range level {
			st := &level[i]
			id, err := journal.ParseSpanID(st.SpanID)
			if err != nil {
				errs = append(errs, fmt.Errorf("run %s: stage %q: %w", run.RunID, st.Key, err))
				continue
			}
			rec := stageRecord{
				name:     st.Name,
				spanID:   id,
				parentID: parent,
				start:    st.StartTime,
				end:      st.EndTime,
				errMsg:   st.Error,
				failed:   st.Status == StageError || st.Error != "",
				dataErr:  st.DataError,
				stack:    st.Stack,
				timedOut: st.TimedOut,
				proc:     proc{host: st.Host, pid: st.PID},
				prov:     stageFilesJSON(st),
			}
			if st.Status != StageOK && st.Status != StageError {
				rec.status = st.Status
			}
			if st.ParentSpanID != "" {
				// A stage whose parent the file did not hold: its own.
				if p, err := journal.ParseSpanID(st.ParentSpanID); err == nil {
					rec.parentID = p
				}
			}
			if len(st.Data) > 0 && !bytes.Equal(st.Data, []byte("null")) {
				rec.data = string(st.Data)
			}
			if hasRoot && rec.proc.host == "" {
				// omitSameProc left out what the run names.
				rec.proc.host = runProc.host
				if rec.proc.pid == 0 {
					rec.proc.pid = runProc.pid
				}
			}
			stages = append(stages, rec)
			walk(st.Stages, id)
		}
	}
	walk(run.Stages, rootSpan)
	claims, err := claimsOf(run)
	if err != nil {
		errs = append(errs, fmt.Errorf("run %s: process_counts: %w", run.RunID, err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	if !hasRoot {
		return nil, append(stages, claims...), nil
	}
	root := &rootRecord{
		name:       run.Name,
		spanID:     rootSpan,
		start:      run.StartTime,
		end:        run.CompletedAt,
		stack:      run.Stack,
		argsSize:   -1,
		stageCount: -1,
		proc:       runProc,
		tracker:    true,
	}
	if run.TraceID != "" {
		id, err := trace.TraceIDFromHex(run.TraceID)
		if err != nil {
			return nil, nil, fmt.Errorf("run %s: trace id %q: %w", run.RunID, run.TraceID, err)
		}
		root.traceID = id
	}
	if run.ParentSpanID != "" {
		root.parentID, _ = journal.ParseSpanID(run.ParentSpanID)
	}
	if len(run.Args) > 0 && !bytes.Equal(run.Args, []byte("null")) {
		root.args = string(run.Args)
	}
	if run.Provenance != nil {
		root.provenance = provenanceJSON(run.Provenance)
	}
	// missing_stages is the run span's shortfall plus the count spans'
	// (counts.go): the run span's is what the claims do not explain.
	_, dedup := splitClaims(claims)
	if own := run.MissingStages - claimedMissing(root, stages, dedup); own > 0 {
		root.stageCount = counted(root, stages) + own
	}
	stages = append(stages, claims...)
	// The status: the run span's own when it set one, else the rule's.
	switch run.Status {
	case StatusInterrupted, StatusCrashed, StageRunning:
		root.status, root.errMsg = run.Status, run.Error
	case StatusIncomplete:
		if run.MissingStages == 0 {
			root.status = run.Status
		}
		root.failed, root.errMsg = run.Error != "", run.Error
	case StatusFailed:
		// An error the stages gave is theirs, and is judged again.
		if run.Error != stagesFailure(run.Stages) {
			root.failed, root.errMsg = true, run.Error
		}
	}
	return root, stages, nil
}

// Merge returns the run that the run files of one run, written by several
// processes, exporters or directories, each holding part of its stages,
// add up to: the file one exporter would have written had it received
// every span. Stages are merged by span id (a stage in several files is
// one), the run span is the one file that has it (a file written without
// it, by Shutdown or recovery of a process that only held stages, gives
// its stages and nothing else), and status, error and missing_stages
// follow from the merged stages by the rule every run file follows. The
// warnings of the file with the run span are kept; late_stages is that
// file's.
//
// It is an error when runs is empty, when the runs are of different run
// ids, or when two of them have different run spans: a run has one owner.
// Merge is pure and safe for concurrent use; the runs are not modified.
func Merge(runs ...*Run) (*Run, error) {
	if len(runs) == 0 {
		return nil, errors.New("jsonrun: merge: no runs")
	}
	var (
		owner  *Run
		root   *rootRecord
		stages []stageRecord
	)
	// Two spellings of one run id (an upper-case one, say) are one run.
	runID := canonicalOr(runs[0].RunID)
	for _, run := range runs {
		if canonicalOr(run.RunID) != runID {
			return nil, fmt.Errorf("jsonrun: merge: runs %s and %s are not one run", runs[0].RunID, run.RunID)
		}
		rr, recs, err := recordsOf(run)
		if err != nil {
			return nil, fmt.Errorf("jsonrun: merge: %w", err)
		}
		if rr != nil {
			if owner != nil && owner.SpanID != run.SpanID {
				return nil, fmt.Errorf("jsonrun: merge: run %s has two run spans, %s and %s; a run has one owner", run.RunID, owner.SpanID, run.SpanID)
			}
			owner, root = run, rr
		}
		stages = append(stages, recs...)
	}
	merged := assemble(root, runID, stages, "")
	if owner != nil {
		merged.Warnings = carryWarnings(owner.Warnings, merged.Warnings)
		merged.LateStages = owner.LateStages
	} else {
		for _, run := range runs {
			merged.Warnings = carryWarnings(run.Warnings, merged.Warnings)
		}
	}
	return merged, nil
}

// carryWarnings returns old followed by those of fresh it does not hold:
// a warning made again when a file is assembled anew is not said twice.
func carryWarnings(old, fresh []string) []string {
	out := append([]string(nil), old...)
	for _, w := range fresh {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// MergeJournals returns the run that the journals of one run add up to:
// the journal its owner kept and those of processes or exporters that
// received some of its stages (WithJournalAllRuns in another directory, a
// Collector's backend), as recovery would rebuild it from one journal
// holding every event. Stages are merged by span id (a stage that ended in
// any journal has ended); the run event is the one naming the run span.
// It reads the files and writes nothing, takes no lock: write the result
// with runfile.WriteFile, then remove the journals. It is an error when
// the journals are of different runs or name different run spans.
//
// MergeJournals is safe for concurrent use.
func MergeJournals(paths ...string) (*Run, error) {
	if len(paths) == 0 {
		return nil, errors.New("jsonrun: merge journals: no journals")
	}
	var (
		all     journalContents
		runPath string
	)
	for _, p := range paths {
		f, err := fsutil.OpenNoFollow(p, os.O_RDONLY)
		if err != nil {
			return nil, fmt.Errorf("jsonrun: merge journals: %w", err)
		}
		jc := readJournal(f)
		f.Close()
		if ev := jc.run; ev != nil {
			switch {
			case all.run != nil && ev.RunID != all.run.RunID:
				return nil, fmt.Errorf("jsonrun: merge journals: %s is of run %s, not %s", p, ev.RunID, all.run.RunID)
			case all.run != nil && ev.SpanID != "" && all.run.SpanID != "" && ev.SpanID != all.run.SpanID:
				return nil, fmt.Errorf("jsonrun: merge journals: run %s has two run spans, %s and %s; a run has one owner", ev.RunID, all.run.SpanID, ev.SpanID)
			case all.run == nil || all.run.SpanID == "" && ev.SpanID != "":
				all.run, runPath = ev, p
			}
		}
		all.ended = append(all.ended, jc.ended...)
		all.started = append(all.started, jc.started...)
		all.bad = append(all.bad, jc.bad...)
		if jc.last.After(all.last) {
			all.last = jc.last
		}
	}
	if runPath == "" {
		runPath = paths[0]
	}
	return all.recoveredRun(runPath, "", "")
}

package jsonrun

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/journal"
)

// openRun is one run that this exporter has seen spans of and has not yet
// written. Its life:
//
//	open ──stage ends──▶ buffered ──evict──▶ spilled ──┐
//	  │                     │                          ├─run span─▶ finished (result)
//	  └─────────────────────┴──────────────────────────┘
//	                    Shutdown, no run span ─▶ abandoned (incomplete file, result)
//
// Finished and abandoned are both writeFile, the one way its file is
// written. A run whose owner is another process (Exporter.Join) is joined:
// its stages go to the owner's journal only, and it is closed
// (closeJoined), never written, here. A run kept for a later Resume is
// detached (detach).
//
// The trace router's waiting buckets are openRuns too, marked pending:
// they hold stages, and count against the memory bound, like a run.
//
// The exporter's lock (Exporter.mu) guards the fields that say so; mu
// guards the rest. An openRun is safe for concurrent use.
type openRun struct {
	id     string
	joined bool // set at creation: another process owns the run and its file
	// self is this process, recorded on a joined run's stages whose span
	// does not say (no host or process resource detector), so that the run
	// file names who ran them.
	self proc

	// inMemory: the run counts against the bound on runs holding stages in
	// memory. Guarded by Exporter.mu; only the runTable moves it.
	inMemory bool

	// Routing by trace id (router.go), guarded by Exporter.mu.
	traces  []trace.TraceID // the traces whose spans go to this run
	pending bool            // a bucket of a trace whose run is not known yet; its stages too are guarded by Exporter.mu
	since   time.Time       // when a bucket got its first span

	// The finish, guarded by Exporter.mu.
	root *rootRecord // arrived and waiting for late stages (WithLateStageWait)
	// owner is the run span that owns the run, once known: started here
	// (Processor) or the first to end here. Any other is refused.
	owner trace.SpanID
	timer stopper // ends that wait

	mu sync.Mutex
	// arrived counts the stages added, own those of them that named their
	// run, by process, for a run whose root waits for its stage count.
	arrived int
	own     procCounts
	// marks are the processes that mark this run's stages (marks.go).
	marks marks
	// notes are warnings for the run file, such as spans dropped while
	// they waited for the run (router.go).
	notes []string
	// overflow counts the spans a bucket dropped: more than
	// maxWaitingSpans waited. Guarded by Exporter.mu.
	overflow int
	// stages are the ended stages held in memory. Invariant: empty once
	// spilled, and always empty for a joined run.
	stages stageBuffer
	// journal holds the run's events on disk: opened at the run span's start
	// by a Processor, by Join, or at eviction (the spill). nil when there is
	// none. Invariant: not nil when spilled or joined.
	journal runLog
	// why, when set, is why the run is written without its run span
	// (WithOpenRunTimeout); else it is abandonedWhy.
	why string
	// opened is when the run was opened, for WithOpenRunTimeout.
	opened time.Time
	// spilled: evicted from memory; every stage is in journal only.
	spilled bool
	// done: writeFile, closeJoined or detach ran; later stages are dropped.
	done bool
}

// note records a warning for the run file.
func (r *openRun) note(w string) {
	r.mu.Lock()
	r.notes = append(r.notes, w)
	r.mu.Unlock()
}

// errRunDone: a span arrived for a run that has been written.
var errRunDone = errors.New("run already written")

// start records the start of a stage in the journal, if there is one.
func (r *openRun) start(rec *stageRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done || r.journal == nil {
		return nil
	}
	return r.journal.writeStage(rec, false)
}

// addStage records an ended stage: in the journal when there is one, and in
// memory unless the run is spilled or joined.
func (r *openRun) addStage(rec stageRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return nil
	}
	var err error
	if r.joined && rec.proc.pid == 0 {
		rec.proc.pid = r.self.pid
		if rec.proc.host == "" {
			rec.proc.host = r.self.host
		}
	}
	if r.journal != nil {
		err = r.journal.writeStage(&rec, true)
		if _, shared := r.journal.(*storeRun); shared && err != nil {
			// Not in the store: not kept at all, so that the span is
			// refused, not acknowledged and then lost.
			return err
		}
	}
	if !r.marks.admit(&rec) {
		return nil // the library span of a process that marks its stages
	}
	if rec.claim == 0 { // a count span's record is kept, not counted
		r.arrived++
		if !rec.loose {
			r.own.add(&rec)
		}
	}
	if !r.spilled && !r.joined {
		r.stages.add(rec)
	}
	return err
}

// spill moves the buffered stages out of memory: they are in the journal
// already when the run has one; else a journal is made at path to hold
// them. When that fails the stages stay in memory: nothing is lost, only
// the bound is exceeded.
func (r *openRun) spill(path string, perm os.FileMode, sync bool, host string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done || r.spilled || r.joined {
		return nil
	}
	if r.journal == nil {
		if err := r.newJournal(path, perm, sync, host); err != nil {
			return fmt.Errorf("jsonrun: run %s: keep evicted stages in %s: %w", r.id, path, err)
		}
	}
	r.stages = stageBuffer{}
	r.spilled = true
	return nil
}

// newJournal makes the journal of a run that has none at path, with a run
// event that names no run span (the run span was not seen) and the stages
// held in memory. r.mu must be held.
func (r *openRun) newJournal(path string, perm os.FileMode, sync bool, host string) error {
	j, err := openJournal(path, perm, sync)
	if err != nil {
		return err
	}
	stages := r.stages.all()
	ev := journal.Event{Kind: journal.KindRun, RunID: r.id, PID: os.Getpid(), Host: host}
	if len(stages) > 0 {
		ev.T = unixNano(stages[0].start)
	}
	buf := journal.Append(nil, &ev)
	for i := range stages {
		buf = appendStageEvent(buf, &stages[i], true)
	}
	if err := j.write(buf); err != nil {
		j.remove()
		return err
	}
	r.journal = j
	return nil
}

// abandonedWhy is why a run that Shutdown writes without its run span is
// incomplete.
const abandonedWhy = "the run was not finalised before the exporter shut down"

// writeFile writes the run file of r, taken off the open runs, then
// removes its journal; when the file cannot be written the journal stays,
// closed, so that recovery can still rebuild the run. Its result is final:
// the run is done, and later stages are dropped. It is the one way an open
// run's file is written:
//
//   - with root, the run finished: its stages are those held in memory,
//     merged with its journal's when it spilled or other processes joined
//     it (the file is then assembled), else streamed from a flat buffer
//     (stream.go), with the run's notes and the journal's warnings;
//   - without root (Shutdown), the run is abandoned: written as
//     incomplete, from its journal when it has one, never over an
//     existing run file.
func (r *openRun) writeFile(root *rootRecord, w *runWriter) result {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return result{err: fmt.Errorf("jsonrun: run %s: %w", r.id, errRunDone)}
	}
	r.done = true
	j := r.journal
	merge := j != nil && (r.spilled || j.foreign())
	var (
		run             *Run
		outputFile      string
		flat            bool
		journalWarnings []string
	)
	if root != nil && !merge && w.history == "" {
		r.stages.sortByStart()
	}
	switch {
	case root == nil:
		why := abandonedWhy
		if r.why != "" {
			why = r.why
		}
		run, outputFile = r.abandonedRun(why)
	case !merge && w.history == "" && r.stages.flat(root.spanID):
		run, flat = assembleFlat(root, r.id, &r.stages), true
	default:
		stages := r.stages.take()
		if merge {
			stages, journalWarnings = journalStages(stages, root.end, j)
		}
		run = assemble(root, r.id, stages, "")
	}
	if root != nil {
		outputFile = root.outputFile
		run.Warnings = append(run.Warnings, r.notes...)
		if j != nil {
			if err := j.failed(); err != nil {
				run.Warnings = append(run.Warnings, "journal stopped early ("+err.Error()+"); the run file is complete, but a crash would have lost later stages")
			}
		}
		run.Warnings = append(run.Warnings, journalWarnings...)
	}
	var (
		path string
		err  error
	)
	// A run whose events and root the store holds is written without
	// syncs: the store keeps it until a batch of files is synced
	// (runStore.removeAfterSync), and a restart writes it again.
	sr, shared := j.(*storeRun)
	deferred := shared && root != nil && sr.hasRoot()
	if deferred {
		lazy := *w
		lazy.lazy, lazy.tmpDir = true, sr.s.tmpDir
		w = &lazy
	}
	if flat {
		path, err = w.writeFlat(run, &r.stages, root.proc, outputFile, true)
	} else {
		path, err = w.write(run, outputFile, root != nil)
	}
	r.stages = stageBuffer{}
	if deferred && err == nil {
		sr.s.removeAfterSync(sr, path)
	} else if j != nil && err == nil {
		err = j.remove()
	} else if j != nil {
		j.close()
	}
	return result{path: path, err: err}
}

// abandonedRun builds the run file of r, whose run span never arrived, as
// incomplete (why), and returns where its journal's run event says to write
// it: from the journal when it can be read (a spill holds stages only; a
// run span that started here makes it a recovered run), else from the
// stages in memory. r.mu must be held.
func (r *openRun) abandonedRun(why string) (*Run, string) {
	if j := r.journal; j != nil {
		jc, err := j.read()
		switch {
		case err != nil || jc.run == nil:
		case jc.run.SpanID == "":
			// A spill: stages only, the run span was never seen.
			return assemble(nil, r.id, jc.ended, why), ""
		default:
			if rr, err := jc.recoveredRun(j.where(), StatusIncomplete, why); err == nil {
				return rr, jc.run.OutputFile
			}
		}
	}
	return assemble(nil, r.id, r.stages.take(), why), ""
}

// detach closes the journal of r, left for a later exporter's Resume
// (Exporter.Detach).
func (r *openRun) detach() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return nil
	}
	r.done = true
	return r.journal.close()
}

// closeJoined ends this process's part in a joined run. It reports an
// error when the owner finished before this process was done: stages
// written after that went to a removed file and are not in the run file.
func (r *openRun) closeJoined() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return nil
	}
	r.done = true
	gone := r.journal.detached()
	err := r.journal.close()
	if gone {
		return fmt.Errorf("jsonrun: run %s finished before this process ended; its stages may be missing from the run file", r.id)
	}
	return err
}

// journalStages returns local, the stages held in memory, with those the
// journal holds: those of joined processes, and those spilled at eviction.
// A stage the journal saw start and never end is unfinished, ending with
// the run (end); assemble merges the records of one span (merge.go). It
// also returns the warnings reading the journal gave.
func journalStages(local []stageRecord, end time.Time, j runLog) ([]stageRecord, []string) {
	jc, err := j.read()
	if err != nil {
		return local, []string{"stages in the journal not read: " + err.Error()}
	}
	stages := append(local, jc.ended...)
	for _, s := range jc.started {
		s.status = StageUnfinished
		s.end = end
		stages = append(stages, s)
	}
	var warnings []string
	for _, b := range jc.bad {
		warnings = append(warnings, "journal: skipped "+b.Error())
	}
	return stages, warnings
}

// result is a run's final outcome: the run file's path, or why there is
// none.
type result struct {
	path string
	err  error
	at   time.Time // when it was stored, for bounding the results kept
}

package jsonrun

import (
	"os"
	"time"
)

// Option configures an Exporter.
type Option interface {
	apply(config) config
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

type config struct {
	dir            string
	history        string
	perm           os.FileMode
	maxPendingRuns int
	journalSync    bool

	roots       RunRoots
	pendingWait time.Duration // 0: spans of unknown traces are not kept
	lateWait    time.Duration // 0: a run is written when its root arrives
	journalAll  bool
	clock       clock
	// dirOnly: a run span's stage_tracker.run.output_file is ignored.
	dirOnly bool
	// recover: NewProcessor recovers the directory's orphaned journals.
	recover bool
	// store: open runs live in one store (WithRunStore), bounded by
	// storeLim.
	store    bool
	storeDir string // "": <dir>/.openruns
	storeLim storeLimits
	// openTimeout: a run without its run span for this long is written
	// as incomplete (0: never).
	openTimeout time.Duration
}

// DefaultDir is where run files go unless WithDir or the run's
// WithOutputFile says otherwise.
const DefaultDir = "runs"

// DefaultMaxPendingRuns is how many runs the exporter buffers stages for,
// waiting for their run span, before it writes the oldest as incomplete.
const DefaultMaxPendingRuns = 1024

func newConfig(opts []Option) config {
	c := config{
		dir:            DefaultDir,
		perm:           0o644,
		maxPendingRuns: DefaultMaxPendingRuns,
		clock:          realClock{},
		recover:        true,
		storeLim: storeLimits{
			openRuns:   DefaultMaxOpenRuns,
			runBytes:   DefaultMaxRunBytes,
			totalBytes: DefaultMaxStoreBytes,
			segBytes:   defaultSegmentBytes,
		},
	}
	for _, o := range opts {
		c = o.apply(c)
	}
	return c
}

// WithDir sets the directory run files are written to, as <run_id>.json.
// It is created when the first run file is written. The default is "runs".
// An empty dir is ignored.
func WithDir(dir string) Option {
	return optionFunc(func(c config) config {
		if dir != "" {
			c.dir = dir
		}
		return c
	})
}

// WithHistory appends every finished run, as one line of JSON, to the JSON
// Lines file at path. Each run is one write to a file opened with O_APPEND,
// so several processes can share one history file; lines are never
// rewritten. Read it with ReadHistory.
func WithHistory(path string) Option {
	return optionFunc(func(c config) config {
		c.history = path
		return c
	})
}

// WithFilePerm sets the permission bits of run and history files. The
// default is 0644; use 0600 for files only their owner may read.
func WithFilePerm(perm os.FileMode) Option {
	return optionFunc(func(c config) config {
		c.perm = perm.Perm()
		return c
	})
}

// WithMaxPendingRuns bounds how many unfinished runs the exporter holds
// stages for. When a new run would exceed it, the run that has waited
// longest is written as incomplete and forgotten. Values below 1 are
// ignored. The default is DefaultMaxPendingRuns.
func WithMaxPendingRuns(n int) Option {
	return optionFunc(func(c config) config {
		if n > 0 {
			c.maxPendingRuns = n
		}
		return c
	})
}

// WithJournalSync makes the journal that NewProcessor keeps for each open run
// fsync after every event, so that ended stages survive a power loss too,
// not only the death of the process. It costs a disk flush per stage start
// and end.
func WithJournalSync() Option {
	return optionFunc(func(c config) config {
		c.journalSync = true
		return c
	})
}

// WithRunRoots sets which spans, besides those the convention's attribute
// rule makes roots, are the root of a run: AttributeRoots (the default) or
// TraceRoots. See docs/attributes.md, "Run convention, version 1".
// TraceRoots needs WithPendingSpans too, since a trace's root span arrives
// after its children.
func WithRunRoots(r RunRoots) Option {
	return optionFunc(func(c config) config {
		c.roots = r
		return c
	})
}

// WithPendingSpans keeps the spans of a trace that is not yet known to be a
// run's for up to maxWait after the first of them arrives, in case the
// span that reveals the run (its root, or a stage carrying
// stage_tracker.run.id) comes later, as it does when spans arrive as they
// end from another process or an OpenTelemetry Collector. The trace's spans
// then become the run's stages; a trace whose run never shows up in
// maxWait is dropped, and never written. Each waiting trace counts against
// WithMaxPendingRuns; the oldest is dropped to make room.
//
// Without it (the default, and for maxWait <= 0) a span that names no run
// is a stage only when its trace is a run's already, which the Processor
// knows from the run span's start, and every other span is ignored without
// being kept: the cost for the spans of other instrumentation stays that of
// reading their attributes.
func WithPendingSpans(maxWait time.Duration) Option {
	return optionFunc(func(c config) config {
		c.pendingWait = max(maxWait, 0)
		return c
	})
}

// WithLateStageWait makes the exporter wait up to d, after a run's root
// span arrives, for the run's stages still on their way (spans from several
// processes or hosts arrive in any order). When the root says how many
// stages the run had (stage_tracker.run.stage_count), the file is written as
// soon as that many of the root's own process have arrived. A stage that
// arrives after the file is written is merged into it, and counted in its
// late_stages: the wait only spares rewrites. The default, 0, writes the
// file when the root arrives.
func WithLateStageWait(d time.Duration) Option {
	return optionFunc(func(c config) config {
		c.lateWait = max(d, 0)
		return c
	})
}

// WithJournalAllRuns journals every run the exporter opens, not only those
// a Processor saw start: a run opened from ended spans (ExportSpans, as a
// Collector's exporter receives them) gets its journal with its first stage,
// and every stage after that is written to it as it arrives, so that Recover
// rebuilds the run, with every stage that arrived, after the process is
// killed. It costs a write per stage. Spans that wait for their trace's run
// (WithPendingSpans) are in memory only until the run is known: they have
// no run to be journaled under yet.
func WithJournalAllRuns() Option {
	return optionFunc(func(c config) config {
		c.journalAll = true
		return c
	})
}

// WithRunFilesInDirOnly makes the exporter write every run file as
// <dir>/<run_id>.json and ignore the path a run span names in
// stage_tracker.run.output_file (tracker.WithOutputFile). An exporter that
// receives spans from other processes or hosts (a Collector) needs it: a
// span must not choose where on this machine a file is written.
func WithRunFilesInDirOnly() Option {
	return optionFunc(func(c config) config {
		c.dirOnly = true
		return c
	})
}

// WithoutRecovery keeps a Processor of this exporter (NewProcessor) from
// recovering, in the background, the journals that processes which died
// left in the exporter's directory. Without it a Processor does, so that a
// program that registers one finds the runs of its crashed predecessors as
// run files; with it, call Recover when it suits (stagetrack recover does).
func WithoutRecovery() Option {
	return optionFunc(func(c config) config {
		c.recover = false
		return c
	})
}

// WithRunStore keeps the events of every open run in one store in the
// exporter's directory (<dir>/.openruns, a log of segment files, one
// process at a time), instead of a journal file per run: a process that
// holds many open runs at once (a Collector) then holds a handful of
// files and a few hundred bytes of memory per run. Every span a call to
// ExportSpans accepts is on disk when it returns (WithJournalSync: on the
// device), in one write for the call, with one fsync shared by the calls
// that wait together. The store is bounded (WithStoreLimits): past a
// bound a span is refused with an error wrapping ErrStoreFull and not
// kept. New opens the store; Resume takes over the runs a previous
// process left in it; Shutdown closes it, Detach keeps its open runs for
// the next exporter.
//
// The store is for exporters fed ended spans (ExportSpans); a
// Processor's runs and the journals that stagetrack's commands share
// across processes keep their per-run journal files.
func WithRunStore() Option {
	return optionFunc(func(c config) config {
		c.store = true
		return c
	})
}

// WithStoreLimits bounds the store of open runs (WithRunStore): at most
// openRuns runs open at once, runBytes bytes of events per run, and
// totalBytes bytes on disk. Values below 1 keep the defaults
// (DefaultMaxOpenRuns, DefaultMaxRunBytes, DefaultMaxStoreBytes).
func WithStoreLimits(openRuns int, runBytes, totalBytes int64) Option {
	return optionFunc(func(c config) config {
		if openRuns > 0 {
			c.storeLim.openRuns = openRuns
		}
		if runBytes > 0 {
			c.storeLim.runBytes = runBytes
		}
		if totalBytes > 0 {
			c.storeLim.totalBytes = totalBytes
			c.storeLim.segBytes = min(defaultSegmentBytes, max(totalBytes/16, 64<<10))
		}
		return c
	})
}

// WithStoreDir puts the store of open runs (WithRunStore) in dir instead
// of <dir>/.openruns. One process at a time holds a store: exporters of
// several processes that share a directory of run files each need their
// own. An empty dir is ignored.
func WithStoreDir(dir string) Option {
	return optionFunc(func(c config) config {
		if dir != "" {
			c.storeDir = dir
		}
		return c
	})
}

// WithOpenRunTimeout writes a run whose run span has not arrived d after
// its first span as incomplete (its run file says why), so that a run
// whose root never comes ends, and frees what it held. A run span that
// comes later completes that file. The default, 0, keeps such runs open.
func WithOpenRunTimeout(d time.Duration) Option {
	return optionFunc(func(c config) config {
		c.openTimeout = max(d, 0)
		return c
	})
}

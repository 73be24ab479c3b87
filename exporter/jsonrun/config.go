package jsonrun

import "os"

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

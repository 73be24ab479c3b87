package jsonrunexporter

import (
	"os"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// jsonrunOptions maps the configuration onto jsonrun's options.
func jsonrunOptions(c *Config) ([]jsonrun.Option, error) {
	perm, err := c.perm()
	if err != nil {
		return nil, err
	}
	opts := []jsonrun.Option{
		jsonrun.WithDir(c.Directory),
		jsonrun.WithFilePerm(os.FileMode(perm)),
		jsonrun.WithMaxPendingRuns(c.MaxPendingRuns),
		// Spans from other hosts and SDKs arrive in any order: those of a
		// trace whose run is not known yet wait for it, and a run whose
		// root arrived waits for its late stages.
		jsonrun.WithPendingSpans(c.RunWait),
		jsonrun.WithLateStageWait(c.LateSpanWait),
		// Spans come from the network: none chooses where a file goes.
		jsonrun.WithRunFilesInDirOnly(),
	}
	if c.RunRoots == RunRootsTraceRoot {
		opts = append(opts, jsonrun.WithRunRoots(jsonrun.TraceRoots))
	}
	if c.History != "" {
		opts = append(opts, jsonrun.WithHistory(c.History))
	}
	if c.Journal.Enabled {
		// This process only receives ended spans: without a journal for
		// every run, a crash would lose the stages it holds. They are kept
		// in one bounded store, not a file per run.
		opts = append(opts, jsonrun.WithJournalAllRuns(), jsonrun.WithRunStore(),
			jsonrun.WithStoreLimits(c.Store.MaxOpenRuns, c.Store.MaxRunBytes, c.Store.MaxBytes),
			jsonrun.WithStoreDir(c.Store.Directory))
	}
	if c.OpenRunTimeout > 0 {
		opts = append(opts, jsonrun.WithOpenRunTimeout(c.OpenRunTimeout))
	}
	if c.Journal.Sync {
		opts = append(opts, jsonrun.WithJournalSync())
	}
	return opts, nil
}

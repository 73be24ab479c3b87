package jsonrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// recoverWhy is why a run that RecoverStore writes without its run span is
// incomplete.
const recoverWhy = "the run span never reached the process whose store of open runs held these stages (after a ring change it went to another Collector, or it was never sent); written by a recovery of the store (stagetrack recover): merge this file with the run's other files (stagetrack merge)"

// RecoverStore writes every run open in the store of open runs of dir
// (WithRunStore: <dir>/.openruns, or WithStoreDir among opts) as a run
// file in dir, the way the exporter that held the store would have at its
// next start and at open_run_timeout: a run whose run span is in the store
// is written finished, one without as incomplete with a warning that says
// why, and a run whose file is in dir already has its stages merged into
// that file (by span id: a stage the file holds changes nothing). Each
// run written is marked done in the store, which then drops it. It
// returns the paths of the run files written or merged into.
//
// The store must not be held: when a live process (a Collector) holds
// it, RecoverStore returns an error wrapping ErrStoreInUse and changes
// nothing. A run whose file cannot be written stays in the store, and the
// error says how many did. A directory without a store is not an error:
// RecoverStore returns nothing. It is safe to call again (a store already
// recovered holds no runs) and from several goroutines or processes at
// once: the store's lock lets one in, the others get ErrStoreInUse.
func RecoverStore(ctx context.Context, dir string, opts ...Option) ([]string, error) {
	cfg := newConfig(append(slices.Clone(opts), WithDir(dir), WithRunStore()))
	storeDir := cfg.storeDir
	if storeDir == "" {
		storeDir = filepath.Join(cfg.dir, storeDirName)
	}
	if fi, err := os.Stat(storeDir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("jsonrun: recover %s: %w", storeDir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("jsonrun: recover %s: not a directory", storeDir)
	}
	// No timeout: nothing expires while the runs are written; Shutdown
	// writes the rootless ones, with recoverWhy.
	opts = append(slices.Clone(opts), WithDir(dir), WithRunStore(), WithStoreDir(storeDir), WithOpenRunTimeout(0))
	e, err := New(opts...)
	if errors.Is(err, ErrStoreInUse) {
		return nil, fmt.Errorf("jsonrun: recover %s: %w (a running Collector?): stop it first", storeDir, ErrStoreInUse)
	}
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(e.stored))
	for _, sr := range e.stored {
		ids = append(ids, sr.run.id)
	}
	_, rerr := e.resumeStore(ctx)
	e.mu.Lock()
	for _, r := range e.runs.byID {
		r.why = recoverWhy
	}
	e.mu.Unlock()
	serr := e.Shutdown(context.WithoutCancel(ctx))
	var paths []string
	for _, id := range ids {
		if p, ok := e.runFilePath(id); ok {
			paths = append(paths, p)
		}
	}
	errs := []error{rerr, serr}
	// What is left open in the store is what could not be written: read it
	// back rather than trust the bookkeeping.
	st, left, err := openStore(storeDir, cfg.dir, false, cfg.storeLim)
	if err != nil {
		errs = append(errs, err)
	} else {
		if len(left) > 0 {
			errs = append(errs, fmt.Errorf("jsonrun: recover %s: %d run(s) could not be written and stay in the store (first: %s)", storeDir, len(left), left[0].run.id))
		}
		errs = append(errs, st.close())
	}
	return paths, errors.Join(errs...)
}

package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// readRun reads a run file. A JSON file that has none of a run file's
// identifying keys is an error rather than an empty run.
func readRun(path string) (*jsonrun.Run, error) {
	if strings.HasSuffix(path, jsonrun.JournalSuffix) { // a live run: what it has so far
		return jsonrun.ReadJournal(path)
	}
	r, err := jsonrun.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if r.RunID == "" && r.StartTime.IsZero() && len(r.Stages) == 0 {
		return nil, fmt.Errorf("%s: not a run file (no run_id, start_time or stages)", path)
	}
	return r, nil
}

// readRuns reads every file in paths, in order, stopping at the first
// error.
func readRuns(paths []string) ([]*jsonrun.Run, error) {
	runs := make([]*jsonrun.Run, 0, len(paths))
	for _, p := range paths {
		r, err := readRun(p)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// runFiles expands paths into run files: a file is taken as it is; a
// directory is walked for *.json files, skipping names that start with a
// dot (the exporter's temporary files, hidden directories). The result is
// sorted and free of duplicates.
func runFiles(ctx context.Context, paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && strings.HasSuffix(name, ".json") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// forEachRun reads files with a pool of workers and calls fn(worker, run)
// for each run read; fn may be called concurrently for different workers,
// never for the same one. Files that cannot be read are returned as
// errors, sorted by file name; the other files are still read. It stops
// early, returning ctx's error, when ctx ends.
func forEachRun(ctx context.Context, files []string, workers int, fn func(worker int, r *jsonrun.Run)) (fileErrs []error, err error) {
	workers = max(1, min(workers, len(files)))
	paths := make(chan string)
	var (
		mu   sync.Mutex
		errs []fileError
		wg   sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for p := range paths {
				r, err := readRun(p)
				if err != nil {
					mu.Lock()
					errs = append(errs, fileError{p, err})
					mu.Unlock()
					continue
				}
				fn(w, r)
			}
		})
	}
	var ctxErr error
feed:
	for _, p := range files {
		select {
		case paths <- p:
		case <-ctx.Done():
			ctxErr = ctx.Err()
			break feed
		}
	}
	close(paths)
	wg.Wait()
	slices.SortFunc(errs, func(a, b fileError) int { return strings.Compare(a.path, b.path) })
	for _, e := range errs {
		fileErrs = append(fileErrs, e.err)
	}
	return fileErrs, ctxErr
}

type fileError struct {
	path string
	err  error
}

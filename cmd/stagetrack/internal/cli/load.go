package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// loadedRun is a run and where it was read from: the file, or the file
// and the run's index in a history ("history/pipeline_history.json[3]").
type loadedRun struct {
	run   *runfile.Run
	label string
}

// readFileRuns reads the runs in a file: a run file, or a history (the
// Python tool's JSON array, or JSON Lines). A path ending in [i] that is
// not itself a file picks the run at index i of a history. A JSON file
// that has none of a run file's identifying keys is an error rather than an
// empty run. The runs read are returned even when some could not be.
func readFileRuns(path string) ([]loadedRun, error) {
	if strings.HasSuffix(path, jsonrun.JournalSuffix) { // a live run: what it has so far
		r, err := jsonrun.ReadJournal(path)
		if err != nil {
			return nil, fileErr(path, err)
		}
		return []loadedRun{{r, path}}, nil
	}
	file, index, picked := splitIndex(path)
	runs, err := runfile.ReadRuns(file)
	if err != nil && len(runs) == 0 {
		return nil, fileErr(file, err)
	}
	if picked {
		if index >= len(runs) {
			return nil, fmt.Errorf("%s: no run at index %d (the file holds %d)", file, index, len(runs))
		}
		return []loadedRun{{runs[index], path}}, nil
	}
	out := make([]loadedRun, 0, len(runs))
	for i, r := range runs {
		label := file
		if len(runs) > 1 {
			label = fmt.Sprintf("%s[%d]", file, i)
		}
		if r.RunID == "" && r.StartTime.IsZero() && len(r.Stages) == 0 {
			return nil, fmt.Errorf("%s: not a run file (no run_id, start_time or stages)", label)
		}
		out = append(out, loadedRun{r, label})
	}
	return out, err
}

// fileErr words an error reading path for a person: the path once, then
// what is wrong.
func fileErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("%s: no such file or directory", path)
		case errors.Is(err, syscall.EISDIR):
			return fmt.Errorf("%s is a directory: give the run files in it (%s)", path, filepath.Join(path, "*.json"))
		case errors.Is(err, fs.ErrPermission):
			return fmt.Errorf("%s: permission denied", path)
		}
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return err
}

// pathless drops the path from an *fs.PathError, for a message that names
// the path the user gave rather than, say, a temporary file's.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readRegular reads a regular file; see runfile.ReadRegular.
func readRegular(path string) ([]byte, error) { return runfile.ReadRegular(path) }

// splitIndex splits "file[3]" into "file" and 3 when file[3] is not itself
// a file.
func splitIndex(path string) (file string, index int, ok bool) {
	if !strings.HasSuffix(path, "]") {
		return path, 0, false
	}
	open := strings.LastIndexByte(path, '[')
	if open < 0 {
		return path, 0, false
	}
	n, err := strconv.Atoi(path[open+1 : len(path)-1])
	if err != nil || n < 0 {
		return path, 0, false
	}
	if _, err := os.Lstat(path); err == nil {
		return path, 0, false
	}
	return path[:open], n, true
}

// readLabeled reads every file in paths, in order, stopping at the first
// error or when ctx ends (Ctrl-C). A path that is not a regular file (a
// FIFO, a device, also behind a symbolic link) is skipped, unread, with a
// one-line note on notes; when nothing is left that is an error.
func readLabeled(ctx context.Context, paths []string, notes io.Writer) ([]loadedRun, error) {
	runs := make([]loadedRun, 0, len(paths))
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rs, err := readFileRuns(p)
		if errors.Is(err, runfile.ErrNotRegular) {
			fmt.Fprintf(notes, "stagetrack: note: skipped %v\n", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		runs = append(runs, rs...)
	}
	if len(runs) == 0 {
		return nil, errors.New("no run files to read: every argument was skipped")
	}
	return runs, nil
}

// byStart orders runs by start time, oldest first; runs with equal start
// times (or none) keep their order.
func byStart(runs []loadedRun) {
	slices.SortStableFunc(runs, func(a, b loadedRun) int { return a.run.StartTime.Compare(b.run.StartTime) })
}

// printNotes prints, one line each, what reading the runs assumed.
func printNotes(w io.Writer, runs []loadedRun) {
	for _, l := range runs {
		for _, n := range l.run.Notes {
			fmt.Fprintf(w, "stagetrack: note: %s: %s\n", l.label, n)
		}
	}
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
			return nil, fileErr(p, err)
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
// never for the same one. Files that cannot be read, whole or in part (a
// history's runs that are not runs), are returned as errors, one per
// unreadable run, sorted by file name, and counted in badFiles, one per
// file; the other files are still read. It stops early, returning ctx's
// error, when ctx ends.
//
// Files that are not regular (a FIFO, a device behind a symbolic link) are
// not read; they are returned in skipped.
func forEachRun(ctx context.Context, files []string, workers int, fn func(worker int, r *runfile.Run)) (fileErrs, skipped []error, badFiles int, err error) {
	workers = max(1, min(workers, len(files)))
	paths := make(chan string)
	var (
		mu    sync.Mutex
		errs  []fileError
		skips []fileError
		wg    sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for p := range paths {
				rs, err := readFileRuns(p)
				if errors.Is(err, runfile.ErrNotRegular) {
					mu.Lock()
					skips = append(skips, fileError{p, err})
					mu.Unlock()
					continue
				}
				if err != nil {
					mu.Lock()
					// A history's unreadable runs are reported one a line.
					if j, ok := err.(interface{ Unwrap() []error }); ok {
						for _, e := range j.Unwrap() {
							errs = append(errs, fileError{p, e})
						}
					} else {
						errs = append(errs, fileError{p, err})
					}
					mu.Unlock()
				}
				for _, r := range rs {
					fn(w, r.run)
				}
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
	byPath := func(a, b fileError) int { return strings.Compare(a.path, b.path) }
	slices.SortStableFunc(errs, byPath)
	for i, e := range errs {
		fileErrs = append(fileErrs, e.err)
		if i == 0 || errs[i-1].path != e.path {
			badFiles++
		}
	}
	slices.SortStableFunc(skips, byPath)
	for _, e := range skips {
		skipped = append(skipped, e.err)
	}
	return fileErrs, skipped, badFiles, ctxErr
}

type fileError struct {
	path string
	err  error
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// runEntry is a run as a listing sees it: what ls prints and what run
// arguments (an id prefix, latest) are resolved by.
type runEntry struct {
	file   string // the path, or path[i] for a run of a history
	runID  string
	name   string
	status string
	start  time.Time
	dur    time.Duration
	stages int
	args   json.RawMessage
}

// readEntries reads the runs of one file as entries. A run file that says
// its status and stage count is read by its top-level fields only
// (runfile.ScanHeader), its stages skipped unparsed; any other (a history,
// a Python tool's run, a journal) is decoded whole.
func readEntries(path string) ([]runEntry, error) {
	if !strings.HasSuffix(path, jsonrun.JournalSuffix) {
		b, err := runfile.ReadRegular(path)
		if err != nil {
			return nil, fileErr(path, err)
		}
		if h, ok := runfile.ScanHeader(b); ok {
			dur := time.Duration(h.TotalDurationSec * float64(time.Second))
			return []runEntry{{file: path, runID: h.RunID, name: h.Name, status: h.Status, start: h.StartTime,
				dur: dur, stages: h.StageCount, args: bytes.Clone(h.Args)}}, nil // not the whole file's bytes
		}
	}
	runs, err := readFileRuns(path)
	out := make([]runEntry, 0, len(runs))
	for _, l := range runs {
		r := l.run
		rows := runtree.Flatten(r)
		out = append(out, runEntry{file: l.label, runID: r.RunID, name: r.Name, status: runtree.RunStatus(r),
			start: r.StartTime, dur: runtree.Duration(r, rows), stages: len(rows), args: r.Args})
	}
	return out, err
}

// scanEntries reads the entries of files with jobs workers, in the order
// of files. Files that cannot be read are returned as errors, one a line,
// and left out; files that are not regular are skipped silently.
func scanEntries(ctx context.Context, files []string, jobs int) ([]runEntry, []error, error) {
	per := make([][]runEntry, len(files))
	errs := make([]error, len(files))
	idx := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(jobs, len(files))) {
		wg.Go(func() {
			for i := range idx {
				per[i], errs[i] = readEntries(files[i])
			}
		})
	}
	var ctxErr error
feed:
	for i := range files {
		select {
		case idx <- i:
		case <-ctx.Done():
			ctxErr = ctx.Err()
			break feed
		}
	}
	close(idx)
	wg.Wait()
	if ctxErr != nil {
		return nil, nil, ctxErr
	}
	var (
		out []runEntry
		bad []error
	)
	for i := range files {
		out = append(out, per[i]...)
		if errs[i] != nil && !errors.Is(errs[i], runfile.ErrNotRegular) {
			bad = append(bad, errs[i])
		}
	}
	return out, bad, nil
}

// newestFirst orders entries by start time, newest first, runs without a
// start time last, ties by file.
func newestFirst(es []runEntry) {
	slices.SortStableFunc(es, func(a, b runEntry) int {
		switch {
		case a.start.IsZero() != b.start.IsZero():
			if a.start.IsZero() {
				return 1
			}
			return -1
		case !a.start.Equal(b.start):
			return b.start.Compare(a.start)
		}
		return strings.Compare(a.file, b.file)
	})
}

// shortIDs returns each entry's id as ls prints it: its first eight
// characters (runtree.ShortID), or, where other listed runs share those,
// the shortest prefix no other listed run has, so that every id printed can
// be given back to show.
func shortIDs(es []runEntry) []string {
	out := make([]string, len(es))
	count := map[string]int{}
	for i, e := range es {
		out[i] = runtree.ShortID(e.runID)
		count[out[i]]++
	}
	sorted := make([]string, 0, len(es))
	for _, e := range es {
		sorted = append(sorted, e.runID)
	}
	slices.Sort(sorted)
	common := func(a, b string) int {
		n := 0
		for n < len(a) && n < len(b) && a[n] == b[n] {
			n++
		}
		return n
	}
	for i, e := range es {
		if count[out[i]] < 2 {
			continue
		}
		j, _ := slices.BinarySearch(sorted, e.runID)
		n := 0
		if j > 0 {
			n = max(n, common(e.runID, sorted[j-1]))
		}
		for k := j + 1; k < len(sorted); k++ {
			if sorted[k] != e.runID {
				n = max(n, common(e.runID, sorted[k]))
				break
			}
		}
		out[i] = e.runID[:min(len(e.runID), n+1)]
	}
	return out
}

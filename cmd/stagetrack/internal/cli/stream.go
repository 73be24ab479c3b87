package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// streamRuns is readLabeled for a consumer that needs no run after it has
// seen it (report): files are read by jobs workers ahead of fn, which gets
// their runs one at a time in the order of paths, so at most about jobs
// files' runs are in memory at once. It stops at the first file that
// cannot be read, or when ctx ends; files that are not regular are skipped
// with a note on notes, and when nothing is left that is an error.
func streamRuns(ctx context.Context, paths []string, jobs int, notes io.Writer, fn func(loadedRun)) error {
	type result struct {
		runs []loadedRun
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make(chan chan result, max(1, jobs))
	go func() {
		defer close(slots)
		for _, p := range paths {
			c := make(chan result, 1)
			select {
			case slots <- c:
			case <-ctx.Done():
				return
			}
			go func() {
				rs, err := readFileRuns(p)
				c <- result{rs, err}
			}()
		}
	}()
	read := 0
	for c := range slots {
		var r result
		select {
		case r = <-c:
		case <-ctx.Done():
			return ctx.Err()
		}
		if errors.Is(r.err, runfile.ErrNotRegular) {
			fmt.Fprintf(notes, "stagetrack: note: skipped %v\n", r.err)
			continue
		}
		if r.err != nil {
			return r.err
		}
		for _, l := range r.runs {
			fn(l)
			read++
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if read == 0 {
		return errors.New("no run files to read: every argument was skipped")
	}
	return nil
}

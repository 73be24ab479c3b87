package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// defaultRunDir is where run, start and exec write run files unless told
// otherwise (--dir), and so where a bare run id or latest is looked for.
const defaultRunDir = "runs"

// latest is the run argument that names the newest run of a directory.
const latest = "latest"

// resolveRuns turns the run arguments of a command into the files to read,
// in the order given, each once. This is the one place the rules live; every
// command that reads runs calls it. An argument is, in this order:
//
//   - a file: itself (a run file, a history, a journal; FILE[i] picks the
//     run at index i of a history);
//   - a directory: the run files in it (see runFiles);
//   - latest, or DIR/latest: the run of DIR (default runs) that started
//     last;
//   - an id prefix, or DIR/PREFIX: the one run of DIR (default runs) whose
//     run id starts with PREFIX (case-insensitive). None or several is an
//     error, the latter naming how many matched.
func resolveRuns(ctx context.Context, args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(fs ...string) {
		for _, f := range fs {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	for _, a := range args {
		files, err := resolveRun(ctx, a)
		if err != nil {
			return nil, err
		}
		add(files...)
	}
	return out, nil
}

// resolveRun resolves one run argument; see resolveRuns.
func resolveRun(ctx context.Context, arg string) ([]string, error) {
	fi, err := os.Stat(arg)
	switch {
	case err == nil && fi.IsDir():
		files, err := runFiles(ctx, []string{arg})
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no run files (*.json) in %s", arg)
		}
		return files, nil
	case err == nil, !errors.Is(err, fs.ErrNotExist), arg == "":
		return []string{arg}, nil // a file, or an error reading it reports
	}
	if file, _, picked := splitIndex(arg); picked {
		if _, err := os.Stat(file); err == nil {
			return []string{arg}, nil
		}
	}
	dir, name := filepath.Split(arg)
	if strings.HasSuffix(name, jsonrun.JournalSuffix) || strings.HasSuffix(name, ".json") || name == "" {
		return nil, fileErr(arg, err) // a file name, not an id
	}
	if dir == "" {
		dir = defaultRunDir
	}
	dir = filepath.Clean(dir)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s: no such file or directory, and no directory %s to look for a run id or %s in", arg, dir, latest)
	}
	files, err := runFiles(ctx, []string{dir})
	if err != nil {
		return nil, err
	}
	entries, _, err := scanEntries(ctx, files, 2*runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	if name == latest {
		newestFirst(entries)
		if len(entries) == 0 || entries[0].start.IsZero() {
			return nil, fmt.Errorf("%s: no run with a start time in %s", arg, dir)
		}
		return []string{entries[0].file}, nil
	}
	var match []runEntry
	for _, e := range entries {
		if len(e.runID) >= len(name) && strings.EqualFold(e.runID[:len(name)], name) {
			match = append(match, e)
		}
	}
	switch len(match) {
	case 0:
		return nil, fmt.Errorf("%s: no such file, and no run in %s has an id starting with %s", arg, dir, name)
	case 1:
		return []string{match[0].file}, nil
	}
	newestFirst(match)
	ids := shortIDs(match)[:min(3, len(match))]
	more := ""
	if len(match) > 3 {
		more = ", …"
	}
	return nil, fmt.Errorf("%s is ambiguous: %d runs in %s have an id starting with it (%s%s); give more of the id",
		name, len(match), dir, strings.Join(ids, ", "), more)
}

package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/flatjson"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
)

func newLsCommand(env *Env) *cobra.Command {
	var (
		statuses []string
		name     string
		since    string
		params   []string
		limit    int
		width    int
		jobs     int
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "ls [RUN...]",
		Short: "List runs, newest first, with the parameters that differ between them",
		Long: `ls lists runs, one a line, newest first: the run id's first eight
characters, the name, the status, the start (UTC), the duration, the number of
stage records, and then a column for each parameter whose value differs
between the runs listed (a parameter is a key of the run's args, nested
objects as dotted keys: opt.lr; "-" where a run lacks it). Parameters every
listed run shares are not shown.

Without RUN it lists runs/ (where run, start and exec write). A RUN is what
every command takes: a directory, a file, latest, or the start of a run id.

Filters, all of which a run must pass: --status (repeatable, or
comma-separated), --name (a glob, as the shell's: 'train-*'), --since (a
duration before now, 36h or 7d, or a date, 2025-05-05 or an RFC 3339 time),
--param KEY=VALUE (repeatable; VALUE is typed as --data's is, so seed=12
matches the number 12 and the string "12").

A run file is read by its top-level fields only; its stages are not decoded.
Files that cannot be read are reported on stderr and ls exits 1 after
listing the others.`,
		Example: example(
			"stagetrack ls",
			"stagetrack ls --status failed --since 7d",
			"stagetrack ls --param seed=12 --param model=resnet18 runs/",
			"stagetrack ls --json | jq -r '.[0].file'",
		),
		GroupID: groupLook,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if limit < 0 {
				return usagef("-n must not be negative, not %d", limit)
			}
			if jobs < 1 {
				return usagef("--jobs must be at least 1, not %d", jobs)
			}
			if _, err := path.Match(name, ""); err != nil {
				return usagef("--name %q is not a glob: %v", name, err)
			}
			f := lsFilter{name: name}
			for _, s := range statuses {
				for st := range strings.SplitSeq(s, ",") {
					if st = strings.TrimSpace(st); st != "" {
						f.statuses = append(f.statuses, st)
					}
				}
			}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return usagef("--since %q: %v", since, err)
				}
				f.since = t
			}
			for _, p := range params {
				k, v, ok := strings.Cut(p, "=")
				if !ok || k == "" {
					return usagef("--param %q: want KEY=VALUE", p)
				}
				f.params = append(f.params, paramWant{k, v})
			}
			if len(args) == 0 {
				args = []string{defaultRunDir}
			}
			ctx := cmd.Context()
			files, err := resolveRuns(ctx, args)
			if err != nil {
				return err
			}
			entries, bad, err := scanEntries(ctx, files, jobs)
			if err != nil {
				return err
			}
			for _, e := range bad {
				fmt.Fprintf(env.Stderr, "stagetrack: skipped %v\n", e)
			}
			listed := entries[:0]
			for _, e := range entries {
				if f.keep(e) {
					listed = append(listed, e)
				}
			}
			newestFirst(listed)
			if limit > 0 && len(listed) > limit {
				listed = listed[:limit]
			}
			var out string
			if asJSON {
				out, err = lsJSON(listed)
				if err != nil {
					return err
				}
			} else if len(listed) > 0 {
				out = lsTable(listed, env.viewOptions(env.Stdout, width))
			}
			if err := write(env.Stdout, out); err != nil {
				return err
			}
			if len(bad) > 0 {
				return &reportedError{summary: fmt.Sprintf("%d of %d files could not be read", len(bad), len(files))}
			}
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&statuses, "status", nil, "only runs with this status (ok, failed, incomplete, interrupted, crashed); repeatable")
	fl.StringVar(&name, "name", "", "only runs whose name matches this glob")
	fl.StringVar(&since, "since", "", "only runs started since: a duration before now (36h, 7d) or a date (2025-05-05)")
	fl.StringArrayVar(&params, "param", nil, "only runs whose parameter KEY has VALUE (KEY=VALUE); repeatable")
	fl.IntVarP(&limit, "limit", "n", 0, "list at most this many runs, the newest (0: all)")
	fl.BoolVar(&asJSON, "json", false, "print the runs as a JSON array")
	fl.IntVarP(&width, "width", "w", 0, "columns to fit (default: $COLUMNS, the terminal's width, or 100)")
	fl.IntVarP(&jobs, "jobs", "j", max(4, 2*runtime.GOMAXPROCS(0)), "files to read at once")
	return cmd
}

// lsFilter is what a run must match to be listed.
type lsFilter struct {
	statuses []string
	name     string
	since    time.Time
	params   []paramWant
}

type paramWant struct{ key, value string }

func (f lsFilter) keep(e runEntry) bool {
	if len(f.statuses) > 0 && !slices.Contains(f.statuses, e.status) {
		return false
	}
	if f.name != "" {
		if ok, _ := path.Match(f.name, e.name); !ok {
			return false
		}
	}
	if !f.since.IsZero() && e.start.Before(f.since) {
		return false
	}
	if len(f.params) == 0 {
		return true
	}
	got := params(e)
	for _, p := range f.params {
		v, ok := got[p.key]
		if !ok || !paramEqual(v, p.value) {
			return false
		}
	}
	return true
}

// params returns a run's parameters: its args flattened to dotted keys,
// each with its JSON text. Args that are not an object are one parameter,
// "args".
func params(e runEntry) map[string][]byte {
	m := map[string][]byte{}
	flatjson.Walk(e.args, func(k string, v []byte) {
		if k == "" {
			k = "args"
		}
		m[k] = v
	})
	return m
}

// paramEqual reports whether the parameter value v (JSON text) is what
// want, typed as --data types it, says: the same text, the same number,
// or the same JSON value.
func paramEqual(v []byte, want string) bool {
	if flatjson.Text(v) == want {
		return true
	}
	if a, ok := flatjson.Number(v); ok {
		b, err := strconv.ParseFloat(want, 64)
		return err == nil && a == b
	}
	w, err := json.Marshal(dataValue(want))
	if err != nil {
		return false
	}
	var c bytes.Buffer
	return json.Compact(&c, v) == nil && bytes.Equal(c.Bytes(), w)
}

// differing returns the parameter keys whose values are not the same in
// every entry (missing counts as a value), sorted.
func differing(ps []map[string][]byte) []string {
	keys := map[string]bool{}
	for _, p := range ps {
		for k := range p {
			keys[k] = true
		}
	}
	var out []string
	for k := range keys {
		first, had := ps[0][k]
		for _, p := range ps[1:] {
			v, has := p[k]
			if has != had || !bytes.Equal(v, first) {
				out = append(out, k)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

func lsTable(es []runEntry, o view.Options) string {
	ps := make([]map[string][]byte, len(es))
	for i, e := range es {
		ps[i] = params(e)
	}
	keys := differing(ps)
	head := append([]string{"ID", "NAME", "STATUS", "STARTED", "DURATION", "STAGES"}, keys...)
	right := []bool{false, false, false, false, true, true}
	ids := shortIDs(es)
	rows := make([][]string, len(es))
	for i, e := range es {
		started := "-"
		if !e.start.IsZero() {
			started = e.start.UTC().Format("2006-01-02 15:04:05")
		}
		row := []string{ids[i], e.name, e.status, started, view.Duration(e.dur), strconv.Itoa(e.stages)}
		for _, k := range keys {
			v, ok := ps[i][k]
			if !ok {
				row = append(row, "-")
				continue
			}
			row = append(row, flatjson.Text(v))
		}
		rows[i] = row
	}
	return view.Table(head, rows, right, o)
}

// lsRun is one run as ls --json prints it.
type lsRun struct {
	ID          string                     `json:"run_id"`
	File        string                     `json:"file"`
	Name        string                     `json:"name"`
	Status      string                     `json:"status"`
	StartTime   string                     `json:"start_time,omitempty"`
	DurationSec float64                    `json:"duration_sec"`
	Stages      int                        `json:"stages"`
	Params      map[string]json.RawMessage `json:"params"`
}

func lsJSON(es []runEntry) (string, error) {
	out := make([]lsRun, len(es))
	for i, e := range es {
		r := lsRun{ID: e.runID, File: e.file, Name: e.name, Status: e.status, DurationSec: e.dur.Seconds(),
			Stages: e.stages, Params: map[string]json.RawMessage{}}
		if !e.start.IsZero() {
			r.StartTime = e.start.UTC().Format(time.RFC3339Nano)
		}
		for k, v := range params(e) {
			r.Params[k] = json.RawMessage(v)
		}
		out[i] = r
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}

// parseSince reads --since: a duration before now (Go's, 36h or 90m, or
// whole days, 7d), or a date or time (2025-05-05, 2025-05-05T10:00:00Z).
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want a duration (36h, 7d) or a date (2025-05-05)")
}

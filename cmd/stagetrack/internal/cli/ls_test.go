package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// lsRun describes a run file for the tests of ls and of run arguments.
type lsRun struct {
	id, name, status string
	start            time.Time
	args             string // JSON, "" for none
	stages           []runfile.Stage
}

// writeRuns writes each run as dir/<id>.json and returns the paths.
func writeRuns(t *testing.T, dir string, runs ...lsRun) []string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, lr := range runs {
		stages := lr.stages
		if stages == nil {
			st := runfile.StageOK
			var e string
			if lr.status == runfile.StatusFailed {
				st, e = runfile.StageError, "exit status 1"
			}
			stages = runfile.Stages{{Key: "train", Name: "train", Attempt: 1, StartTime: lr.start, EndTime: lr.start.Add(2 * time.Second),
				DurationSec: 2, Status: st, Error: e, Data: json.RawMessage(`{"loss":0.5}`), SpanID: "00000000000000b1"}}
		}
		r := &runfile.Run{RunID: lr.id, Name: lr.name, Status: lr.status, StartTime: lr.start, CompletedAt: lr.start.Add(3 * time.Second),
			TotalDurationSec: 3, SchemaVersion: runfile.SchemaVersion, Stages: stages, StageCount: countStages(stages),
			TraceID: "0000000000000000000000000000000a", SpanID: "00000000000000a1"}
		if lr.status == runfile.StatusFailed {
			r.Error = `stage "train" failed: exit status 1`
		}
		if lr.args != "" {
			r.Args = json.RawMessage(lr.args)
		}
		p := filepath.Join(dir, lr.id+".json")
		if err := runfile.WriteFile(p, r, 0o644, true); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func countStages(s runfile.Stages) int {
	n := 0
	s.Walk(func(*runfile.Stage) { n++ })
	return n
}

// seedRuns are 20 runs of one pipeline a minute apart, the newest first
// started an hour before now, their args differing in seed only.
func seedRuns(t *testing.T, dir string) []lsRun {
	t.Helper()
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var runs []lsRun
	for i := range 20 {
		status := runfile.StatusOK
		if i%5 == 4 {
			status = runfile.StatusFailed
		}
		name := "train"
		if i%2 == 1 {
			name = "evaluate"
		}
		runs = append(runs, lsRun{
			id: fmt.Sprintf("%08x-0000-4000-8000-%012d", 0xa0000000+i, i), name: name, status: status,
			start: base.Add(-time.Duration(i) * time.Minute),
			args:  fmt.Sprintf(`{"seed":%d,"lr":0.1,"opt":{"name":"adam"}}`, i),
		})
	}
	writeRuns(t, dir, runs...)
	return runs
}

// TestLsListsRunsWithDifferingParams: 20 runs whose args differ in seed
// are listed newest first, one a line, with a seed column and none for the
// parameters they share (on main, ls was an unknown command).
func TestLsListsRunsWithDifferingParams(t *testing.T) {
	t.Chdir(t.TempDir())
	runs := seedRuns(t, "runs")
	r := stagetrack(t, "ls")
	if r.code != cli.ExitOK || r.stderr != "" {
		t.Fatalf("ls: code %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 21 {
		t.Fatalf("ls printed %d lines, want a header and 20 runs:\n%s", len(lines), r.stdout)
	}
	head := strings.Fields(lines[0])
	want := []string{"ID", "NAME", "STATUS", "STARTED", "DURATION", "STAGES", "seed"}
	if strings.Join(head, " ") != strings.Join(want, " ") {
		t.Errorf("header %q, want %q (lr and opt.name are the same in every run)", head, want)
	}
	for i, line := range lines[1:] {
		f := strings.Fields(line)
		// ID NAME STATUS DATE TIME DURATION STAGES seed
		if len(f) != 8 || f[0] != runs[i].id[:8] || f[1] != runs[i].name || f[2] != runs[i].status || f[7] != fmt.Sprint(i) || f[6] != "1" {
			t.Errorf("line %d = %q, want run %s (seed %d, %s, %s)", i+1, line, runs[i].id[:8], i, runs[i].name, runs[i].status)
		}
	}
	if !strings.Contains(lines[1], runs[0].start.Format("2006-01-02 15:04:05")) {
		t.Errorf("first line %q lacks the start %s", lines[1], runs[0].start)
	}
}

// TestLsFilters: each filter, alone and combined, and --json.
func TestLsFilters(t *testing.T) {
	t.Chdir(t.TempDir())
	seedRuns(t, "runs")
	old := time.Now().UTC().Add(-72 * time.Hour)
	writeRuns(t, "runs", lsRun{id: "0ld00000-0000-4000-8000-000000000000", name: "train", status: runfile.StatusOK, start: old, args: `{"seed":12}`})
	ids := func(r string) []string { // the seeds listed, in order
		var out []string
		lines := strings.Split(strings.TrimSuffix(r, "\n"), "\n")
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			out = append(out, f[0])
		}
		return out
	}
	id := func(i int) string { return fmt.Sprintf("%08x", 0xa0000000+i) }
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"status failed", []string{"--status", "failed"}, []string{id(4), id(9), id(14), id(19)}},
		{"status list", []string{"--status", "failed,interrupted", "-n", "2"}, []string{id(4), id(9)}},
		{"name glob", []string{"--name", "eval*", "-n", "3"}, []string{id(1), id(3), id(5)}},
		{"since duration", []string{"--since", "1h3m", "--name", "train"}, []string{id(0), id(2)}},
		{"since days", []string{"--since", "2d", "--param", "seed=12"}, []string{id(12)}},
		{"since date", []string{"--since", old.Add(-time.Hour).Format("2006-01-02T15:04:05Z"), "--param", "seed=12"}, []string{id(12), "0ld00000"}},
		{"param number", []string{"--param", "seed=12"}, []string{id(12), "0ld00000"}},
		{"param nested string", []string{"--param", "opt.name=adam", "--param", "seed=7"}, []string{id(7)}},
		{"param and status", []string{"--param", "lr=0.10", "--status", "failed", "--name", "train"}, []string{id(4), id(14)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := stagetrack(t, append([]string{"ls"}, tc.args...)...)
			if r.code != cli.ExitOK {
				t.Fatalf("code %d, stderr %q", r.code, r.stderr)
			}
			if got := ids(r.stdout); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("listed %q, want %q\n%s", got, tc.want, r.stdout)
			}
		})
	}
	t.Run("no match prints nothing", func(t *testing.T) {
		r := stagetrack(t, "ls", "--param", "seed=99")
		if r.code != cli.ExitOK || r.stdout != "" {
			t.Errorf("code %d, stdout %q", r.code, r.stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := stagetrack(t, "ls", "--json", "--param", "seed=3")
		var got []struct {
			RunID       string                     `json:"run_id"`
			File        string                     `json:"file"`
			Status      string                     `json:"status"`
			StartTime   string                     `json:"start_time"`
			DurationSec float64                    `json:"duration_sec"`
			Stages      int                        `json:"stages"`
			Params      map[string]json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("ls --json: %v\n%s", err, r.stdout)
		}
		if len(got) != 1 || got[0].File != filepath.Join("runs", got[0].RunID+".json") || got[0].Stages != 1 ||
			got[0].DurationSec != 3 || string(got[0].Params["seed"]) != "3" || string(got[0].Params["opt.name"]) != `"adam"` {
			t.Errorf("ls --json = %+v", got)
		}
	})
	for _, tc := range []struct{ name, flag string }{
		{"bad since", "--since=yesterday"}, {"bad param", "--param=seed"}, {"bad glob", "--name=[x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := stagetrack(t, "ls", tc.flag); r.code != cli.ExitUsage || strings.Count(r.stderr, "stagetrack:") != 1 {
				t.Errorf("code %d, stderr %q", r.code, r.stderr)
			}
		})
	}
}

// TestLsHostileNames: names, statuses and parameters that hold escape
// sequences or line breaks print as one clean line each.
func TestLsHostileNames(t *testing.T) {
	t.Chdir(t.TempDir())
	now := time.Now().UTC()
	writeRuns(t, "runs",
		lsRun{id: "e5c00000-0000-4000-8000-000000000001", name: "\x1b[2J\x1b]0;pwned\x07evil\nsecond line", status: "ok\x1b[31m", start: now, args: `{"x\u001b[1m":"a\nb","seed":1}`},
		lsRun{id: "e5c00000-0000-4000-8000-000000000002", name: "\u202eplain", status: runfile.StatusOK, start: now.Add(-time.Second), args: `{"seed":2}`},
	)
	r := stagetrack(t, "ls")
	if r.code != cli.ExitOK {
		t.Fatalf("code %d, stderr %q", r.code, r.stderr)
	}
	if strings.ContainsAny(r.stdout, "\x1b\x07\u202e") {
		t.Errorf("ls printed a control character: %q", r.stdout)
	}
	if n := strings.Count(r.stdout, "\n"); n != 3 {
		t.Errorf("ls printed %d lines, want 3:\n%s", n, r.stdout)
	}
}

// TestLsIDsCanBeGivenBack: where listed runs share their first eight
// characters, ls prints the shortest prefix that tells each apart, so that
// every id it prints names one run for show.
func TestLsIDsCanBeGivenBack(t *testing.T) {
	t.Chdir(t.TempDir())
	now := time.Now().UTC()
	writeRuns(t, "runs",
		lsRun{id: "abcdef12-0000-4000-8000-000000000001", name: "a", status: runfile.StatusOK, start: now},
		lsRun{id: "abcdef12-0000-4000-8000-000000000002", name: "b", status: runfile.StatusOK, start: now.Add(-time.Second)},
		lsRun{id: "12345678-0000-4000-8000-000000000003", name: "c", status: runfile.StatusOK, start: now.Add(-2 * time.Second)},
	)
	r := stagetrack(t, "ls")
	var ids []string
	for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")[1:] {
		ids = append(ids, strings.Fields(l)[0])
	}
	want := []string{"abcdef12-0000-4000-8000-000000000001", "abcdef12-0000-4000-8000-000000000002", "12345678"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("ids %q, want %q", ids, want)
	}
	for i, id := range ids {
		if s := stagetrack(t, "show", id); s.code != cli.ExitOK || !strings.Contains(s.stdout, "  "+[]string{"a", "b", "c"}[i]+"\n") {
			t.Errorf("show %s: code %d, stderr %q", id, s.code, s.stderr)
		}
	}
}

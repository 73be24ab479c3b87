package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runstats"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
)

// writeSynthetic writes runfixture.Synthetic(0..n-1) into dir.
func writeSynthetic(tb testing.TB, dir string, n int) {
	tb.Helper()
	for i := range n {
		r := runfixture.Synthetic(i)
		if err := os.WriteFile(filepath.Join(dir, r.RunID+".json"), r.AppendIndent(nil), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestStatsGolden(t *testing.T) {
	synth := t.TempDir()
	writeSynthetic(t, synth, 200)
	cases := []struct {
		name string
		args []string
	}{
		{"fixtures", []string{"stats", filepath.Join("testdata", "runs")}},
		{"fixtures-json", []string{"stats", "--json", filepath.Join("testdata", "runs")}},
		{"train-files", []string{"stats", runFile("train-a"), runFile("train-b")}},
		{"synthetic-200", []string{"stats", synth}},
		{"synthetic-200-one-job", []string{"stats", "--jobs", "1", synth}},
		{"synthetic-200-json", []string{"stats", "--json", synth}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := stagetrack(t, c.args...)
			wantCode(t, r, cli.ExitOK)
			name := strings.TrimSuffix(c.name, "-one-job") // same output, whatever the parallelism
			golden(t, filepath.Join("stats", name+".golden"), r.stdout)
		})
	}
}

// TestStatsSynthetic checks the summary of the synthetic family against
// what Synthetic documents: evaluate fails in every 10th run, upload is
// unfinished in every 25th, epochs count three per run.
func TestStatsSynthetic(t *testing.T) {
	dir := t.TempDir()
	writeSynthetic(t, dir, 100)
	r := stagetrack(t, "stats", "--json", dir)
	wantCode(t, r, cli.ExitOK)
	var s runstats.Summary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err)
	}
	rows := map[string]runstats.Row{}
	var order []string
	for _, row := range s.Stages {
		rows[row.Path] = row
		order = append(order, row.Path)
	}
	if s.Runs != 100 || s.Run.Failures != 12 { // evaluate failed in 10, upload unfinished in 4, 2 of them both
		t.Errorf("runs %d with %d failed, want 100 with 12", s.Runs, s.Run.Failures)
	}
	if got, want := strings.Join(order, " "), "fetch parse train train/epoch evaluate upload"; got != want {
		t.Errorf("order %q, want %q", got, want)
	}
	checks := []struct {
		path           string
		count, runs, f int
	}{
		{"train/epoch", 300, 100, 0},
		{"evaluate", 100, 100, 10},
		{"upload", 100, 100, 4},
	}
	for _, c := range checks {
		row := rows[c.path]
		if row.Count != c.count || row.Runs != c.runs || row.Failures != c.f {
			t.Errorf("%s: count %d runs %d failures %d, want %d %d %d", c.path, row.Count, row.Runs, row.Failures, c.count, c.runs, c.f)
		}
		if !(row.P50Sec <= row.P95Sec && row.P95Sec <= row.MaxSec && row.P50Sec > 0) {
			t.Errorf("%s: p50 %v p95 %v max %v out of order", c.path, row.P50Sec, row.P95Sec, row.MaxSec)
		}
	}
}

func TestStatsUnreadableFiles(t *testing.T) {
	dir := t.TempDir()
	writeSynthetic(t, dir, 5)
	if err := os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Skipped: a hidden temporary file (the exporter's) and a non-JSON file.
	for _, name := range []string{".x.json.tmp-123", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := stagetrack(t, "stats", dir)
	wantCode(t, r, cli.ExitFailure)
	if !strings.HasPrefix(r.stdout, "5 runs") {
		t.Errorf("the summary of the readable files is missing:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "broken.json") || !strings.Contains(r.stderr, "1 of 6 files could not be read") {
		t.Errorf("stderr does not name the broken file:\n%s", r.stderr)
	}
}

// TestStatsCountsUnreadableFilesNotRuns checks that a file holding a JSON
// array whose elements are not runs counts as one unreadable file, however
// many elements it has: the summary says how many files could not be read.
func TestStatsCountsUnreadableFilesNotRuns(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{name: "2,000 numbers", content: "[" + strings.TrimSuffix(strings.Repeat("1,", 2000), ",") + "]"},
		{name: "2,000 objects that are not runs", content: "[" + strings.TrimSuffix(strings.Repeat(`{"x":1},`, 2000), ",") + "]"},
		{name: "2,000 strings", content: "[" + strings.TrimSuffix(strings.Repeat(`"a",`, 2000), ",") + "]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSynthetic(t, dir, 23)
			if err := os.WriteFile(filepath.Join(dir, "array.json"), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			r := stagetrack(t, "stats", dir)
			wantCode(t, r, cli.ExitFailure)
			if !strings.HasPrefix(r.stdout, "23 runs") {
				t.Errorf("the summary of the readable files is missing:\n%s", r.stdout)
			}
			if !strings.Contains(r.stderr, "1 of 24 files could not be read") {
				t.Errorf("stderr does not count one unreadable file of 24:\n%.2000s", r.stderr)
			}
		})
	}
}

func TestStatsErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no arguments", []string{"stats"}, cli.ExitUsage, "requires at least 1 arg"},
		{"empty directory", []string{"stats", t.TempDir()}, cli.ExitFailure, "no run files"},
		{"missing path", []string{"stats", filepath.Join(t.TempDir(), "nope")}, cli.ExitFailure, "no such file"},
		{"zero jobs", []string{"stats", "--jobs", "0", "testdata/runs"}, cli.ExitUsage, "--jobs must be at least 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := stagetrack(t, c.args...)
			wantCode(t, r, c.code)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q does not say %q", r.stderr, c.want)
			}
		})
	}
}

// TestStatsWorkersConcurrentSafe: however many workers read the files, the
// summary is the same (run with -race -count=20).
func TestStatsWorkersConcurrentSafe(t *testing.T) {
	dir := t.TempDir()
	writeSynthetic(t, dir, 300)
	want := stagetrack(t, "stats", "--json", "--jobs", "1", dir)
	wantCode(t, want, cli.ExitOK)
	for _, jobs := range []string{"2", "7", "64", "1000"} {
		t.Run("jobs="+jobs, func(t *testing.T) {
			got := stagetrack(t, "stats", "--json", "--jobs", jobs, dir)
			wantCode(t, got, cli.ExitOK)
			if got.stdout != want.stdout {
				t.Errorf("--jobs %s gives a different summary than --jobs 1", jobs)
			}
		})
	}
}

// TestStatsCanceled: an interrupted stats (Ctrl-C cancels the context)
// stops and fails rather than printing a partial summary as if whole.
func TestStatsCanceled(t *testing.T) {
	dir := t.TempDir()
	writeSynthetic(t, dir, 50)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var stdout, stderr bytes.Buffer
	code := cli.Main(ctx, []string{"stats", dir}, &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	if code != cli.ExitFailure || stdout.Len() != 0 || !strings.Contains(stderr.String(), "context canceled") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing, context canceled", code, stdout.String(), stderr.String())
	}
}

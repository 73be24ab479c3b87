//go:build unix

package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/locktest"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.Pid()
}

// journalOf writes the journal of a run with two stages, one ended and
// one running, as a process pid on host left it (docs/reliability.md has
// the format), and returns its path.
func journalOf(t *testing.T, dir, runID string, pid int, host string) string {
	t.Helper()
	start := time.Date(2025, 5, 6, 23, 14, 10, 0, time.UTC).UnixNano()
	sec := int64(time.Second)
	lines := []string{
		fmt.Sprintf(`{"e":"run","t":%d,"run_id":%q,"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","name":"nightly","pid":%d,"host":%q}`, start, runID, pid, host),
		fmt.Sprintf(`{"e":"start","t":%d,"span_id":"1111111111111111","parent_span_id":"b7ad6b7169203331","name":"fetch","start":%d}`, start+sec, start+sec),
		fmt.Sprintf(`{"e":"end","t":%d,"span_id":"1111111111111111","parent_span_id":"b7ad6b7169203331","name":"fetch","start":%d,"end":%d,"data":{"rows":3}}`, start+2*sec, start+sec, start+2*sec),
		fmt.Sprintf(`{"e":"start","t":%d,"span_id":"2222222222222222","parent_span_id":"b7ad6b7169203331","name":"train","start":%d}`, start+3*sec, start+3*sec),
	}
	path := filepath.Join(dir, runID+jsonrun.JournalSuffix)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRecover(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	const (
		idA = "6f1e0a52-8c0e-4f7e-9d55-1f0b7a3c2d11"
		idB = "9a1b7c3d-2e4f-4a6b-8c0d-1e2f3a4b5c6d"
	)
	dead := deadPID(t)
	tests := []struct {
		name      string
		setup     func(t *testing.T, dir string) []string // writes journals, returns the arguments after "recover"
		code      int
		recovered []string // run ids whose run file recover prints and writes
		left      []string // run ids whose journal stays
		stderr    string   // a substring
	}{
		{
			name: "an orphaned journal",
			setup: func(t *testing.T, dir string) []string {
				journalOf(t, dir, idA, dead, host)
				return []string{dir}
			},
			recovered: []string{idA},
		},
		{
			name: "the journal of a live process stays",
			setup: func(t *testing.T, dir string) []string {
				locktest.HoldShared(t, journalOf(t, dir, idA, dead, host))
				journalOf(t, dir, idB, dead, host)
				return []string{dir}
			},
			recovered: []string{idB}, left: []string{idA},
		},
		{
			name: "another machine's journal is recovered: no live holder",
			setup: func(t *testing.T, dir string) []string {
				journalOf(t, dir, idA, dead, "elsewhere.example")
				return []string{dir}
			},
			recovered: []string{idA},
		},
		{
			name: "--journal recovers another machine's journal, beside it",
			setup: func(t *testing.T, dir string) []string {
				return []string{"--journal", journalOf(t, dir, idA, dead, "elsewhere.example")}
			},
			recovered: []string{idA},
		},
		{
			name: "--journal refuses a live process's journal",
			setup: func(t *testing.T, dir string) []string {
				j := journalOf(t, dir, idA, dead, host)
				locktest.HoldShared(t, j)
				return []string{dir, "--journal", j}
			},
			code: cli.ExitFailure, left: []string{idA}, stderr: "a live process still writes it",
		},
		{
			name: "an unreadable journal is an error; the others are recovered",
			setup: func(t *testing.T, dir string) []string {
				journalOf(t, dir, idA, dead, host)
				if err := os.WriteFile(filepath.Join(dir, idB+jsonrun.JournalSuffix), []byte("garbage\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				return []string{dir}
			},
			code: cli.ExitFailure, recovered: []string{idA}, left: []string{idB}, stderr: "has no readable run event",
		},
		{
			name:   "an empty directory",
			setup:  func(t *testing.T, dir string) []string { return []string{dir} },
			stderr: "stagetrack: no orphaned journals in ",
		},
		{
			name:  "a directory that does not exist",
			setup: func(t *testing.T, dir string) []string { return []string{filepath.Join(dir, "nope")} },
			code:  cli.ExitFailure, stderr: "no such file or directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := inProcess(t, append([]string{"recover"}, tt.setup(t, dir)...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.stderr)
			}
			var want string
			for _, id := range tt.recovered {
				want += filepath.Join(dir, id+".json") + "\n"
			}
			if r.stdout != want {
				t.Errorf("stdout %q, want %q", r.stdout, want)
			}
			for _, id := range tt.recovered {
				rf, err := runfile.ReadFile(filepath.Join(dir, id+".json"))
				if err != nil {
					t.Fatal(err)
				}
				var stages []string
				for _, s := range rf.Stages {
					stages = append(stages, s.Key+":"+s.Status)
				}
				if rf.Status != runfile.StatusCrashed || rf.Name != "nightly" || !slices.Equal(stages, []string{"fetch:ok", "train:running"}) {
					t.Errorf("run %s: status %q name %q stages %q", id, rf.Status, rf.Name, stages)
				}
			}
			journals, _ := filepath.Glob(filepath.Join(dir, "*"+jsonrun.JournalSuffix))
			var left []string
			for _, j := range journals {
				left = append(left, strings.TrimSuffix(filepath.Base(j), jsonrun.JournalSuffix))
			}
			if !slices.Equal(left, tt.left) {
				t.Errorf("journals left %q, want %q", left, tt.left)
			}
		})
	}
}

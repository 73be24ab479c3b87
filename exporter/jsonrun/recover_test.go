//go:build unix

package jsonrun_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/locktest"
)

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	return cmd.Process.Pid
}

// writeJournal writes the journal of a run that ended one stage and was in
// a second when its process (pid on host) stopped.
func writeJournal(t *testing.T, path, runID string, pid int, host, outputFile string) {
	t.Helper()
	t0 := int64(1746486850235518000)
	lines := []string{
		fmt.Sprintf(`{"e":"run","t":%d,"run_id":%q,"trace_id":"0000000000000000000000000000000a","span_id":"0000000000000001","name":"train","args":{"lr":0.1},"output_file":%q,"pid":%d,"host":%q}`, t0, runID, outputFile, pid, host),
		fmt.Sprintf(`{"e":"start","t":%d,"span_id":"0000000000000002","parent_span_id":"0000000000000001","name":"load","start":%d}`, t0+1e9, t0+1e9),
		fmt.Sprintf(`{"e":"end","t":%d,"span_id":"0000000000000002","parent_span_id":"0000000000000001","name":"load","start":%d,"end":%d,"data":{"rows":7}}`, t0+2e9, t0+1e9, t0+2e9),
		fmt.Sprintf(`{"e":"start","t":%d,"span_id":"0000000000000003","parent_span_id":"0000000000000001","name":"fit","start":%d}`, t0+3e9, t0+3e9),
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRecover(t *testing.T) {
	host, _ := os.Hostname()
	elsewhere := filepath.Join(t.TempDir(), "elsewhere", "x.json")
	tests := []struct {
		name      string
		pid       func(t *testing.T) int
		host      string
		runFile   bool   // a run file exists already
		output    string // output_file the journal claims
		held      bool   // a live process holds the journal's lock
		recovered bool
		journal   bool // the journal is still there afterwards
	}{
		{name: "dead process", pid: deadPID, host: host, recovered: true},
		{name: "live writer holds the lock", pid: deadPID, host: host, held: true, journal: true},
		// The pid in the journal decides nothing: a live pid (reused, or
		// this very process) with no lock held is a dead journal.
		{name: "stale pid of a live process", pid: func(*testing.T) int { return os.Getpid() }, host: host, recovered: true},
		{name: "other host", pid: deadPID, host: "another-machine", recovered: true},
		{name: "run file already written", pid: deadPID, host: host, runFile: true},
		{name: "planted output path", pid: deadPID, host: host, output: elsewhere, recovered: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exp, dir := newExporter(t)
			journal := filepath.Join(dir, id1+jsonrun.JournalSuffix)
			writeJournal(t, journal, id1, tc.pid(t), tc.host, tc.output)
			runPath := filepath.Join(dir, id1+".json")
			if tc.held {
				locktest.HoldShared(t, journal)
			}
			if tc.runFile {
				os.WriteFile(runPath, []byte("finished"), 0o644)
			}
			paths, err := exp.Recover(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if tc.recovered != (len(paths) == 1) {
				t.Fatalf("recovered %v, want recovered=%v", paths, tc.recovered)
			}
			if _, err := os.Stat(journal); (err == nil) != tc.journal {
				t.Errorf("journal there = %v, want %v", err == nil, tc.journal)
			}
			if tc.runFile {
				if b, _ := os.ReadFile(runPath); string(b) != "finished" {
					t.Error("recovery touched an existing run file")
				}
			}
			if _, err := os.Stat(elsewhere); err == nil {
				t.Error("recovery wrote where the journal told it to, outside the directory")
			}
			if !tc.recovered {
				return
			}
			r := readRun(t, paths[0])
			if paths[0] != runPath || r.Status != jsonrun.StatusCrashed || string(r.Args) != `{"lr":0.1}` || r.Name != "train" || len(r.Warnings) != 1 {
				t.Errorf("recovered %s: status %s args %s name %s warnings %v", paths[0], r.Status, r.Args, r.Name, r.Warnings)
			}
			load, _ := r.Stages.Get("load")
			fit, _ := r.Stages.Get("fit")
			if load.Status != jsonrun.StageOK || string(load.Data) != `{"rows":7}` || fit.Status != jsonrun.StageRunning {
				t.Errorf("stages: load %s %s, fit %s", load.Status, load.Data, fit.Status)
			}
			if r.CompletedAt.UnixNano() != 1746486850235518000+3e9 {
				t.Errorf("completed_at %v, want the last event", r.CompletedAt)
			}
		})
	}
}

func TestRecoverJournalOfOtherHost(t *testing.T) {
	exp, dir := newExporter(t)
	journal := filepath.Join(dir, id1+jsonrun.JournalSuffix)
	writeJournal(t, journal, id1, deadPID(t), "another-machine", "")
	path, err := exp.RecoverJournal(t.Context(), journal)
	if err != nil || path != filepath.Join(dir, id1+".json") {
		t.Fatalf("RecoverJournal = %q, %v", path, err)
	}
	live := filepath.Join(dir, id2+jsonrun.JournalSuffix)
	writeJournal(t, live, id2, deadPID(t), "another-machine", "")
	locktest.HoldShared(t, live)
	if _, err := exp.RecoverJournal(t.Context(), live); err == nil || !strings.Contains(err.Error(), "live process") {
		t.Errorf("RecoverJournal of a live process = %v", err)
	}
}

func TestJoinChecksTheJournal(t *testing.T) {
	exp, dir := newExporter(t)
	host, _ := os.Hostname()
	journal := filepath.Join(dir, id1+jsonrun.JournalSuffix)
	writeJournal(t, journal, id1, os.Getpid(), host, "")
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("keep me\n"), 0o644)
	for _, tc := range []struct{ id, path string }{
		{id1, other},
		{id2, journal},
		{"not-a-uuid", journal},
		{id1, filepath.Join(dir, "missing.journal")},
	} {
		if err := exp.Join(tc.id, tc.path); err == nil {
			t.Errorf("Join(%s, %s) succeeded", tc.id, tc.path)
		}
	}
	if b, _ := os.ReadFile(other); string(b) != "keep me\n" {
		t.Error("a file that is not a journal was written")
	}
	if err := exp.Join(id1, journal); err == nil || !strings.Contains(err.Error(), "owner has stopped") {
		t.Errorf("Join of a journal no live process holds = %v, want refused", err)
	}
	locktest.HoldShared(t, journal) // its owner, alive
	if err := exp.Join(id1, journal); err != nil {
		t.Errorf("Join of the right journal = %v", err)
	}
}

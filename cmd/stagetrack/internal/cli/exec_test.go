//go:build unix

package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// outsideRun clears the variables through which a process joins a run, so
// that the test does not join one that its own environment names (tests
// run inside stagetrack run), and sends spans nowhere but the run files.
func outsideRun(t *testing.T) {
	t.Helper()
	for _, k := range []string{tracker.EnvRunID, tracker.EnvJournal, tracker.EnvTraceParent, tracker.EnvTraceState} {
		t.Setenv(k, "")
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
}

// inProcess runs stagetrack with args in this process, its stdout and
// stderr in buffers (nothing is a terminal).
func inProcess(t *testing.T, args ...string) procResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(t.Context(), args, &cli.Env{
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string {
			if k == cli.EnvSpool {
				return os.Getenv(k) // the test run's (TestMain)
			}
			return ""
		},
	})
	return procResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func TestExecOutsideARun(t *testing.T) {
	outsideRun(t)
	tests := []struct {
		name           string
		args           []string // after exec --dir DIR
		code           int
		stdout, stderr string // exactly; stderr as a prefix when wantPrefix
		stderrPrefix   bool
		stage          string
		status, err    string // the stage's; the run's error is the same
		data           map[string]any
	}{
		{
			name: "success", args: []string{"--", "sh", "-c", "echo hi"},
			stdout: "hi\n", stage: "sh", status: runfile.StageOK,
			data: map[string]any{"command": []string{"sh", "-c", "echo hi"}, "exit_code": 0},
		},
		{
			name: "a failure passes its output and exit code through", args: []string{"--stage", "fetch", "--", "sh", "-c", "echo out; echo err >&2; exit 4"},
			code: 4, stdout: "out\n", stderr: "err\n", stage: "fetch", status: runfile.StageError, err: "exit status 4",
			data: map[string]any{"command": []string{"sh", "-c", "echo out; echo err >&2; exit 4"}, "exit_code": 4, "stderr_tail": "err"},
		},
		{
			// One write of more than the tail keeps (4 KiB) is taken whole:
			// it once failed the stage with "short write".
			name: "a long write to stderr", args: []string{"--", "sh", "-c", "printf '%5000s\\n' x >&2"},
			stderr: strings.Repeat(" ", 4999) + "x\n", stage: "sh", status: runfile.StageOK,
			data: map[string]any{"command": []string{"sh", "-c", "printf '%5000s\\n' x >&2"}, "exit_code": 0},
		},
		{
			name: "killed by a signal", args: []string{"--", "sh", "-c", "kill -KILL $$"},
			code: 137, stage: "sh", status: runfile.StageError, err: "signal: killed",
			data: map[string]any{"command": []string{"sh", "-c", "kill -KILL $$"}, "exit_code": 137, "signal": "killed"},
		},
		{
			name: "flags after CMD are CMD's", args: []string{"echo", "--stage", "x"},
			stdout: "--stage x\n", stage: "echo", status: runfile.StageOK,
			data: map[string]any{"command": []string{"echo", "--stage", "x"}, "exit_code": 0},
		},
		{
			name: "a command that does not exist", args: []string{"--", "./no-such-command"},
			code: 127, stderr: "stagetrack: start ./no-such-command: ", stderrPrefix: true,
			stage: "no-such-command", status: runfile.StageError, err: "start ./no-such-command: fork/exec ./no-such-command: no such file or directory",
			data: map[string]any{"command": []string{"./no-such-command"}, "exit_code": 127},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := inProcess(t, append([]string{"exec", "--dir", dir}, tt.args...)...)
			if r.code != tt.code || r.stdout != tt.stdout {
				t.Fatalf("exit %d, stdout %q (stderr %q); want %d, %q", r.code, r.stdout, r.stderr, tt.code, tt.stdout)
			}
			if tt.stderrPrefix && !strings.HasPrefix(r.stderr, tt.stderr) || !tt.stderrPrefix && r.stderr != tt.stderr {
				t.Errorf("stderr %q, want %q", r.stderr, tt.stderr)
			}
			_, rf := onlyRunFile(t, dir)
			wantStatus := runfile.StatusOK
			if tt.err != "" {
				wantStatus = runfile.StatusFailed
			}
			if rf.Name != tt.stage || rf.Status != wantStatus || rf.Error != tt.err || len(rf.Stages) != 1 {
				t.Fatalf("run %q status %q error %q with %d stages; want %q %q %q with one", rf.Name, rf.Status, rf.Error, len(rf.Stages), tt.stage, wantStatus, tt.err)
			}
			st := rf.Stages[0]
			if st.Key != tt.stage || st.Status != tt.status || st.Error != tt.err || compact(t, st.Data) != mustJSON(t, tt.data) {
				t.Errorf("stage %q %q %q data %s; want %q %q %q data %s", st.Key, st.Status, st.Error, st.Data, tt.stage, tt.status, tt.err, mustJSON(t, tt.data))
			}
		})
	}
}

func TestExecUsage(t *testing.T) {
	outsideRun(t)
	dir := t.TempDir()
	r := inProcess(t, "exec", "--dir", dir)
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "requires at least 1 arg") {
		t.Errorf("exec without a command: exit %d, stderr %q", r.code, r.stderr)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Errorf("a usage error recorded %v", files)
	}
}

// TestExecJoinsTheRunOfItsEnvironment plays the parent in this process:
// it owns a run and hands it to exec through the environment, as
// stagetrack run does; the stage lands in the parent's run file, and the
// command's environment names that stage as the parent of what it starts.
func TestExecJoinsTheRunOfItsEnvironment(t *testing.T) {
	outsideRun(t)
	dir := t.TempDir()
	tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.WithoutCancel(t.Context()))
	ctx, run := tr.Start(t.Context(), nil, tracker.WithRunName("parent"))
	journal := filepath.Join(dir, run.ID()+jsonrun.JournalSuffix)
	for _, kv := range tracker.ChildEnv(ctx, run.ID(), journal) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}

	r := inProcess(t, "exec", "--stage", "step", "--", "sh", "-c",
		`echo "$STAGE_TRACKER_RUN_ID $STAGE_TRACKER_JOURNAL $TRACEPARENT"; exit 2`)
	if r.code != 2 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if err := run.Finalize(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, rf := onlyRunFile(t, dir)
	st, ok := rf.Stages.Get("step")
	if !ok || len(rf.Stages) != 1 || st.Error != "exit status 2" {
		t.Fatalf("stages %+v", rf.Stages)
	}
	// A joined exec does not set the run's error; the run failed because
	// its stage did, and its error says so.
	if rf.Name != "parent" || rf.Status != runfile.StatusFailed || rf.Error != `stage "step" failed: exit status 2` {
		t.Errorf("run %q status %q error %q", rf.Name, rf.Status, rf.Error)
	}
	want := rf.RunID + " " + journal + " 00-" + rf.TraceID + "-" + st.SpanID + "-01\n"
	if r.stdout != want {
		t.Errorf("the command saw %q, want %q (the run, its journal and the exec stage as parent)", r.stdout, want)
	}
}

// TestExecWithARunIDButNoTraceContext: STAGE_TRACKER_RUN_ID without a
// valid TRACEPARENT cannot be joined; exec records a run of its own, under
// a new id, and leaves the named journal alone.
func TestExecWithARunIDButNoTraceContext(t *testing.T) {
	outsideRun(t)
	dir := t.TempDir()
	const parentID = "6f1e0a52-8c0e-4f7e-9d55-1f0b7a3c2d11"
	journal := filepath.Join(dir, parentID+jsonrun.JournalSuffix)
	if err := os.WriteFile(journal, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(tracker.EnvRunID, parentID)
	t.Setenv(tracker.EnvJournal, journal)
	runs := filepath.Join(dir, "runs")
	r := inProcess(t, "exec", "--dir", runs, "--", "true")
	if r.code != 0 || !strings.Contains(r.stderr, "recording a run of its own") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	_, rf := onlyRunFile(t, runs)
	if rf.RunID == parentID || rf.Status != runfile.StatusOK || len(rf.Stages) != 1 {
		t.Errorf("run %s status %q with %d stages", rf.RunID, rf.Status, len(rf.Stages))
	}
	if b, err := os.ReadFile(journal); err != nil || string(b) != "{}\n" {
		t.Errorf("the named journal changed: %q, %v", b, err)
	}
}

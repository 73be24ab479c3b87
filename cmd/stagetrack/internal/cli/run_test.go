//go:build unix

package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// TestStagetrackAsUser builds stagetrack and a Go program that uses the
// library (testdata/joinchild), once, and runs them as a user would: shell
// scripts inside stagetrack run, signals, a SIGKILL and recover.
func TestStagetrackAsUser(t *testing.T) {
	bin := buildBinaries(t)

	t.Run("a pipeline of exec steps and a Go program is one run file and one trace", func(t *testing.T) {
		testPipeline(t, bin)
	})
	t.Run("signals passed on to CMD", func(t *testing.T) {
		testSignals(t, bin)
	})
	t.Run("recover after SIGKILL", func(t *testing.T) {
		testRecoverAfterKill(t, bin)
	})
	t.Run("exec outside a run", func(t *testing.T) {
		work := t.TempDir()
		r := runAsUser(t, work, userEnv(), bin.stagetrack, "exec", "--", "sh", "-c", "echo out; echo err >&2; exit 5")
		if r.code != 5 || r.stdout != "out\n" || r.stderr != "err\n" {
			t.Fatalf("exit %d, stdout %q, stderr %q; want 5, the command's output untouched", r.code, r.stdout, r.stderr)
		}
		_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
		if rf.Name != "sh" || rf.Status != runfile.StatusFailed || rf.Error != "exit status 5" || len(rf.Stages) != 1 {
			t.Fatalf("run %q status %q error %q, %d stages", rf.Name, rf.Status, rf.Error, len(rf.Stages))
		}
		st := rf.Stages[0]
		want := mustJSON(t, map[string]any{"command": []string{"sh", "-c", "echo out; echo err >&2; exit 5"}, "exit_code": 5, "stderr_tail": "err"})
		if st.Key != "sh" || st.Error != "exit status 5" || compact(t, st.Data) != want {
			t.Errorf("stage %q error %q data %s", st.Key, st.Error, st.Data)
		}
	})
	t.Run("progress on a terminal", func(t *testing.T) {
		testProgress(t, bin)
	})
}

// userEnv is the test's environment without what would make a run join
// another or send spans anywhere (STAGE_TRACKER_*, TRACEPARENT, OTEL_*),
// with OTEL_TRACES_EXPORTER=none, and then extra.
func userEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "STAGE_TRACKER_") || strings.HasPrefix(k, "OTEL_") || k == "TRACEPARENT" || k == "TRACESTATE" {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "OTEL_TRACES_EXPORTER=none"), extra...)
}

type procResult struct {
	stdout, stderr string
	code           int
}

// runAsUser runs argv in dir with env and returns its output and exit code.
func runAsUser(t *testing.T, dir string, env []string, argv ...string) procResult {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%v: %v", argv, err)
	}
	return procResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// onlyRunFile returns the one run file in dir, failing if there are others
// or a journal is left.
func onlyRunFile(t *testing.T, dir string) (string, *runfile.Run) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	journals, _ := filepath.Glob(filepath.Join(dir, "*"+jsonrun.JournalSuffix))
	if len(files) != 1 || len(journals) != 0 {
		t.Fatalf("%s holds run files %v and journals %v; want one run file and no journal", dir, files, journals)
	}
	rf, err := runfile.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return files[0], rf
}

// flatStage is one stage record with its place in the tree.
type flatStage struct {
	path       string // key path, "/"-separated
	parentSpan string // the span id of its parent: a stage's, or the run's
	stage      runfile.Stage
}

func flatten(stages runfile.Stages, prefix, parentSpan string) []flatStage {
	var out []flatStage
	for _, st := range stages {
		p := prefix + st.Key
		out = append(out, flatStage{path: p, parentSpan: parentSpan, stage: st})
		out = append(out, flatten(st.Stages, p+"/", st.SpanID)...)
	}
	return out
}

// consoleSpan is what the tests read of a span that the console exporter
// (stdouttrace, pretty-printed) printed.
type consoleSpan struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ TraceID, SpanID string }
}

// consoleSpans returns the spans printed in text, among other output: each
// is a JSON object from a line "{" to a line "}".
func consoleSpans(t *testing.T, text string) []consoleSpan {
	t.Helper()
	var (
		out   []consoleSpan
		block []string
	)
	for line := range strings.Lines(text) {
		switch {
		case line == "{\n":
			block = []string{line}
		case block != nil:
			block = append(block, line)
			if line == "}\n" {
				var s consoleSpan
				if err := json.Unmarshal([]byte(strings.Join(block, "")), &s); err != nil {
					t.Fatalf("console span: %v\n%s", err, strings.Join(block, ""))
				}
				out = append(out, s)
				block = nil
			}
		}
	}
	return out
}

func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("data %s: %v", raw, err)
	}
	return b.String()
}

// pipelineScript is a shell pipeline of three stagetrack exec steps: one
// failing, one nested (exec inside exec) and one running a Go program that
// joins the run with two stages of its own. It exits with the failing
// step's code.
const pipelineScript = `
"$ST" exec --stage lint -- sh -c 'exit 3'; status=$?
"$ST" exec --stage build -- "$ST" exec --stage compile -- sh -c 'echo compiled'
"$ST" exec --stage train -- "$JOINCHILD"
exit $status
`

func testPipeline(t *testing.T, bin binaries) {
	work := t.TempDir()
	env := userEnv("ST="+bin.stagetrack, "JOINCHILD="+bin.joinchild, "OTEL_TRACES_EXPORTER=console")
	r := runAsUser(t, work, env, bin.stagetrack, "run", "--name", "pipeline", "--dir", "runs", "--", "sh", "-c", pipelineScript)

	if r.code != 3 {
		t.Fatalf("stagetrack run exited %d, want the script's 3\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "compiled\n") {
		t.Errorf("the nested command's output is not on stdout:\n%s", r.stdout)
	}
	_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	if rf.Name != "pipeline" || rf.Status != runfile.StatusFailed || rf.Error != `stage "lint" failed: exit status 3` {
		t.Errorf("run %q status %q error %q; want pipeline, failed, stage \"lint\" failed: exit status 3", rf.Name, rf.Status, rf.Error)
	}
	if got, want := compact(t, rf.Args), mustJSON(t, map[string]any{"command": []string{"sh", "-c", pipelineScript}}); got != want {
		t.Errorf("args %s, want %s", got, want)
	}
	if rf.StageCount != 6 || rf.MissingStages != 0 || len(rf.Warnings) != 0 {
		t.Errorf("stage_count %d, missing_stages %d, warnings %q", rf.StageCount, rf.MissingStages, rf.Warnings)
	}
	for _, want := range []string{
		"stagetrack: run failed in ",
		"stagetrack: run file runs/" + rf.RunID + ".json\n",
		"stagetrack: trace " + rf.TraceID + "\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}

	// The stages, in start order, under the right parents.
	execData := func(code int, argv ...string) string {
		return mustJSON(t, map[string]any{"command": argv, "exit_code": code})
	}
	want := []struct{ path, parent, status, err, data string }{
		{"lint", "", runfile.StageError, "exit status 3", execData(3, "sh", "-c", "exit 3")},
		{"build", "", runfile.StageOK, "", execData(0, bin.stagetrack, "exec", "--stage", "compile", "--", "sh", "-c", "echo compiled")},
		{"build/compile", "build", runfile.StageOK, "", execData(0, "sh", "-c", "echo compiled")},
		{"train", "", runfile.StageOK, "", execData(0, bin.joinchild)},
		{"train/load", "train", runfile.StageOK, "", `{"rows":3}`},
		{"train/fit", "train", runfile.StageOK, "", `{"epochs":2}`},
	}
	got := flatten(rf.Stages, "", rf.SpanID)
	if len(got) != len(want) {
		var paths []string
		for _, g := range got {
			paths = append(paths, g.path)
		}
		t.Fatalf("stages %q, want %d", paths, len(want))
	}
	spanOf := map[string]string{"": rf.SpanID}
	for i, w := range want {
		g := got[i]
		spanOf[g.path] = g.stage.SpanID
		if g.path != w.path || g.parentSpan != spanOf[w.parent] || g.stage.Status != w.status || g.stage.Error != w.err || compact(t, g.stage.Data) != w.data {
			t.Errorf("stage %d: %s (parent span %s) %s %q data %s\nwant %s (under %q, span %s) %s %q data %s",
				i, g.path, g.parentSpan, g.stage.Status, g.stage.Error, g.stage.Data,
				w.path, w.parent, spanOf[w.parent], w.status, w.err, w.data)
		}
	}

	// One trace: every span the four processes printed (stagetrack run on
	// stderr, exec on stderr, the Go program on stdout) carries the run
	// file's trace id, and they are the run file's spans with its parents.
	spans := append(consoleSpans(t, r.stderr), consoleSpans(t, r.stdout)...)
	// Each of the five processes that joined the run (four exec steps and
	// the Go program) ends a count span of its stages, in the run's trace.
	counts := 0
	spans = slices.DeleteFunc(spans, func(s consoleSpan) bool {
		if s.Name != keys.CountSpanName {
			return false
		}
		counts++
		if s.SpanContext.TraceID != rf.TraceID {
			t.Errorf("count span %s has trace id %s, want the run file's %s", s.SpanContext.SpanID, s.SpanContext.TraceID, rf.TraceID)
		}
		return true
	})
	if counts != 5 {
		t.Errorf("%d count spans printed, want 5 (one per joined process)", counts)
	}
	if len(spans) != 1+len(want) {
		t.Fatalf("%d spans printed, want %d (the run and its stages)", len(spans), 1+len(want))
	}
	parentOf := map[string]string{rf.SpanID: ""}
	for _, g := range got {
		parentOf[g.stage.SpanID] = g.parentSpan
	}
	for _, s := range spans {
		if s.SpanContext.TraceID != rf.TraceID {
			t.Errorf("span %q has trace id %s, want the run file's %s", s.Name, s.SpanContext.TraceID, rf.TraceID)
		}
		parent, ok := parentOf[s.SpanContext.SpanID]
		if !ok {
			t.Errorf("span %q (%s) is not in the run file", s.Name, s.SpanContext.SpanID)
			continue
		}
		delete(parentOf, s.SpanContext.SpanID)
		if parent != "" && s.Parent.SpanID != parent {
			t.Errorf("span %q has parent %s, want %s", s.Name, s.Parent.SpanID, parent)
		}
	}
}

// startAsUser starts argv in dir with env and returns it with a channel
// that gets each line of its stdout; the channel is closed at EOF.
func startAsUser(t *testing.T, dir string, env []string, setpgid bool, argv ...string) (*exec.Cmd, <-chan string, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: setpgid}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines, &stderr
}

// processDeadline bounds how long a test waits for a process it started:
// readiness, or exit after a signal.
const processDeadline = 60 * time.Second

// waitLine waits for a line starting with prefix on lines and returns it.
// It kills cmd's process (group, when killGroup) and fails if none comes.
func waitLine(t *testing.T, cmd *exec.Cmd, lines <-chan string, prefix string) string {
	t.Helper()
	deadline := time.After(processDeadline)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("%v ended before printing %q", cmd.Args, prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%v printed no %q in %v", cmd.Args, prefix, processDeadline)
		}
	}
}

// waitExit drains lines and waits for cmd to exit, killing it after
// processDeadline.
func waitExit(t *testing.T, cmd *exec.Cmd, lines <-chan string) {
	t.Helper()
	deadline := time.After(processDeadline)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				cmd.Wait()
				return
			}
		case <-deadline:
			cmd.Process.Kill()
			for range lines {
			}
			cmd.Wait()
			t.Fatalf("%v did not exit within %v of the signal", cmd.Args, processDeadline)
		}
	}
}

func testSignals(t *testing.T, bin binaries) {
	sleeper := []string{"sh", "-c", "echo ready; exec sleep 100"}
	tests := []struct {
		name   string
		sig    syscall.Signal
		cmd    []string
		code   int
		reason string
		stage  string // the exec stage that was running, if any
	}{
		{
			name: "SIGTERM reaches CMD through exec", sig: syscall.SIGTERM,
			cmd:  append([]string{bin.stagetrack, "exec", "--stage", "long"}, append([]string{"--"}, sleeper...)...),
			code: 143, reason: "interrupted by signal: terminated", stage: "long",
		},
		{
			name: "SIGINT", sig: syscall.SIGINT, cmd: sleeper,
			code: 130, reason: "interrupted by signal: interrupt",
		},
		{
			name: "CMD handles SIGTERM and exits 0", sig: syscall.SIGTERM,
			cmd:  []string{"sh", "-c", `trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done`},
			code: 143, reason: "interrupted by signal: terminated",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work := t.TempDir()
			argv := append([]string{bin.stagetrack, "run", "--dir", "runs", "--"}, tt.cmd...)
			cmd, lines, stderr := startAsUser(t, work, userEnv(), false, argv...)
			waitLine(t, cmd, lines, "ready")
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			waitExit(t, cmd, lines)
			if code := cmd.ProcessState.ExitCode(); code != tt.code {
				t.Fatalf("exit code %d, want %d\nstderr:\n%s", code, tt.code, stderr)
			}
			_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
			if rf.Status != runfile.StatusInterrupted || rf.Error != tt.reason {
				t.Errorf("run status %q error %q, want interrupted, %q", rf.Status, rf.Error, tt.reason)
			}
			if !strings.Contains(stderr.String(), "stagetrack: run interrupted in ") {
				t.Errorf("stderr:\n%s", stderr)
			}
			if tt.stage == "" {
				return
			}
			st, ok := rf.Stages.Get(tt.stage)
			want := mustJSON(t, map[string]any{"command": sleeper, "exit_code": tt.code, "signal": "terminated"})
			if !ok || st.Status != runfile.StageError || st.Error != tt.reason || compact(t, st.Data) != want {
				t.Errorf("stage %s: %q %q data %s; want error %q data %s", tt.stage, st.Status, st.Error, st.Data, tt.reason, want)
			}
		})
	}
}

func testRecoverAfterKill(t *testing.T, bin binaries) {
	work := t.TempDir()
	script := `"$ST" exec --stage done -- true && "$ST" exec --stage stuck -- sh -c 'echo ready; exec sleep 100'`
	// In a process group of its own, so that one kill ends stagetrack and
	// every process under it.
	cmd, lines, _ := startAsUser(t, work, userEnv("ST="+bin.stagetrack), true,
		bin.stagetrack, "run", "--dir", "runs", "--", "sh", "-c", script)
	waitLine(t, cmd, lines, "ready")
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, lines)
	journals, _ := filepath.Glob(filepath.Join(work, "runs", "*"+jsonrun.JournalSuffix))
	if len(journals) != 1 {
		t.Fatalf("journals after SIGKILL: %v, want one", journals)
	}

	r := runAsUser(t, work, userEnv(), bin.stagetrack, "recover", "runs")
	id := strings.TrimSuffix(filepath.Base(journals[0]), jsonrun.JournalSuffix)
	if r.code != 0 || r.stdout != filepath.Join("runs", id+".json")+"\n" {
		t.Fatalf("recover: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	if rf.Status != runfile.StatusCrashed || !strings.Contains(rf.Error, "stopped before the run was finalised") {
		t.Errorf("recovered run: status %q error %q", rf.Status, rf.Error)
	}
	var got []string
	for _, s := range rf.Stages {
		got = append(got, s.Key+":"+s.Status)
	}
	if want := []string{"done:ok", "stuck:running"}; !slices.Equal(got, want) {
		t.Errorf("recovered stages %q, want %q", got, want)
	}

	r = runAsUser(t, work, userEnv(), bin.stagetrack, "recover", "runs")
	if r.code != 0 || r.stdout != "" || r.stderr != "stagetrack: no orphaned journals in runs\n" {
		t.Errorf("second recover: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// syncBuffer is a buffer that the progress goroutine and the copying of
// CMD's stderr may write at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testProgress runs stagetrack run in this process with a stderr that
// says it is a terminal, around the pipeline script.
func testProgress(t *testing.T, bin binaries) {
	for _, kv := range []string{tracker.EnvRunID, tracker.EnvJournal, tracker.EnvTraceParent, tracker.EnvTraceState} {
		t.Setenv(kv, "")
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	t.Setenv("ST", bin.stagetrack)
	t.Setenv("JOINCHILD", bin.joinchild)
	dir := t.TempDir()
	t.Chdir(dir) // the Go program writes ./runs when it cannot join

	tests := []struct {
		name    string
		args    []string
		noColor string
		want    []string // in this order, among other lines
		none    []string
	}{
		{
			name:    "plain",
			args:    []string{"run", "--dir", dir, "--", "sh", "-c", pipelineScript},
			noColor: "1",
			want: []string{"  ▶ lint\n", "  ✘ lint  ", "  exit status 3\n", "  ▶ build\n", "    ▶ compile\n", "    ✔ compile  ", "  ✔ build  ",
				"  ▶ train\n", "    ▶ load\n", "    ✔ load  ", "    ▶ fit\n", "    ✔ fit  ", "  ✔ train  ", "stagetrack: run failed in "},
			none: []string{"\x1b["},
		},
		{
			name: "colour",
			args: []string{"run", "--dir", dir, "--", "sh", "-c", pipelineScript},
			want: []string{"\x1b[31m✘\x1b[0m lint", "\x1b[32m✔\x1b[0m build"},
		},
		{
			name:    "quiet",
			args:    []string{"run", "--quiet", "--dir", dir, "--", "sh", "-c", pipelineScript},
			noColor: "1",
			none:    []string{"▶", "stagetrack:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			var stderr syncBuffer
			code := cli.Main(t.Context(), tt.args, &cli.Env{
				Stdout: &stdout,
				Stderr: &stderr,
				Getenv: func(k string) string {
					if k == "NO_COLOR" {
						return tt.noColor
					}
					return ""
				},
				Terminal: func(w io.Writer) (bool, int) { return w == &stderr, 200 },
			})
			out := stderr.String()
			if code != 3 {
				t.Fatalf("exit %d, want 3\nstderr:\n%s", code, out)
			}
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr lacks %q (in this order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.none {
				if strings.Contains(out, n) {
					t.Errorf("stderr holds %q:\n%s", n, out)
				}
			}
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	outsideRun(t)
	tests := []struct {
		name   string
		flags  []string
		cmd    []string
		code   int
		status string
		err    string // the run's error; a prefix for not-found
		stderr string // a prefix of stderr
	}{
		{name: "success", cmd: []string{"true"}, status: runfile.StatusOK, stderr: "stagetrack: run ok in "},
		{name: "the command's exit code", cmd: []string{"sh", "-c", "exit 7"}, code: 7, status: runfile.StatusFailed, err: "exit status 7", stderr: "stagetrack: run failed in "},
		{name: "exit 2 is not a usage error", cmd: []string{"sh", "-c", "exit 2"}, code: 2, status: runfile.StatusFailed, err: "exit status 2", stderr: "stagetrack: run failed in "},
		{name: "killed by a signal", cmd: []string{"sh", "-c", "kill -KILL $$"}, code: 137, status: runfile.StatusFailed, err: "signal: killed", stderr: "stagetrack: run failed in "},
		{name: "not found", cmd: []string{"./no-such-command"}, code: 127, status: runfile.StatusFailed, err: "start ./no-such-command: ", stderr: "stagetrack: run failed in "},
		{name: "quiet", flags: []string{"-q"}, cmd: []string{"sh", "-c", "exit 7"}, code: 7, status: runfile.StatusFailed, err: "exit status 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append(append(append([]string{"run", "--dir", dir}, tt.flags...), "--"), tt.cmd...)
			r := inProcess(t, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, tt.code, r.stderr)
			}
			path, rf := onlyRunFile(t, dir)
			if rf.Status != tt.status || !strings.HasPrefix(rf.Error, tt.err) || (tt.err == "") != (rf.Error == "") {
				t.Errorf("status %q error %q, want %q %q", rf.Status, rf.Error, tt.status, tt.err)
			}
			if tt.stderr == "" {
				if r.stderr != "" {
					t.Errorf("stderr %q, want nothing", r.stderr)
				}
				return
			}
			if !strings.Contains(r.stderr, tt.stderr) || !strings.Contains(r.stderr, "stagetrack: run file "+path+"\n") ||
				!strings.Contains(r.stderr, "stagetrack: trace "+rf.TraceID+"\n") || strings.Contains(r.stderr, "--help") {
				t.Errorf("stderr:\n%s", r.stderr)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	outsideRun(t)
	for _, args := range [][]string{{"run"}, {"run", "--bogus", "--", "true"}} {
		dir := t.TempDir()
		r := inProcess(t, append(args[:1:1], append([]string{"--dir", dir}, args[1:]...)...)...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "Run 'stagetrack run --help' for usage.") {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
		if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
			t.Errorf("%q recorded %v", args, files)
		}
	}
}

func TestRunArgsAndName(t *testing.T) {
	outsideRun(t)
	tests := []struct {
		name     string
		flags    []string
		wantName string
		wantArgs string
	}{
		{name: "defaults", wantName: "true", wantArgs: `{"command":["true"]}`},
		{name: "JSON args", flags: []string{"--args", `{"lr": 0.1, "model": "resnet"}`}, wantName: "true", wantArgs: `{"lr":0.1,"model":"resnet"}`},
		{name: "text args", flags: []string{"--args", "nightly build"}, wantName: "true", wantArgs: `"nightly build"`},
		{name: "name", flags: []string{"--name", "nightly"}, wantName: "nightly", wantArgs: `{"command":["true"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := inProcess(t, append(append([]string{"run", "-q", "--dir", dir}, tt.flags...), "--", "true")...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			_, rf := onlyRunFile(t, dir)
			if rf.Name != tt.wantName || compact(t, rf.Args) != tt.wantArgs {
				t.Errorf("name %q args %s, want %q %s", rf.Name, rf.Args, tt.wantName, tt.wantArgs)
			}
		})
	}
}

// TestRunChildEnvironment checks what CMD finds in its environment: the
// run's id, its journal (absolute, whatever --dir is), the run span as
// TRACEPARENT; and that a TRACEPARENT given to stagetrack makes the run a
// span of that trace.
func TestRunChildEnvironment(t *testing.T) {
	const (
		outerTrace = "0af7651916cd43dd8448eb211c80319c"
		outerSpan  = "b7ad6b7169203331"
	)
	tests := []struct {
		name        string
		traceparent string
		tracestate  string
		wantTrace   string // "" for a new trace
		wantParent  string
		wantState   string
	}{
		{name: "a trace of its own; a stale TRACESTATE is not passed on", tracestate: "stale=1", wantState: "unset"},
		{name: "inside a trace", traceparent: "00-" + outerTrace + "-" + outerSpan + "-01", tracestate: "vendor=x",
			wantTrace: outerTrace, wantParent: outerSpan, wantState: "vendor=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outsideRun(t)
			if tt.traceparent != "" {
				t.Setenv(tracker.EnvTraceParent, tt.traceparent)
			}
			if tt.tracestate != "" {
				t.Setenv(tracker.EnvTraceState, tt.tracestate)
			}
			work := t.TempDir()
			t.Chdir(work)
			r := inProcess(t, "run", "-q", "--dir", "runs", "--", "sh", "-c",
				`printf '%s\n' "$STAGE_TRACKER_RUN_ID" "$STAGE_TRACKER_JOURNAL" "$TRACEPARENT" "${TRACESTATE-unset}"`)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
			want := strings.Join([]string{
				rf.RunID,
				filepath.Join(work, "runs", rf.RunID+jsonrun.JournalSuffix),
				"00-" + rf.TraceID + "-" + rf.SpanID + "-01",
				tt.wantState,
			}, "\n") + "\n"
			if r.stdout != want {
				t.Errorf("CMD saw\n%s\nwant\n%s", r.stdout, want)
			}
			if tt.wantTrace != "" && rf.TraceID != tt.wantTrace || rf.ParentSpanID != tt.wantParent {
				t.Errorf("run trace %s parent %q, want trace %q parent %q", rf.TraceID, rf.ParentSpanID, tt.wantTrace, tt.wantParent)
			}
		})
	}
}

// TestSignalBeforeCommandStarts: a signal that arrives while the run is
// being set up (cmd/stagetrack's signal.NotifyContext cancels the context
// with the signal as its cause) keeps CMD from starting; the run is
// recorded as interrupted.
func TestSignalBeforeCommandStarts(t *testing.T) {
	outsideRun(t)
	tests := []struct {
		name, cause string
		code        int
		reason      string
	}{
		{name: "SIGTERM", cause: "terminated signal received", code: 143, reason: "interrupted by signal: terminated"},
		{name: "SIGINT", cause: "interrupt signal received", code: 130, reason: "interrupted by signal: interrupt"},
	}
	for _, tt := range tests {
		for _, command := range []string{"run", "exec"} {
			t.Run(command+" "+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				marker := filepath.Join(dir, "started")
				ctx, cancel := context.WithCancelCause(t.Context())
				cancel(errors.New(tt.cause))
				var stdout, stderr bytes.Buffer
				code := cli.Main(ctx, []string{command, "--dir", dir, "--", "touch", marker}, &cli.Env{Stdout: &stdout, Stderr: &stderr})
				if code != tt.code {
					t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tt.code, stderr.String())
				}
				if _, err := os.Stat(marker); err == nil {
					t.Error("the command ran")
				}
				_, rf := onlyRunFile(t, dir)
				if rf.Status != runfile.StatusInterrupted || rf.Error != tt.reason {
					t.Errorf("status %q error %q, want interrupted, %q", rf.Status, rf.Error, tt.reason)
				}
			})
		}
	}
}

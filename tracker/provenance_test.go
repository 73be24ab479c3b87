package tracker_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// provPipeline is a provider whose jsonrun exporter keeps a journal, and a
// span recorder beside it.
func provPipeline(t *testing.T, opts ...tracker.Option) (*tracker.Tracker, *jsonrun.Exporter, *tracetest.SpanRecorder) {
	t.Helper()
	exp, err := jsonrun.New(jsonrun.WithDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)), sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tracker.New(append([]tracker.Option{tracker.WithTracerProvider(tp)}, opts...)...), exp, rec
}

// tempRepo makes a git repository with a committed file and a modified
// one, makes it the working directory, and returns its HEAD.
func tempRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "gc.auto=0"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	os.WriteFile(filepath.Join(dir, "committed.txt"), []byte("v1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "modified.txt"), []byte("v1\n"), 0o644)
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "init")
	os.WriteFile(filepath.Join(dir, "modified.txt"), []byte("v2\n"), 0o644)
	t.Chdir(dir)
	return git("rev-parse", "HEAD")
}

// A run in a git repository with a committed file and a modified one
// records the commit, the branch and that the tree is dirty, by default.
func TestRunRecordsCodeVersion(t *testing.T) {
	head := tempRepo(t)
	tr, _, _ := provPipeline(t)
	ctx, run := tr.Start(t.Context(), "train")
	_, s := run.StartStage(ctx, "s")
	s.End(nil, nil)
	if err := run.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	rf, err := runfile.ReadFile(run.File())
	if err != nil {
		t.Fatal(err)
	}
	p := rf.Provenance
	if p == nil || p.Code == nil {
		t.Fatalf("no code in the run file's provenance: %+v", p)
	}
	if p.Code.Commit != head || !p.Code.Dirty || p.Code.Branch != "main" || len(p.Code.DiffSHA256) != 64 {
		t.Errorf("code %+v, want commit %s on main, dirty, with a diff digest", p.Code, head)
	}
	if p.Machine == nil || p.Machine.OS == "" || p.Machine.CPUs < 1 || p.Tools["go"] == "" || len(p.Command) == 0 || p.WorkingDir == "" {
		t.Errorf("machine, tools, command or working dir missing: %+v %+v", p, p.Machine)
	}
}

// The parts are switchable: WithCapture picks them, WithoutProvenance
// leaves the key out of the file, WithProvenance records what it is given.
func TestCaptureSwitches(t *testing.T) {
	tempRepo(t)
	given := runfile.Provenance{Command: []string{"given"}}
	tests := []struct {
		name    string
		trOpts  []tracker.Option
		runOpts []tracker.RunOption
		check   func(t *testing.T, p *runfile.Provenance)
	}{
		{name: "without", trOpts: []tracker.Option{tracker.WithoutProvenance()}, check: func(t *testing.T, p *runfile.Provenance) {
			if p != nil {
				t.Errorf("provenance %+v, want none", p)
			}
		}},
		{name: "machine only", runOpts: []tracker.RunOption{tracker.WithCapture(tracker.CaptureMachine)}, check: func(t *testing.T, p *runfile.Provenance) {
			if p == nil || p.Machine == nil || p.Code != nil || p.Command != nil || p.Tools != nil {
				t.Errorf("provenance %+v, want the machine alone", p)
			}
		}},
		{name: "given", runOpts: []tracker.RunOption{tracker.WithProvenance(given)}, check: func(t *testing.T, p *runfile.Provenance) {
			if p == nil || len(p.Command) != 1 || p.Command[0] != "given" || p.Code != nil {
				t.Errorf("provenance %+v, want the given one", p)
			}
		}},
		{name: "tool version", trOpts: []tracker.Option{tracker.WithCapture(tracker.CaptureTools), tracker.WithToolVersion("git")}, check: func(t *testing.T, p *runfile.Provenance) {
			if p == nil || !strings.HasPrefix(p.Tools["git"], "git version") || p.Tools["go"] == "" {
				t.Errorf("tools %+v, want go's and git's", p)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, _, _ := provPipeline(t, tc.trOpts...)
			ctx, run := tr.Start(t.Context(), "r", tc.runOpts...)
			if err := run.Finalize(ctx); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(run.File())
			if err != nil {
				t.Fatal(err)
			}
			rf, err := runfile.ReadFile(run.File())
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, rf.Provenance)
			if rf.Provenance == nil && bytes.Contains(b, []byte(`"provenance"`)) {
				t.Errorf("a run without provenance has the key:\n%s", b)
			}
		})
	}
}

// An environment variable not on the allow-list never reaches the run
// file, the journal or a span attribute; one on it does, its value
// redacted when its name says it is a secret, control characters and all
// as valid JSON.
func TestEnvNotOnAllowListNeverRecorded(t *testing.T) {
	const secret = "hunter2-not-allowed-value"
	t.Setenv("H22P_NOT_ALLOWED", secret)
	t.Setenv("H22P_ALLOWED_X", "visible\x01\x1b[31m\"\u2028")
	t.Setenv("H22P_ALLOWED_TOKEN", "tok-"+secret)
	t.Setenv(tracker.EnvAllowList, "H22P_ALLOWED_TOKEN")
	tr, exp, rec := provPipeline(t, tracker.WithEnv("H22P_ALLOWED_X"))
	ctx, run := tr.Start(t.Context(), "env")
	_, s := run.StartStage(ctx, "s")
	s.End(nil, nil)
	journalPath, err := exp.JournalPath(run.ID(), "")
	if err != nil {
		t.Fatal(err)
	}
	journal, err := os.ReadFile(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(run.File())
	if err != nil {
		t.Fatal(err)
	}
	var attrs bytes.Buffer
	for _, sp := range rec.Ended() {
		for _, kv := range sp.Attributes() {
			attrs.WriteString(string(kv.Key) + "=" + kv.Value.String() + "\n")
		}
	}
	for what, b := range map[string][]byte{"run file": file, "journal": journal, "span attributes": attrs.Bytes()} {
		for _, leak := range []string{secret, "H22P_NOT_ALLOWED"} {
			if bytes.Contains(b, []byte(leak)) {
				t.Errorf("the %s holds %q:\n%s", what, leak, b)
			}
		}
		if !bytes.Contains(b, []byte("H22P_ALLOWED_X")) {
			t.Errorf("the %s lacks the allowed variable:\n%s", what, b)
		}
	}
	if !json.Valid(file) {
		t.Fatalf("run file is not valid JSON:\n%s", file)
	}
	rf, err := runfile.ReadFile(run.File())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"H22P_ALLOWED_X": "visible\x01\x1b[31m\"\u2028", "H22P_ALLOWED_TOKEN": tracker.Redacted}
	if rf.Provenance == nil || len(rf.Provenance.Env) != len(want) {
		t.Fatalf("env %+v, want %q", rf.Provenance, want)
	}
	for k, v := range want {
		if rf.Provenance.Env[k] != v {
			t.Errorf("env %s = %q, want %q", k, rf.Provenance.Env[k], v)
		}
	}
}

// Stage.Input records a file as it is when called, Stage.Output as it is
// when the stage ends; a hostile file name stays valid JSON.
func TestStageInputOutput(t *testing.T) {
	t.Chdir(t.TempDir())
	in := "data \"we\nird\x01\".csv"
	os.WriteFile(in, []byte("a,b\n1,2\n"), 0o644)
	tr, _, _ := provPipeline(t, tracker.WithoutProvenance())
	ctx, run := tr.Start(t.Context(), "files")
	_, s := run.StartStage(ctx, "train")
	if err := s.Input(in); err != nil {
		t.Fatal(err)
	}
	s.Output("model.bin", "missing.bin")
	os.WriteFile(in, []byte("changed after Input"), 0o644)
	os.WriteFile("model.bin", []byte("weights"), 0o644)
	s.End(nil, nil)
	if err := run.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(run.File())
	if !json.Valid(b) {
		t.Fatalf("not valid JSON:\n%s", b)
	}
	rf, err := runfile.ReadFile(run.File())
	if err != nil {
		t.Fatal(err)
	}
	st := rf.Stages[0]
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	if len(st.Inputs) != 1 || st.Inputs[0].Path != in || st.Inputs[0].SHA256 != sum("a,b\n1,2\n") || st.Inputs[0].Size != 8 {
		t.Errorf("inputs %+v, want %q as it was at Input", st.Inputs, in)
	}
	if len(st.Outputs) != 2 || st.Outputs[0].SHA256 != sum("weights") || st.Outputs[1].Path != "missing.bin" || st.Outputs[1].SHA256 != "" || !st.Outputs[1].ModTime.IsZero() {
		t.Errorf("outputs %+v, want model.bin hashed at End and missing.bin without a digest", st.Outputs)
	}
	if d := time.Since(st.Outputs[0].ModTime); d < 0 || d > time.Minute {
		t.Errorf("output mtime %v", st.Outputs[0].ModTime)
	}
}

// Outside a repository a run has no code section.
func TestNoCodeOutsideARepository(t *testing.T) {
	t.Setenv("GIT_CEILING_DIRECTORIES", os.TempDir())
	t.Chdir(t.TempDir())
	tr, _, _ := provPipeline(t)
	ctx, run := tr.Start(t.Context(), "r")
	if err := run.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(run.File())
	if bytes.Contains(b, []byte(`"code"`)) || !bytes.Contains(b, []byte(`"machine"`)) {
		t.Errorf("want a provenance without code:\n%s", b)
	}
}

// A run's start does not wait for the git commands: git here is a wrapper
// that waits until the test opens a gate, which the test does only after
// Start has returned. The run file still records the code: Finalize waits
// for the capture and puts it on the run span. (Before, Start ran git and
// never returned; the watchdog opens the gate after a minute so that such
// a failure is reported, not hung.)
//
// And every command of the capture is running when Start returns, none is
// started later: a process forked while the run's journal is open holds
// the journal's lock until its exec, and a run killed then looked alive to
// a recovery that followed at once (1 to 6 % of scripts/crashstress trials
// when the capture ran git from a goroutine after Start).
func TestRunStartDoesNotWaitForGit(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the git wrapper is a shell script")
	}
	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not on PATH")
	}
	head := tempRepo(t)
	bin := t.TempDir()
	gate := filepath.Join(t.TempDir(), "open")
	calls := filepath.Join(t.TempDir(), "calls")
	script := "#!/bin/sh\necho $$ >>'" + calls + "'\nwhile [ ! -e '" + gate + "' ]; do sleep 0.01; done\nexec '" + realGit + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var watchdog atomic.Bool
	w := time.AfterFunc(time.Minute, func() {
		watchdog.Store(true)
		os.WriteFile(gate, nil, 0o644)
	})
	defer w.Stop()

	exp, err := jsonrun.New(jsonrun.WithDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	// What runs when the run span starts, before the exporter opens its
	// journal (the processors' order).
	var running []string
	atStart := onStart(func(s sdktrace.ReadWriteSpan) {
		if !s.Parent().IsValid() {
			running = gitChildren(t, filepath.Join(bin, "git"))
		}
	})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(atStart), sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tracker.New(tracker.WithTracerProvider(tp))
	ctx, run := tr.Start(t.Context(), "train")
	if watchdog.Load() {
		t.Fatal("Start waited for git")
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	rf, err := runfile.ReadFile(run.File())
	if err != nil {
		t.Fatal(err)
	}
	if p := rf.Provenance; p == nil || p.Code == nil || p.Code.Commit != head || len(p.Command) == 0 {
		t.Fatalf("provenance %+v; want the code at %s and the command", p, head)
	}
	b, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	if started := strings.Fields(string(b)); procChildren() && !slices.Equal(sorted(started), sorted(running)) {
		t.Errorf("git started as %v; running when the run span started: %v", started, running)
	}
}

// procChildren reports whether /proc lists a process's children.
func procChildren() bool {
	_, err := os.Stat("/proc/self/task/" + strconv.Itoa(os.Getpid()) + "/children")
	return err == nil
}

// gitChildren returns the pids of this process's children that run the
// script wrapper.
func gitChildren(t *testing.T, wrapper string) []string {
	t.Helper()
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	var pids []string
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue
		}
		for _, pid := range strings.Fields(string(b)) {
			if cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline"); strings.Contains(string(cmd), wrapper) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// onStart is a span processor that calls f as each span starts.
type onStart func(sdktrace.ReadWriteSpan)

func (f onStart) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) { f(s) }
func (onStart) OnEnd(sdktrace.ReadOnlySpan)                           {}
func (onStart) Shutdown(context.Context) error                        { return nil }
func (onStart) ForceFlush(context.Context) error                      { return nil }

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

//go:build unix

package cli_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestPipelineCommands builds stagetrack once and runs the commands that
// CI pipelines use (issue 11) as a user would, in separate processes. The
// cases run in parallel: each has its own directories and environment,
// and most of their time is waiting for processes and timeouts (6.3 s
// one after another under -race).
func TestPipelineCommands(t *testing.T) {
	bin := buildBinaries(t)
	t.Run("stage data from flags, a Python script and stage-data", func(t *testing.T) {
		t.Parallel()
		testStageData(t, bin)
	})
	t.Run("a failed stage records its stderr tail", func(t *testing.T) {
		t.Parallel()
		testStderrTail(t, bin)
	})
	t.Run("--timeout ends the command and records it", func(t *testing.T) {
		t.Parallel()
		testTimeout(t, bin)
	})
	t.Run("--timeout in a run: timed_out through the journal", func(t *testing.T) {
		t.Parallel()
		testTimeoutJoined(t, bin)
	})
	t.Run("--retry records each attempt", func(t *testing.T) {
		t.Parallel()
		testRetry(t, bin)
	})
	t.Run("start, exec steps in separate shells, finish", func(t *testing.T) {
		t.Parallel()
		testStartFinish(t, bin)
	})
	t.Run("on GitHub Actions: attributes, step summary, annotations", func(t *testing.T) {
		t.Parallel()
		testGitHubActions(t, bin)
	})
	t.Run("progress lines when stderr is a file", func(t *testing.T) {
		t.Parallel()
		testPlainProgress(t, bin)
	})
}

func testGitHubActions(t *testing.T, bin binaries) {
	work := t.TempDir()
	summary := filepath.Join(work, "summary.md")
	gh := []string{
		"GITHUB_ACTIONS=true", "GITHUB_WORKFLOW=CI", "GITHUB_JOB=test", "GITHUB_RUN_ID=1234", "GITHUB_RUN_ATTEMPT=2",
		"GITHUB_REPOSITORY=octo/repo", "GITHUB_SHA=0123456789abcdef", "GITHUB_SERVER_URL=https://github.com",
		"GITHUB_STEP_SUMMARY=" + summary,
	}
	for _, script := range []string{
		`"$ST" start --name ci --env-file job.env`,
		`"$ST" exec --stage build --data n=3 -- true`,
		`"$ST" exec --stage test -- sh -c 'echo "assertion failed: 1 != 2" >&2; exit 1'`,
	} {
		step(t, work, bin, gh, script)
	}
	fin := step(t, work, bin, gh, `"$ST" finish > finish.out`)
	if fin.code != 0 {
		t.Fatalf("finish: exit %d stderr %q", fin.code, fin.stderr)
	}
	out, _ := os.ReadFile(filepath.Join(work, "finish.out"))
	path, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	wantOut := "::error title=stage test failed::exit status 1%0Aassertion failed: 1 != 2\n" + path + "\n"
	if string(out) != wantOut {
		t.Errorf("finish stdout\n%s\nwant\n%s", out, wantOut)
	}
	md, err := os.ReadFile(summary)
	if err != nil {
		t.Fatalf("step summary: %v", err)
	}
	for _, want := range []string{"### ❌ stagetrack run `ci`: failed", "| build | ✅ ok |", "| test | ❌ error |", "exit status 1 |",
		"<details><summary>stderr of test</summary>", "assertion failed: 1 != 2", rf.TraceID} {
		if !strings.Contains(string(md), want) {
			t.Errorf("step summary lacks %q:\n%s", want, md)
		}
	}
	var args struct{ CI map[string]string }
	if err := json.Unmarshal(rf.Args, &args); err != nil {
		t.Fatalf("args %s: %v", rf.Args, err)
	}
	want := map[string]string{
		"ci.provider": "github_actions", "cicd.pipeline.name": "CI", "cicd.pipeline.task.name": "test", "cicd.pipeline.run.id": "1234",
		"github.run_attempt": "2", "github.repository": "octo/repo", "vcs.ref.head.revision": "0123456789abcdef",
		"cicd.pipeline.run.url.full": "https://github.com/octo/repo/actions/runs/1234/attempts/2",
	}
	for k, v := range want {
		if args.CI[k] != v {
			t.Errorf("run file args.ci[%q] = %q, want %q", k, args.CI[k], v)
		}
	}
	// The run span carries them too: printed by the console exporter.
	con := step(t, work, bin, append(gh, "OTEL_TRACES_EXPORTER=console"), `env -u STAGE_TRACKER_RUN_ID -u STAGE_TRACKER_JOURNAL -u TRACEPARENT "$ST" exec --dir other -- true`)
	for _, want := range []string{`"Key": "cicd.pipeline.run.url.full"`, `"Value": "https://github.com/octo/repo/actions/runs/1234/attempts/2"`} {
		if !strings.Contains(con.stderr, want) {
			t.Errorf("console spans lack %s:\n%s", want, con.stderr)
		}
	}
}

func TestGitLabAttributes(t *testing.T) {
	outsideRun(t)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"GITLAB_CI": "true", "CI_PIPELINE_ID": "77", "CI_PIPELINE_URL": "https://gitlab.com/g/p/-/pipelines/77",
		"CI_JOB_ID": "88", "CI_JOB_NAME": "unit", "CI_JOB_URL": "https://gitlab.com/g/p/-/jobs/88",
		"CI_COMMIT_SHA": "abc123", "CI_PROJECT_PATH": "g/p",
	} {
		t.Setenv(k, v)
	}
	var stdout, stderr strings.Builder
	code := cli.Main(t.Context(), []string{"exec", "--dir", dir, "--", "true"}, &cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	_, rf := onlyRunFile(t, dir)
	var args struct{ CI map[string]string }
	if err := json.Unmarshal(rf.Args, &args); err != nil {
		t.Fatalf("args %s: %v", rf.Args, err)
	}
	want := map[string]string{
		"ci.provider": "gitlab_ci", "cicd.pipeline.run.id": "77", "cicd.pipeline.task.run.id": "88", "cicd.pipeline.task.name": "unit",
		"cicd.pipeline.task.run.url.full": "https://gitlab.com/g/p/-/jobs/88", "vcs.ref.head.revision": "abc123",
		"gitlab.project.path": "g/p", "cicd.pipeline.name": "g/p",
	}
	for k, v := range want {
		if args.CI[k] != v {
			t.Errorf("args.ci[%q] = %q, want %q", k, args.CI[k], v)
		}
	}
}

func testPlainProgress(t *testing.T, bin binaries) {
	tests := []struct {
		name  string
		quiet bool
	}{{name: "plain lines"}, {name: "-q prints none", quiet: true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			q := ""
			if tc.quiet {
				q = "-q"
			}
			step(t, work, bin, nil, `"$ST" run `+q+` --name p -- sh -c '"$ST" exec --stage fetch -- true; "$ST" exec --stage build -- sh -c "exit 3"; true' 2> err.log`)
			b, _ := os.ReadFile(filepath.Join(work, "err.log"))
			log := string(b)
			if strings.Contains(log, "\x1b") {
				t.Errorf("escape sequences in a file:\n%q", log)
			}
			var got []string
			for line := range strings.Lines(log) {
				if strings.HasPrefix(line, "» ") {
					f := strings.Fields(line)
					got = append(got, strings.Join(f[2:4], " "))
					if f[2] == "✘" && !strings.HasSuffix(line, "exit status 3\n") {
						t.Errorf("failed stage's line %q lacks its error", line)
					}
				}
			}
			want := []string{"▶ fetch", "✔ fetch", "▶ build", "✘ build"}
			if tc.quiet {
				want = nil
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("progress lines %q, want %q\nstderr:\n%s", got, want, log)
			}
		})
	}
}

// step runs script in a new sh -c that shares only the env file job.env
// with the other steps (and the test's environment, ST naming stagetrack).
func step(t *testing.T, work string, bin binaries, extraEnv []string, script string) procResult {
	t.Helper()
	env := userEnv(append([]string{"ST=" + bin.stagetrack}, extraEnv...)...)
	return runAsUser(t, work, env, "sh", "-c", `if [ -f job.env ]; then set -a; . ./job.env; set +a; fi
`+script)
}

func testStartFinish(t *testing.T, bin binaries) {
	work := t.TempDir()
	if r := step(t, work, bin, nil, `"$ST" start --name ci --env-file job.env`); r.code != 0 || r.stdout != "" {
		t.Fatalf("start: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := step(t, work, bin, nil, `"$ST" exec --stage build --data n=3 --data target=linux -- echo built`); r.code != 0 || r.stdout != "built\n" {
		t.Fatalf("build step: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	// Another command's start-up recovery must leave the started run alone.
	if r := step(t, work, bin, nil, `env -u STAGE_TRACKER_RUN_ID -u STAGE_TRACKER_JOURNAL -u TRACEPARENT "$ST" recover runs`); r.code != 0 {
		t.Fatalf("recover: exit %d stderr %q", r.code, r.stderr)
	}
	if j, _ := filepath.Glob(filepath.Join(work, "runs", "*.journal")); len(j) != 1 {
		t.Fatalf("journals after recover: %v; the started run's journal must stay", j)
	}
	r := step(t, work, bin, nil, `"$ST" exec --stage test --data suite=unit -- sh -c 'echo "--- FAIL: TestParse" >&2; exit 1'`)
	if r.code != 1 || r.stderr != "--- FAIL: TestParse\n" {
		t.Fatalf("test step: exit %d stderr %q; want 1 and its stderr untouched", r.code, r.stderr)
	}
	fin := step(t, work, bin, nil, `"$ST" finish`)
	if fin.code != 0 {
		t.Fatalf("finish: exit %d stderr %q", fin.code, fin.stderr)
	}
	path, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	if fin.stdout != path+"\n" {
		t.Errorf("finish printed %q, want the run file %s", fin.stdout, path)
	}
	if rf.Name != "ci" || rf.Status != runfile.StatusFailed || !strings.Contains(rf.Error, "test") || len(rf.Stages) != 2 {
		t.Fatalf("run %q status %q error %q with %d stages; want ci, failed, an error naming stage test, 2 stages", rf.Name, rf.Status, rf.Error, len(rf.Stages))
	}
	build, test := rf.Stages[0], rf.Stages[1]
	if d := stageData(t, build); build.Key != "build" || d["n"] != 3.0 || d["target"] != "linux" {
		t.Errorf("build stage %q data %s", build.Key, build.Data)
	}
	if d := stageData(t, test); test.Key != "test" || d["suite"] != "unit" || d["stderr_tail"] != "--- FAIL: TestParse" {
		t.Errorf("test stage %q data %s", test.Key, test.Data)
	}
	if rf.StartTime.After(build.StartTime) || rf.TraceID == "" {
		t.Errorf("run starts %v after its first stage %v, or has no trace id %q", rf.StartTime, build.StartTime, rf.TraceID)
	}
	junit := runAsUser(t, work, userEnv(), bin.stagetrack, "report", "--format", "junit", "-o", "-", path)
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Text string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(junit.stdout), &doc); err != nil || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 {
		t.Fatalf("report --format junit: exit %d, %v\n%s", junit.code, err, junit.stdout)
	}
	if f := doc.Suites[0].Cases[1].Failure; f == nil || !strings.Contains(f.Text, "--- FAIL: TestParse") {
		t.Errorf("junit test case of the failed stage: %+v", doc.Suites[0].Cases[1])
	}
	before, _ := os.ReadFile(path)
	again := step(t, work, bin, nil, `"$ST" finish`)
	after, _ := os.ReadFile(path)
	if again.code != 0 || again.stdout != "" || strings.Count(again.stderr, "\n") != 1 || !strings.Contains(again.stderr, "finished already") || string(before) != string(after) {
		t.Errorf("second finish: exit %d stdout %q stderr %q, file changed: %v; want 0, one line, the file as it was", again.code, again.stdout, again.stderr, string(before) != string(after))
	}

	// A step after finish cannot join (issue 9): one line, non-zero, its
	// command not run, nothing written.
	late := step(t, work, bin, nil, `"$ST" exec --stage late -- touch late-ran`)
	if late.code == 0 || strings.Count(late.stderr, "\n") != 1 || !strings.Contains(late.stderr, "cannot join") {
		t.Errorf("exec after finish: exit %d stderr %q; want non-zero and one line saying it cannot join", late.code, late.stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "late-ran")); err == nil {
		t.Errorf("an exec after finish ran its command")
	}
	if after, _ := os.ReadFile(path); string(before) != string(after) {
		t.Errorf("an exec after finish changed the finished run file")
	}
	if files, _ := filepath.Glob(filepath.Join(work, "runs", "*.json")); len(files) != 1 {
		t.Errorf("run files %v; want only the finished run", files)
	}

	t.Run("a started run never finished is recovered as interrupted when asked", func(t *testing.T) {
		work := t.TempDir()
		for _, script := range []string{`"$ST" start --env-file job.env`, `"$ST" exec --stage only -- true`} {
			if r := step(t, work, bin, nil, script); r.code != 0 {
				t.Fatalf("%s: exit %d stderr %q", script, r.code, r.stderr)
			}
		}
		j, _ := filepath.Glob(filepath.Join(work, "runs", "*.journal"))
		if len(j) != 1 {
			t.Fatalf("journals %v", j)
		}
		if r := runAsUser(t, work, userEnv(), bin.stagetrack, "recover", "--journal", j[0]); r.code != 0 {
			t.Fatalf("recover: exit %d stderr %q", r.code, r.stderr)
		}
		_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
		if rf.Status != runfile.StatusInterrupted || !strings.Contains(rf.Error, "never finished") || len(rf.Stages) != 1 {
			t.Errorf("status %q error %q, %d stages", rf.Status, rf.Error, len(rf.Stages))
		}
	})
	t.Run("recover DIR takes a started run only after DetachedMaxAge", func(t *testing.T) {
		tests := []struct {
			name   string
			age    time.Duration
			status string // "" when it must stay a journal
		}{
			{name: "an hour old stays", age: time.Hour},
			{name: "older than the age is interrupted", age: jsonrun.DetachedMaxAge + time.Hour, status: runfile.StatusInterrupted},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				work := t.TempDir()
				runs := filepath.Join(work, "runs")
				if err := os.MkdirAll(runs, 0o755); err != nil {
					t.Fatal(err)
				}
				id := "3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f"
				host, _ := os.Hostname()
				header := fmt.Sprintf(`{"e":"run","t":%d,"run_id":%q,"trace_id":"5ccfaa0df1c79ce5db0bd45c030a5119","span_id":"a793051a2bda5927","name":"ci","host":%q,"detached":true}`+"\n",
					time.Now().Add(-tc.age).UnixNano(), id, host)
				if err := os.WriteFile(filepath.Join(runs, id+jsonrun.JournalSuffix), []byte(header), 0o644); err != nil {
					t.Fatal(err)
				}
				if r := runAsUser(t, work, userEnv(), bin.stagetrack, "recover", "runs"); r.code != 0 {
					t.Fatalf("recover: exit %d stderr %q", r.code, r.stderr)
				}
				files, _ := filepath.Glob(filepath.Join(runs, "*.json"))
				if tc.status == "" {
					if len(files) != 0 {
						t.Errorf("a started run an hour old was recovered: %v", files)
					}
					return
				}
				_, rf := onlyRunFile(t, runs)
				if rf.Status != tc.status || !strings.Contains(rf.Error, "never finished") {
					t.Errorf("status %q error %q", rf.Status, rf.Error)
				}
			})
		}
	})
	t.Run("start prints export lines for eval", func(t *testing.T) {
		r := runAsUser(t, t.TempDir(), userEnv(), bin.stagetrack, "start")
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if r.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "export STAGE_TRACKER_RUN_ID=") ||
			!strings.HasPrefix(lines[1], "export STAGE_TRACKER_JOURNAL=") || !strings.HasPrefix(lines[2], "export TRACEPARENT=00-") {
			t.Errorf("exit %d stdout %q", r.code, r.stdout)
		}
	})
}

// stageData decodes a stage's data as a map.
func stageData(t *testing.T, st runfile.Stage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(st.Data, &m); err != nil {
		t.Fatalf("stage %s data %s: %v", st.Key, st.Data, err)
	}
	return m
}

func testStageData(t *testing.T, bin binaries) {
	py, err := exec.LookPath("python3")
	tests := []struct {
		name   string
		python bool
		args   []string // after exec
		want   map[string]any
		warn   bool // exec prints a one-line warning about the data file
	}{
		{
			name: "--data values typed as JSON where they parse",
			args: []string{"--data", "n=3", "--data", "acc=0.93", "--data", "ok=true", "--data", "model=resnet 50", "--data", "empty=", "--", "true"},
			want: map[string]any{"n": 3.0, "acc": 0.93, "ok": true, "model": "resnet 50", "empty": ""},
		},
		{
			name: "stage-data from inside the command, twice, merged",
			args: []string{"--data", "a=1", "--", "sh", "-c", `"$ST" stage-data rows=12 table=orders && "$ST" stage-data rows=13`},
			want: map[string]any{"a": 1.0, "rows": 13.0, "table": "orders"},
		},
		{
			name:   "a Python script writes the data file with the standard library",
			python: true,
			args: []string{"--", py, "-c",
				`import json, os; json.dump({"accuracy": 0.93, "cves": ["CVE-1"]}, open(os.environ["STAGE_TRACKER_DATA_FILE"], "w"))`},
			want: map[string]any{"accuracy": 0.93, "cves": []any{"CVE-1"}},
		},
		{
			name: "a bad data file is a warning; the stage keeps its other data",
			args: []string{"--data", "k=v", "--", "sh", "-c", `echo 'not json' > "$STAGE_TRACKER_DATA_FILE"`},
			want: map[string]any{"k": "v"}, warn: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.python && err != nil {
				t.Skip("python3 is not installed: the Python data-file case needs it")
			}
			work := t.TempDir()
			r := runAsUser(t, work, userEnv("ST="+bin.stagetrack), append([]string{bin.stagetrack, "exec", "--stage", "s"}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
			}
			_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
			got := stageData(t, rf.Stages[0])
			for k, v := range tc.want {
				if g, _ := json.Marshal(got[k]); string(g) != mustJSON(t, v) {
					t.Errorf("data[%q] = %s, want %s (data %s)", k, g, mustJSON(t, v), rf.Stages[0].Data)
				}
			}
			warned := strings.HasPrefix(r.stderr, "stagetrack: data file ") && strings.Count(r.stderr, "\n") == 1
			if warned != tc.warn {
				t.Errorf("stderr %q; want a one-line data-file warning: %v", r.stderr, tc.warn)
			}
			if _, ok := got["exit_code"]; !ok {
				t.Errorf("exec's own exit_code is missing: %s", rf.Stages[0].Data)
			}
		})
	}
	t.Run("the data file given by --data-file is read and left in place", func(t *testing.T) {
		work := t.TempDir()
		f := filepath.Join(work, "out.json")
		r := runAsUser(t, work, userEnv(), bin.stagetrack, "exec", "--data-file", f, "--",
			"sh", "-c", `test "$STAGE_TRACKER_DATA_FILE" = "`+f+`" && echo '{"rows": 7}' > "$STAGE_TRACKER_DATA_FILE"`)
		if r.code != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
		_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
		if got := stageData(t, rf.Stages[0])["rows"]; got != 7.0 {
			t.Errorf("rows = %v, want 7 (data %s)", got, rf.Stages[0].Data)
		}
		if _, err := os.Stat(f); err != nil {
			t.Errorf("the user's data file is gone: %v", err)
		}
	})
	t.Run("stage-data outside exec fails", func(t *testing.T) {
		r := runAsUser(t, t.TempDir(), userEnv(), bin.stagetrack, "stage-data", "a=1")
		if r.code != 1 || r.stderr != "stagetrack: STAGE_TRACKER_DATA_FILE is not set: stage-data runs inside stagetrack exec\n" {
			t.Errorf("exit %d stderr %q", r.code, r.stderr)
		}
	})
}

func testStderrTail(t *testing.T, bin binaries) {
	// 30 lines on stderr, a secret among the last ones.
	script := `for i in $(seq 1 28); do echo "line $i" >&2; done; echo "GITHUB_TOKEN=ghp_abcdef123 password: hunter2" >&2; echo "using $MY_SECRET" >&2; exit 3`
	var full strings.Builder
	for i := 1; i <= 28; i++ {
		fmt.Fprintf(&full, "line %d\n", i)
	}
	full.WriteString("GITHUB_TOKEN=ghp_abcdef123 password: hunter2\nusing s3cr3t-value\n")
	tests := []struct {
		name string
		args []string
		want string // stderr_tail; "" for none
	}{
		{
			name: "the last 20 lines, redacted", args: []string{"--", "sh", "-c", script},
			want: "line 11\nline 12\nline 13\nline 14\nline 15\nline 16\nline 17\nline 18\nline 19\nline 20\n" +
				"line 21\nline 22\nline 23\nline 24\nline 25\nline 26\nline 27\nline 28\n" +
				"GITHUB_TOKEN=[REDACTED] password: [REDACTED]\nusing [REDACTED]",
		},
		{name: "--stderr-tail 3", args: []string{"--stderr-tail", "3", "--", "sh", "-c", script},
			want: "line 28\nGITHUB_TOKEN=[REDACTED] password: [REDACTED]\nusing [REDACTED]"},
		{name: "--stderr-tail 0 records none", args: []string{"--stderr-tail", "0", "--", "sh", "-c", script}},
		{name: "a stage that succeeds records none", args: []string{"--", "sh", "-c", "echo fine >&2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			r := runAsUser(t, work, userEnv("MY_SECRET=s3cr3t-value"), append([]string{bin.stagetrack, "exec", "--stage", "s"}, tc.args...)...)
			if wantOut := full.String(); tc.want != "" && r.stderr != wantOut {
				t.Errorf("stderr passed through as\n%s\nwant\n%s", r.stderr, wantOut)
			}
			path, rf := onlyRunFile(t, filepath.Join(work, "runs"))
			got, _ := stageData(t, rf.Stages[0])["stderr_tail"].(string)
			if got != tc.want {
				t.Errorf("stderr_tail\n%q\nwant\n%q", got, tc.want)
			}
			if tc.want == "" {
				return
			}
			show := runAsUser(t, work, userEnv(), bin.stagetrack, "show", path)
			wantShow := "\nstderr of s (exit status 3):\n  │ " + strings.ReplaceAll(tc.want, "\n", "\n  │ ") + "\n"
			if !strings.HasSuffix(show.stdout, wantShow) {
				t.Errorf("show ends\n%s\nwant it to end\n%s", show.stdout, wantShow)
			}
			html := filepath.Join(work, "r.html")
			if rep := runAsUser(t, work, userEnv(), bin.stagetrack, "report", "-o", html, path); rep.code != 0 {
				t.Fatalf("report: exit %d %s", rep.code, rep.stderr)
			}
			page, _ := os.ReadFile(html)
			if !strings.Contains(string(page), "stderr:\n"+strings.SplitN(tc.want, "\n", 2)[0]+"\n") {
				t.Errorf("the report's tooltip does not show the stderr tail")
			}
		})
	}
}

func testTimeout(t *testing.T, bin binaries) {
	tests := []struct {
		name string
		args []string
		sig  string // the signal that ended CMD
		line string // the line that says so
	}{
		{name: "SIGTERM ends sleep 60", args: []string{"--timeout", "1s", "--", "sleep", "60"}, sig: "terminated",
			line: `stagetrack: stage "s" timed out after 1s; sent SIGTERM to its process group` + "\n"},
		{name: "SIGKILL after --kill-after when SIGTERM is ignored, the whole group",
			args: []string{"--timeout", "1s", "--kill-after", "500ms", "--", "sh", "-c", `trap "" TERM; sleep 60; echo survived`}, sig: "killed",
			line: `stagetrack: stage "s" timed out after 1s; sent SIGTERM to its process group, then SIGKILL after 500ms` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			began := time.Now()
			r := runAsUser(t, work, userEnv(), append([]string{bin.stagetrack, "exec", "--stage", "s"}, tc.args...)...)
			took := time.Since(began)
			if r.code != 124 {
				t.Fatalf("exit %d, want 124\nstderr:\n%s", r.code, r.stderr)
			}
			if took > 15*time.Second {
				t.Errorf("took %v; a 1s timeout should end it in a few seconds", took)
			}
			if n := strings.Count(r.stderr, "timed out"); n != 1 || !strings.Contains(r.stderr, tc.line) {
				t.Errorf("stderr, want the one line %q:\n%s", tc.line, r.stderr)
			}
			_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
			st := rf.Stages[0]
			d := stageData(t, st)
			if !st.TimedOut {
				t.Errorf("stage timed_out %v, want true", st.TimedOut)
			}
			if st.Error != "timed out after 1s" || d["timed_out"] != true || d["signal"] != tc.sig {
				t.Errorf("stage error %q data %s; want timed out after 1s, timed_out, signal %s", st.Error, st.Data, tc.sig)
			}
			if rf.Status != runfile.StatusFailed || rf.Error != "timed out after 1s" {
				t.Errorf("run status %q error %q", rf.Status, rf.Error)
			}
		})
	}
}

// testTimeoutJoined: a stage of a run records timed_out through the
// run's journal, as one of its own process does through its span.
func testTimeoutJoined(t *testing.T, bin binaries) {
	work := t.TempDir()
	r := runAsUser(t, work, userEnv(), bin.stagetrack, "run", "--", bin.stagetrack, "exec", "--stage", "train", "--timeout", "1s", "--", "sleep", "60")
	if r.code != 124 {
		t.Fatalf("exit %d, want 124\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `stagetrack: stage "train" timed out after 1s; sent SIGTERM to its process group`+"\n") {
		t.Errorf("stderr lacks the timeout line:\n%s", r.stderr)
	}
	_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	if len(rf.Stages) != 1 || !rf.Stages[0].TimedOut || rf.Error != `stage "train" failed: timed out after 1s` {
		t.Errorf("run error %q stages %+v; want train timed out, and named", rf.Error, rf.Stages)
	}
}

func testRetry(t *testing.T, bin binaries) {
	work := t.TempDir()
	// Fails the first time (no counter file yet), succeeds the second.
	script := `if [ -e counter ]; then echo second; exit 0; fi; touch counter; echo flaky >&2; exit 1`
	r := runAsUser(t, work, userEnv(), bin.stagetrack, "exec", "--stage", "fetch", "--retry", "2", "--", "sh", "-c", script)
	if r.code != 0 || r.stdout != "second\n" {
		t.Fatalf("exit %d stdout %q, want 0 and the second attempt's output\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "stagetrack: fetch failed (exit status 1); attempt 2 of 3\n") {
		t.Errorf("stderr %q does not announce the second attempt", r.stderr)
	}
	_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	if len(rf.Stages) != 2 {
		t.Fatalf("%d stages, want 2 attempts", len(rf.Stages))
	}
	first, second := rf.Stages[0], rf.Stages[1]
	if first.Key != "fetch#1" || first.Attempt != 1 || first.Status != runfile.StageError || first.Error != "exit status 1" ||
		stageData(t, first)["stderr_tail"] != "flaky" {
		t.Errorf("first attempt %q attempt %d status %q error %q data %s", first.Key, first.Attempt, first.Status, first.Error, first.Data)
	}
	if second.Key != "fetch" || second.Attempt != 2 || second.Status != runfile.StageOK {
		t.Errorf("second attempt %q attempt %d status %q", second.Key, second.Attempt, second.Status)
	}
	if rf.Error != "" || rf.Status != runfile.StatusOK {
		t.Errorf("run status %q error %q; want ok: the last attempt succeeded", rf.Status, rf.Error)
	}
}

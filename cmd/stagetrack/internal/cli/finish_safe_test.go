//go:build unix

package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// startedRun opens a run with start in a new working directory and records
// one stage, build, in it; it returns the directory.
func startedRun(t *testing.T, bin binaries) string {
	t.Helper()
	work := t.TempDir()
	if r := step(t, work, bin, nil, `"$ST" start --name ci --env-file job.env`); r.code != 0 {
		t.Fatalf("start: exit %d stderr %q", r.code, r.stderr)
	}
	if r := step(t, work, bin, nil, `"$ST" exec --stage build -- true`); r.code != 0 {
		t.Fatalf("build step: exit %d stderr %q", r.code, r.stderr)
	}
	return work
}

// stepCmd is step's command, not yet started.
func stepCmd(t *testing.T, work string, bin binaries, script string) *exec.Cmd {
	cmd := exec.CommandContext(t.Context(), "sh", "-c", `set -a; . ./job.env; set +a
`+script)
	cmd.Dir, cmd.Env = work, userEnv("ST="+bin.stagetrack)
	return cmd
}

func stageKeys(rf *runfile.Run) string {
	var keys []string
	for _, s := range rf.Stages {
		keys = append(keys, s.Key+":"+s.Status)
	}
	return strings.Join(keys, ",")
}

// TestFinishConcurrentSafe runs several finish calls of one run at once
// (issue 21): one writes the run file, the others wait for it and exit 0
// saying the run is finished already.
func TestFinishConcurrentSafe(t *testing.T) {
	bin := buildBinaries(t)
	for _, tc := range []struct {
		name string
		n    int
	}{
		{name: "two", n: 2},
		{name: "eight", n: 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := startedRun(t, bin)
			type result struct {
				stdout, stderr string
				err            error
			}
			results := make([]result, tc.n)
			var wg sync.WaitGroup
			for i := range tc.n {
				cmd := stepCmd(t, work, bin, `"$ST" finish -q`)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				wg.Go(func() {
					err := cmd.Run()
					results[i] = result{stdout.String(), stderr.String(), err}
				})
			}
			wg.Wait()
			path, rf := onlyRunFile(t, filepath.Join(work, "runs"))
			wrote := 0
			for i, r := range results {
				if r.err != nil {
					t.Errorf("finish %d: %v, stderr %q; want exit 0", i, r.err, r.stderr)
					continue
				}
				if r.stdout == path+"\n" {
					wrote++
				} else if !strings.Contains(r.stderr, "finished already") {
					t.Errorf("finish %d: stdout %q stderr %q; want the run file's path, or a line saying the run is finished already", i, r.stdout, r.stderr)
				}
			}
			if wrote != 1 {
				t.Errorf("%d finish calls printed the run file; want 1", wrote)
			}
			if left, _ := filepath.Glob(filepath.Join(work, "runs", "*.finishing")); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
			if rf.Status != runfile.StatusOK || stageKeys(rf) != "build:ok" {
				t.Errorf("run %s with stages %s; want ok with build:ok", rf.Status, stageKeys(rf))
			}
		})
	}
}

// TestFinishCompletesAnInterruptedFinish leaves the journal as a finish
// killed between its rename and its run file leaves it
// (<id>.journal.finishing): the next finish, or recover DIR, completes it.
func TestFinishCompletesAnInterruptedFinish(t *testing.T) {
	bin := buildBinaries(t)
	for _, tc := range []struct {
		name   string
		script string
		status string
	}{
		{name: "the next finish", script: `"$ST" finish -q`, status: runfile.StatusOK},
		{name: "recover DIR", script: `env -u STAGE_TRACKER_RUN_ID -u STAGE_TRACKER_JOURNAL -u TRACEPARENT "$ST" recover runs`, status: runfile.StatusInterrupted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := startedRun(t, bin)
			journals, _ := filepath.Glob(filepath.Join(work, "runs", "*.journal"))
			if len(journals) != 1 {
				t.Fatalf("journals %v; want the started run's", journals)
			}
			if err := os.Rename(journals[0], journals[0]+".finishing"); err != nil {
				t.Fatal(err)
			}
			if r := step(t, work, bin, nil, tc.script); r.code != 0 {
				t.Fatalf("exit %d stdout %q stderr %q; want 0", r.code, r.stdout, r.stderr)
			}
			_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
			if left, _ := filepath.Glob(filepath.Join(work, "runs", "*.finishing")); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
			if rf.Status != tc.status || stageKeys(rf) != "build:ok" {
				t.Errorf("run %s with stages %s; want %s with build:ok", rf.Status, stageKeys(rf), tc.status)
			}
		})
	}
}

// TestFinishWaitsForARunningExec runs finish while an exec step of the run
// still runs: finish says it waits, and the stage ends ok in the run file.
// Past --wait, finish goes on without it and says so.
func TestFinishWaitsForARunningExec(t *testing.T) {
	bin := buildBinaries(t)
	for _, tc := range []struct {
		name   string
		wait   string
		status string // of the slow stage
		says   string
	}{
		{name: "until the step ends", wait: "1m", status: runfile.StageOK, says: "waiting up to 1m0s"},
		{name: "no longer than --wait", wait: "100ms", status: runfile.StageUnfinished, says: "still ran after 100ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := startedRun(t, bin)
			slow := stepCmd(t, work, bin, `"$ST" exec --stage slow -- sh -c 'echo started; read line'`)
			release, _ := slow.StdinPipe()
			out, _ := slow.StdoutPipe()
			var slowErr bytes.Buffer
			slow.Stderr = &slowErr
			if err := slow.Start(); err != nil {
				t.Fatal(err)
			}
			defer slow.Wait()
			defer release.Close()
			if line, _ := bufio.NewReader(out).ReadString('\n'); line != "started\n" {
				t.Fatalf("slow step printed %q", line)
			}

			fin := stepCmd(t, work, bin, `"$ST" finish -q --wait `+tc.wait)
			finErr, _ := fin.StderrPipe()
			var finOut bytes.Buffer
			fin.Stdout = &finOut
			if err := fin.Start(); err != nil {
				t.Fatal(err)
			}
			// Read what finish says up to the line the case expects; the
			// step ends after it.
			said := bufio.NewScanner(finErr)
			var lines []string
			for said.Scan() {
				lines = append(lines, said.Text())
				if strings.Contains(said.Text(), tc.says) {
					break
				}
			}
			if len(lines) == 0 || !strings.Contains(lines[len(lines)-1], tc.says) {
				t.Errorf("finish said %q; want a line with %q", lines, tc.says)
			}
			io.WriteString(release, "go\n") // the step ends
			release.Close()
			io.Copy(io.Discard, finErr)
			if err := fin.Wait(); err != nil {
				t.Fatalf("finish: %v", err)
			}
			slow.Wait()
			// Past --wait, the step's end misses the run file: the step
			// says so in one line and keeps its command's exit code
			// (docs/reliability.md, Known limits).
			if tc.status != runfile.StageOK && (slow.ProcessState.ExitCode() != 0 || !strings.Contains(slowErr.String(), "may be missing from the run file")) {
				t.Errorf("slow step past --wait: exit %d stderr %q; want 0 and a warning", slow.ProcessState.ExitCode(), slowErr.String())
			}
			_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
			got := ""
			for _, s := range rf.Stages {
				if s.Key == "slow" {
					got = s.Status
				}
			}
			if got != tc.status {
				t.Errorf("stage slow %q (stages %s); want %q", got, stageKeys(rf), tc.status)
			}
			if tc.status == runfile.StageOK && (rf.Status != runfile.StatusOK || slow.ProcessState.ExitCode() != 0 || slowErr.Len() != 0) {
				t.Errorf("run %s, slow step exit %d stderr %q; want ok, 0 and nothing", rf.Status, slow.ProcessState.ExitCode(), slowErr.String())
			}
		})
	}
}

// TestNonRegularDataFileRefused: a FIFO as exec's data file is refused
// with one line and never opened blocking (issue 21: exec blocked after
// its command ended, deaf to SIGTERM): given as --data-file, exec refuses
// it before its command runs; put in the data file's place by the command,
// exec ignores it with one line.
func TestNonRegularDataFileRefused(t *testing.T) {
	bin := buildBinaries(t)
	for _, tc := range []struct {
		name     string
		script   string
		wantCode int
		wantErr  string
	}{
		{
			name:     "--data-file FIFO",
			script:   `mkfifo data.fifo && "$ST" exec --stage s --data-file data.fifo -- touch ran`,
			wantCode: 1,
			wantErr:  "is not a regular file (p",
		},
		{
			name:     "the command makes its data file a FIFO",
			script:   `"$ST" exec --stage s -- sh -c 'rm -f "$STAGE_TRACKER_DATA_FILE" && mkfifo "$STAGE_TRACKER_DATA_FILE" && touch ran'`,
			wantCode: 0,
			wantErr:  "ignored: ",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "-c", tc.script)
			cmd.Dir, cmd.Env = work, userEnv("ST="+bin.stagetrack)
			cmd.WaitDelay = 5 * time.Second // a blocked exec keeps stderr open
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			_ = cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("exec blocked on the FIFO (killed after a minute)")
			}
			if code := cmd.ProcessState.ExitCode(); code != tc.wantCode || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("exit %d stderr %q; want %d and one line with %q", code, stderr.String(), tc.wantCode, tc.wantErr)
			}
			_, err := os.Stat(filepath.Join(work, "ran"))
			if ran := err == nil; ran != (tc.wantCode == 0) {
				t.Errorf("command ran: %v", ran)
			}
		})
	}
}

// TestRefusedStartLeavesNothing: a start whose env file is refused exits
// non-zero with one line and leaves no journal (issue 21: the journal was
// later recovered as an interrupted run).
func TestRefusedStartLeavesNothing(t *testing.T) {
	bin := buildBinaries(t)
	for _, tc := range []struct {
		name   string
		script string
	}{
		{name: "a directory as --env-file", script: `mkdir env.d && "$ST" start --env-file env.d`},
		{name: "a FIFO as --env-file", script: `mkfifo env.fifo && "$ST" start --env-file env.fifo`},
		{name: "a newline in --dir", script: `"$ST" start --dir 'runs
x' --env-file job.env`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "-c", tc.script)
			cmd.Dir, cmd.Env = work, userEnv("ST="+bin.stagetrack)
			cmd.WaitDelay = 5 * time.Second
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			_ = cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code == 0 || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("exit %d stderr %q; want non-zero and one line", code, stderr.String())
			}
			var left []string
			filepath.WalkDir(work, func(path string, d os.DirEntry, err error) error {
				if err == nil && strings.Contains(d.Name(), ".journal") {
					left = append(left, path)
				}
				return nil
			})
			if len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

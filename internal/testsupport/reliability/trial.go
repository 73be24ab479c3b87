//go:build unix

package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Child starts exe (a binary that calls RunChild first) in mode with the
// given extra environment, its stdout piped back.
func Child(ctx context.Context, exe, mode string, env ...string) (*exec.Cmd, *bufio.Scanner, error) {
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(append(os.Environ(), EnvMode+"="+mode), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	return cmd, bufio.NewScanner(out), nil
}

// progress is what a child reported before it was stopped.
type progress struct {
	runID   string
	started int // stages reported started
	ended   int // stages reported ended
}

// read consumes report lines until stop says so or the child's output ends.
func (p *progress) read(sc *bufio.Scanner, stop func(*progress) bool) error {
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "run":
			p.runID = f[1]
		case len(f) == 2 && f[0] == "start":
			p.started++
		case len(f) == 2 && f[0] == "ended":
			p.ended++
		case len(f) > 0 && f[0] == "error":
			return errors.New(sc.Text())
		}
		if stop(p) {
			return nil
		}
	}
	return sc.Err()
}

// CrashTrial runs one crash trial in dir: a child pipeline of stages stages
// is killed with SIGKILL after a random number of ended stages plus a random
// delay, its journal is recovered, and the run file is checked against what
// the child reported.
func CrashTrial(ctx context.Context, exe, dir string, stages int, rng *rand.Rand) error {
	killAfter := 1 + rng.IntN(stages-1)
	cmd, sc, err := Child(ctx, exe, ModePipeline, EnvDir+"="+dir, EnvStages+"="+strconv.Itoa(stages))
	if err != nil {
		return err
	}
	var p progress
	rerr := p.read(sc, func(p *progress) bool { return p.ended >= killAfter })
	// Jitter, so the kill lands anywhere in the next stages: not a wait for
	// work, which the reports above already did.
	time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
	cmd.Process.Kill()
	// Whatever the child reported up to the kill counts too.
	p.read(sc, func(*progress) bool { return false })
	cmd.Wait()
	if rerr != nil {
		return fmt.Errorf("child: %w", rerr)
	}
	if p.runID == "" || p.ended < killAfter {
		return fmt.Errorf("child stopped early: %+v", p)
	}

	exp, err := jsonrun.New(jsonrun.WithDir(dir))
	if err != nil {
		return err
	}
	defer exp.Shutdown(ctx)
	paths, err := exp.Recover(ctx)
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	path := filepath.Join(dir, p.runID+".json")
	if len(paths) != 1 || paths[0] != path {
		// The kill may have come after Finalize wrote the file: only if the
		// child reported every stage ended.
		if len(paths) == 0 && p.ended == stages {
			return errors.Join(checkRun(path, p, runfile.StatusOK, ""), checkWhole(dir, ""))
		}
		return fmt.Errorf("recovered %v, want %s", paths, path)
	}
	return errors.Join(checkRun(path, p, runfile.StatusCrashed, StageName(p.ended)), checkWhole(dir, ""))
}

// checkRun checks a run file against a child's reports: every stage
// reported ended is there with its data; no stage is there that the child
// did not start, but for extra: the one it was in when stopped.
func checkRun(path string, p progress, status, extra string) error {
	rf, err := runfile.ReadFile(path)
	if err != nil {
		return err
	}
	if rf.RunID != p.runID || rf.Status != status {
		return fmt.Errorf("%s: run %s status %q, want %s %q", path, rf.RunID, rf.Status, p.runID, status)
	}
	for i := range p.ended {
		st, ok := rf.Stages.Get(StageName(i))
		if !ok {
			return fmt.Errorf("%s: stage %s reported ended is missing", path, StageName(i))
		}
		want, _ := json.Marshal(StageData(i))
		if st.Status != runfile.StageOK || string(st.Data) != string(want) {
			return fmt.Errorf("%s: stage %s: status %q, data %.40s…", path, st.Key, st.Status, st.Data)
		}
	}
	if len(rf.Stages) > p.ended+1 {
		return fmt.Errorf("%s: %d stages, but the child reported only %d ended (%d started)", path, len(rf.Stages), p.ended, p.started)
	}
	for _, st := range rf.Stages[p.ended:] {
		if st.Key != extra {
			return fmt.Errorf("%s: stage %s was never started", path, st.Key)
		}
	}
	return nil
}

// SignalTrial sends SIGTERM to a child pipeline that uses FinalizeOnSignal
// while it is blocked in a stage, and checks that its run file says
// interrupted, with every ended stage and the blocked one unfinished, and
// that the child died of the signal, as it would have without the handler.
func SignalTrial(ctx context.Context, exe, dir string, stages int) error {
	cmd, sc, err := Child(ctx, exe, ModeSignal, EnvDir+"="+dir, EnvStages+"="+strconv.Itoa(stages))
	if err != nil {
		return err
	}
	var p progress
	blocked := false
	rerr := p.read(sc, func(*progress) bool { blocked = sc.Text() == "blocked"; return blocked })
	cmd.Process.Signal(syscall.SIGTERM)
	for sc.Scan() {
	}
	werr := cmd.Wait()
	if rerr != nil || !blocked {
		return fmt.Errorf("child did not reach the blocked stage: %v %+v", rerr, p)
	}
	var exit *exec.ExitError
	if !errors.As(werr, &exit) || exit.ExitCode() != -1 || !strings.Contains(exit.String(), "terminated") {
		return fmt.Errorf("child exit = %v, want killed by the re-raised SIGTERM", werr)
	}
	path := filepath.Join(dir, p.runID+".json")
	if err := checkRun(path, p, runfile.StatusInterrupted, "blocked"); err != nil {
		return err
	}
	rf, err := runfile.ReadFile(path)
	if err != nil {
		return err
	}
	if b, ok := rf.Stages.Get("blocked"); !ok || b.Status != runfile.StageUnfinished || len(rf.Stages) != stages+1 {
		return fmt.Errorf("blocked stage %+v, %d stages; want it unfinished after %d ended", b, len(rf.Stages), stages)
	}
	if _, err := os.Stat(filepath.Join(dir, p.runID+jsonrun.JournalSuffix)); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal left behind after a clean interrupt: %v", err)
	}
	return nil
}

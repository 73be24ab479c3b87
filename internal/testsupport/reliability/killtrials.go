//go:build unix

package reliability

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// More child modes: each is killed at a chosen moment by a trial below.
const (
	ModeFinalize = "finalize" // stages, then "finalizing" and Finalize with a history
	ModeJoined   = "joined"   // joins the run its environment names, stages reported
	ModeRecover  = "recover"  // "recovering", then Recover of EnvDir with a history
)

// runKillChild runs the child modes of this file; see RunChild.
func runKillChild(mode string, out io.Writer) (bool, error) {
	switch mode {
	case ModeFinalize:
		return true, finalizeChild(out)
	case ModeJoined:
		return true, joinedChild(out)
	case ModeRecover:
		return true, recoverChild(out)
	}
	return false, nil
}

func finalizeChild(out io.Writer) error {
	ctx := context.Background()
	tr, shutdown, err := setup.Tracker(ctx, setup.WithDir(os.Getenv(EnvDir)),
		setup.WithRunFileOptions(jsonrun.WithHistory(os.Getenv(EnvHist))))
	if err != nil {
		return err
	}
	defer shutdown(ctx)
	ctx, run := tr.Start(ctx, "crash-test")
	fmt.Fprintln(out, "run", run.ID())
	for i := range envInt(EnvStages, 20) {
		_, s := run.StartStage(ctx, StageName(i))
		fmt.Fprintln(out, "start", i)
		s.End(StageData(i), nil)
		fmt.Fprintln(out, "ended", i)
	}
	fmt.Fprintln(out, "finalizing")
	return run.Finalize(ctx)
}

func joinedChild(out io.Writer) error {
	ctx := context.Background()
	tr, shutdown, err := setup.Tracker(ctx, setup.WithDir(os.Getenv(EnvDir)))
	if err != nil {
		return err
	}
	defer shutdown(ctx)
	ctx, run := tr.StartOrJoin(ctx, nil)
	if err := run.Err(); err != nil {
		return err
	}
	fmt.Fprintln(out, "run", run.ID())
	for i := range envInt(EnvStages, 20) {
		_, s := run.StartStage(ctx, StageName(i))
		fmt.Fprintln(out, "start", i)
		s.End(StageData(i), nil)
		fmt.Fprintln(out, "ended", i)
	}
	return run.Finalize(ctx)
}

func recoverChild(out io.Writer) error {
	exp, err := jsonrun.New(jsonrun.WithDir(os.Getenv(EnvDir)), jsonrun.WithHistory(os.Getenv(EnvHist)))
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "recovering")
	_, err = exp.Recover(context.Background())
	fmt.Fprintln(out, "recovered")
	return err
}

// killAt reads the child's reports until stop, waits up to jitter, kills
// it with SIGKILL and reads what it reported before it died.
func killAt(ctx context.Context, exe, mode string, env []string, jitter time.Duration, rng *rand.Rand, stop func(*progress, string) bool) (progress, error) {
	cmd, sc, err := Child(ctx, exe, mode, env...)
	if err != nil {
		return progress{}, err
	}
	var p progress
	rerr := p.read(sc, func(p *progress) bool { return stop(p, sc.Text()) })
	if jitter > 0 {
		time.Sleep(time.Duration(rng.Int64N(int64(jitter)))) // where the kill lands, not a wait for work
	}
	cmd.Process.Kill()
	p.read(sc, func(*progress) bool { return false })
	cmd.Wait()
	return p, rerr
}

// FinalizeKillTrial kills a child with SIGKILL while it finalises its run
// (writing the run file, appending the history, removing the journal),
// recovers the directory, and checks the result: the run file has every
// stage, whether Finalize finished it or recovery did.
func FinalizeKillTrial(ctx context.Context, exe, dir string, stages int, rng *rand.Rand) error {
	hist := filepath.Join(dir, "history.jsonl")
	p, err := killAt(ctx, exe, ModeFinalize, []string{EnvDir + "=" + dir, EnvHist + "=" + hist, EnvStages + "=" + strconv.Itoa(stages)},
		5*time.Millisecond, rng, func(_ *progress, line string) bool { return line == "finalizing" })
	if err != nil {
		return fmt.Errorf("child: %w", err)
	}
	if p.runID == "" || p.ended != stages {
		return fmt.Errorf("child stopped early: %+v", p)
	}
	if err := recoverDir(ctx, dir, hist); err != nil {
		return err
	}
	path := filepath.Join(dir, p.runID+".json")
	rf, err := runfile.ReadFile(path)
	if err != nil {
		return err
	}
	status := runfile.StatusOK
	if rf.Status == runfile.StatusCrashed {
		status = runfile.StatusCrashed // killed before the file was renamed in
	}
	if err := checkRun(path, p, status, ""); err != nil {
		return err
	}
	return checkWhole(dir, hist)
}

// JoinedKillTrial owns a run in this process and kills, with SIGKILL, a
// child that joined it while the child writes its stages to the run's
// journal; then it finalises the run: every stage the child reported ended
// is in the run file.
func JoinedKillTrial(ctx context.Context, exe, dir string, stages int, rng *rand.Rand) error {
	tr, shutdown, err := setup.Tracker(ctx, setup.WithDir(dir))
	if err != nil {
		return err
	}
	defer shutdown(ctx)
	rctx, run := tr.Start(ctx, "owner")
	exp, err := jsonrun.New(jsonrun.WithDir(dir))
	if err != nil {
		return err
	}
	journal, err := exp.JournalPath(run.ID(), "")
	if err != nil {
		return err
	}
	env := append(tracker.ChildEnv(rctx, run.ID(), journal), EnvDir+"="+dir, EnvStages+"="+strconv.Itoa(stages))
	killAfter := 1 + rng.IntN(stages-1)
	p, err := killAt(ctx, exe, ModeJoined, env, 2*time.Millisecond, rng,
		func(p *progress, _ string) bool { return p.ended >= killAfter })
	if err != nil {
		return fmt.Errorf("child: %w", err)
	}
	if p.runID != run.ID() || p.ended < killAfter {
		return fmt.Errorf("child stopped early or did not join: %+v", p)
	}
	if err := run.Finalize(ctx); err != nil {
		return err
	}
	rf, err := runfile.ReadFile(run.File())
	if err != nil {
		return err
	}
	for i := range p.ended {
		if _, ok := rf.Stages.Get(StageName(i)); !ok {
			return fmt.Errorf("%s: stage %s the joined child reported ended is missing", run.File(), StageName(i))
		}
	}
	return checkWhole(dir, "")
}

// RecoverKillTrial leaves a crashed run's journal (a pipeline killed), then
// kills a recovering process with SIGKILL while it recovers it, then
// recovers again: the run file is whole, with every ended stage, and the
// history holds the run once.
func RecoverKillTrial(ctx context.Context, exe, dir string, stages int, rng *rand.Rand) error {
	killAfter := 1 + rng.IntN(stages-1)
	p, err := killAt(ctx, exe, ModePipeline, []string{EnvDir + "=" + dir, EnvStages + "=" + strconv.Itoa(stages)}, 0, rng,
		func(p *progress, _ string) bool { return p.ended >= killAfter })
	if err != nil {
		return fmt.Errorf("pipeline child: %w", err)
	}
	hist := filepath.Join(dir, "history.jsonl")
	if _, err := killAt(ctx, exe, ModeRecover, []string{EnvDir + "=" + dir, EnvHist + "=" + hist}, 3*time.Millisecond, rng,
		func(_ *progress, line string) bool { return line == "recovering" }); err != nil {
		return fmt.Errorf("recovering child: %w", err)
	}
	if err := recoverDir(ctx, dir, hist); err != nil {
		return err
	}
	path := filepath.Join(dir, p.runID+".json")
	// The stage the pipeline was in may have ended before the kill.
	rf, err := runfile.ReadFile(path)
	if err != nil {
		return err
	}
	if rf.Status == runfile.StatusOK && len(rf.Stages) == stages {
		// The kill landed after the pipeline's Finalize (its last stages
		// cost microseconds): a finished run, nothing to recover, so no
		// history either.
		p.ended = stages
		return errors.Join(checkRun(path, p, runfile.StatusOK, ""), checkWhole(dir, ""))
	}
	extra := StageName(p.ended)
	if len(rf.Stages) > p.ended {
		if st := rf.Stages[p.ended]; st.Status == runfile.StageOK {
			p.ended++
			extra = StageName(p.ended)
		}
	}
	if err := checkRun(path, p, runfile.StatusCrashed, extra); err != nil {
		return err
	}
	return checkWhole(dir, hist)
}

func recoverDir(ctx context.Context, dir, hist string) error {
	opts := []jsonrun.Option{jsonrun.WithDir(dir)}
	if hist != "" {
		opts = append(opts, jsonrun.WithHistory(hist))
	}
	exp, err := jsonrun.New(opts...)
	if err != nil {
		return err
	}
	defer exp.Shutdown(ctx)
	if _, err := exp.Recover(ctx); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	return nil
}

// checkWhole checks what every trial must leave: no temporary file, no
// journal, every run file readable, and, with a history, each run file's
// run there exactly once as a whole line.
func checkWhole(dir, hist string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var runs []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.Contains(name, ".tmp-"):
			return fmt.Errorf("leftover temporary file %s", name)
		case strings.HasSuffix(name, jsonrun.JournalSuffix):
			return fmt.Errorf("leftover journal %s", name)
		case strings.HasSuffix(name, ".json"):
			rf, err := runfile.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return fmt.Errorf("half-written run file: %w", err)
			}
			runs = append(runs, rf.RunID)
		}
	}
	if hist == "" {
		return nil
	}
	got, err := runfile.ReadHistory(hist)
	var le *runfile.LineError
	if err != nil && !errors.As(err, &le) {
		return err
	}
	count := map[string]int{}
	for _, r := range got {
		count[r.RunID]++
	}
	for _, id := range runs {
		if count[id] != 1 {
			return fmt.Errorf("history holds run %s %d times, want once", id, count[id])
		}
	}
	return nil
}

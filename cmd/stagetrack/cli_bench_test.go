//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// BenchmarkCLI measures stagetrack as whole processes, beside the baseline
// of a minimal Go program that forks and waits for true(1)
// (testdata/forktrue), in the same run. The binaries are built once, with
// the go command running the benchmark, into a temporary directory.
//
// stagetrack is built as the README installs it, CGO_ENABLED=0.
//
//   - exec/journals=empty: stagetrack exec --stage s -- true, inside a run
//     that this benchmark process owns (as stagetrack run does), its
//     journal empty. Target (issue 12): ≤ 2× the baseline.
//   - runsize/journals=10000+10000: the same with the run's journal at
//     10,000 stages and another live run's 10,000-stage journal beside it,
//     beside the empty case measured again (runsize/baseline=journals=empty).
//     Target: within 1.2× of it.
//   - exec/journals=empty/build=cgo: the same with stagetrack built with
//     the go command's default, cgo on: what the static build saves.
//   - version: stagetrack --version, which uses nothing but cobra: the
//     start-up of the binary, a floor for every command.
//
// cpu-ns/op is the children's CPU time per op (getrusage RUSAGE_CHILDREN).
func BenchmarkCLI(b *testing.B) {
	bins := buildCLI(b)
	b.Run("exec/journals=empty", func(b *testing.B) {
		env := ownedRun(b, 0)
		runProcesses(b, env, bins.stagetrack, "exec", "--stage", "s", "--", "true")
	})
	b.Run("exec/journals=empty/build=cgo", func(b *testing.B) {
		env := ownedRun(b, 0)
		runProcesses(b, env, bins.stagetrackCgo, "exec", "--stage", "s", "--", "true")
	})
	// Run size: the large journals against the empty case again, as its
	// own baseline, measured next to it.
	b.Run("runsize/baseline=journals=empty", func(b *testing.B) {
		env := ownedRun(b, 0)
		runProcesses(b, env, bins.stagetrack, "exec", "--stage", "s", "--", "true")
	})
	b.Run("runsize/journals=10000+10000", func(b *testing.B) {
		env := ownedRun(b, 10_000)
		runProcesses(b, env, bins.stagetrack, "exec", "--stage", "s", "--", "true")
	})
	b.Run("version", func(b *testing.B) {
		runProcesses(b, os.Environ(), bins.stagetrack, "--version")
	})
	b.Run("baseline=forktrue", func(b *testing.B) {
		runProcesses(b, os.Environ(), bins.forktrue)
	})
}

// cliBinaries are the programs BenchmarkCLI runs: stagetrack as the README
// installs it (CGO_ENABLED=0: statically linked), stagetrack as the go
// command builds it by default on a machine with a C compiler (dynamically
// linked, since net and os/user then use cgo), and the baseline.
type cliBinaries struct{ stagetrack, stagetrackCgo, forktrue string }

var (
	buildOnce sync.Once
	built     cliBinaries
	buildErr  error
	buildDir  string
)

// buildCLI builds stagetrack and the baseline once per test binary; the
// directory is removed by TestMain.
func buildCLI(b testing.TB) cliBinaries {
	b.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "stagetrack-clibench-*")
		if buildErr != nil {
			return
		}
		built = cliBinaries{
			filepath.Join(buildDir, "stagetrack"),
			filepath.Join(buildDir, "stagetrack-cgo"),
			filepath.Join(buildDir, "forktrue"),
		}
		for _, c := range []struct {
			cgo  string // CGO_ENABLED, or "" for the go command's default
			args []string
		}{
			{"0", []string{"-o", built.stagetrack, "."}},
			{"", []string{"-o", built.stagetrackCgo, "."}},
			{"", []string{"-o", built.forktrue, "./testdata/forktrue"}},
		} {
			cmd := exec.Command("go", append([]string{"build"}, c.args...)...)
			if c.cgo != "" {
				cmd.Env = append(os.Environ(), "CGO_ENABLED="+c.cgo)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %v: %v\n%s", c.args, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return built
}

// runAsStagetrack, set in a test binary's environment, makes it run
// stagetrack's main with its arguments instead of the tests: the binary
// that go test builds is then the program, built once, and a test that
// looks at the program as a whole (TestStartupInitWork) runs it without a
// go build of its own.
const runAsStagetrack = "STAGETRACK_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsStagetrack) == "1" {
		main()
		return
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// ownedRun starts a run in a fresh directory, owned (journal locked) by this
// process as stagetrack run owns its run, with stages stages already in its
// journal and, when stages > 0, another live run of as many stages beside
// it. It returns the environment a child of that run gets.
func ownedRun(b *testing.B, stages int) []string {
	b.Helper()
	dir := b.TempDir()
	b.Setenv("OTEL_TRACES_EXPORTER", "none")
	b.Setenv("OTEL_METRICS_EXPORTER", "none")
	tr, shutdown, err := setup.Tracker(b.Context(), setup.WithDir(dir), setup.WithConsoleWriter(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = shutdown(context.Background()) })
	ctx, run := tr.Start(b.Context(), nil, tracker.WithRunName("bench"))
	if stages > 0 {
		octx, other := tr.Start(b.Context(), nil, tracker.WithRunName("other"))
		for i := range stages {
			_, s := other.StartStage(octx, "other")
			s.End(map[string]any{"i": i}, nil)
			_, s = run.StartStage(ctx, "before")
			s.End(map[string]any{"i": i}, nil)
		}
	}
	journal := filepath.Join(dir, run.ID()+".journal")
	if _, err := os.Stat(journal); err != nil {
		b.Fatalf("the run's journal is not where expected: %v", err)
	}
	return append(os.Environ(), tr.ChildEnv(ctx, run.ID(), journal)...)
}

// runProcesses runs argv b.N times, one after another, with env, in a fresh
// working directory, and reports the children's CPU time per op.
func runProcesses(b *testing.B, env []string, argv ...string) {
	b.Helper()
	wd := b.TempDir()
	cpu0 := childrenCPU()
	for b.Loop() {
		c := exec.Command(argv[0], argv[1:]...)
		c.Env, c.Dir = env, wd
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", argv, err, out)
		}
	}
	b.ReportMetric(float64(childrenCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/benchcpu"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// BenchmarkReadRuns runs the commands that read many runs over 1,000 run
// files of 20 stages (runfixture.Synthetic's 8 and 12 more), the size of
// issue 23's targets: one op is one whole command; cpu-ns/op is its CPU
// time, steadier than the wall time on a shared machine.
//
//	go test -run '^$' -bench ReadRuns -benchtime 5x ./cmd/stagetrack/internal/cli/
func BenchmarkReadRuns(b *testing.B) {
	dir := b.TempDir()
	files := make([]string, 0, 1000)
	for i := range 1000 {
		r := runfixture.Synthetic(i)
		at := r.CompletedAt
		for j := range 12 {
			d := time.Duration(50+j) * time.Millisecond
			r.Stages = append(r.Stages, runfile.Stage{
				Key: fmt.Sprintf("step-%02d", j), Name: fmt.Sprintf("step-%02d", j), Attempt: 1,
				StartTime: at, EndTime: at.Add(d), DurationSec: d.Seconds(), Status: runfile.StageOK,
				Data: json.RawMessage(`{"ok":true}`), SpanID: fmt.Sprintf("%016x", uint64(i)<<16|uint64(j)),
			})
			at = at.Add(d)
		}
		r.CompletedAt, r.StageCount = at, len(r.Stages)
		r.TotalDurationSec = at.Sub(r.StartTime).Seconds()
		f := filepath.Join(dir, r.RunID+".json")
		if err := os.WriteFile(f, r.AppendIndent(nil), 0o644); err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"stats", []string{"stats", dir}},
		{"stats--json", []string{"stats", "--json", dir}},
		{"validate", append([]string{"validate", "-q"}, files...)},
		{"report", append([]string{"report", "-o", filepath.Join(b.TempDir(), "report.html")}, files...)},
	} {
		b.Run(c.name+"/runs=1000", func(b *testing.B) {
			cpu := benchcpu.Start()
			for b.Loop() {
				if code := cli.Main(b.Context(), c.args, env); code != cli.ExitOK {
					b.Fatalf("exit code %d", code)
				}
			}
			cpu.Report(b)
		})
	}
}

// BenchmarkDiff runs `stagetrack diff` (table and --json) on two run files
// of n stages that differ as later runs do (runfixture.Large): reading
// both files and comparing them, issue 23's "two 100,000-stage runs".
//
//	go test -run '^$' -bench 'BenchmarkDiff$' -benchtime 3x ./cmd/stagetrack/internal/cli/
func BenchmarkDiff(b *testing.B) {
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	for _, n := range []int{10_000, 100_000} {
		dir := b.TempDir()
		a, c := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
		if err := os.WriteFile(a, runfixture.Large(n, 0).AppendIndent(nil), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(c, runfixture.Large(n, 1).AppendIndent(nil), 0o644); err != nil {
			b.Fatal(err)
		}
		for _, json := range []bool{false, true} {
			args := []string{"diff", a, c}
			name := fmt.Sprintf("stages=%d", n)
			if json {
				args, name = []string{"diff", "--json", a, c}, name+"/json"
			}
			b.Run(name, func(b *testing.B) {
				cpu := benchcpu.Start()
				for b.Loop() {
					if code := cli.Main(b.Context(), args, env); code != cli.ExitOK && code != cli.ExitFailure {
						b.Fatalf("exit code %d", code)
					}
				}
				cpu.Report(b)
			})
		}
	}
}

// BenchmarkReadLarge runs `show` and `validate -q` on one run of 100,000
// stages (runfixture.Large, 33 MB), issue 23's one big run: one op is one
// whole command.
//
//	go test -run '^$' -bench ReadLarge -benchtime 3x ./cmd/stagetrack/internal/cli/
func BenchmarkReadLarge(b *testing.B) {
	f := filepath.Join(b.TempDir(), "large.json")
	if err := os.WriteFile(f, runfixture.Large(100_000, 0).AppendIndent(nil), 0o644); err != nil {
		b.Fatal(err)
	}
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"show", []string{"show", f}},
		{"validate", []string{"validate", "-q", f}},
	} {
		b.Run(c.name+"/stages=100000", func(b *testing.B) {
			cpu := benchcpu.Start()
			for b.Loop() {
				if code := cli.Main(b.Context(), c.args, env); code != cli.ExitOK {
					b.Fatalf("exit code %d", code)
				}
			}
			cpu.Report(b)
		})
	}
}

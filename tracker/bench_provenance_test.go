package tracker_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/tracker"
)

// BenchmarkRunStartCapture measures what capture adds to a run's start in
// a git repository of 10,000 committed files, one of them modified: a new
// Tracker each iteration, so that every start captures (a Tracker captures
// the process's part once), beside the same start without capture. Beside
// the wall time it reports the CPU time of this process (cpu-ns/op) and of
// the commands capture runs (child-cpu-ns/op, git): on a shared machine
// the wall time counts the time others had the CPU.
//
//	go test -run '^$' -bench RunStartCapture -benchtime 50x ./tracker
func BenchmarkRunStartCapture(b *testing.B) {
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git is not on PATH")
	}
	repo := b.TempDir()
	old := time.Now().Add(-time.Hour)
	for i := range 10_000 {
		dir := filepath.Join(repo, fmt.Sprintf("d%03d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("f%05d.txt", i))
		if err := os.WriteFile(path, fmt.Appendf(nil, "file %d\n", i), 0o644); err != nil {
			b.Fatal(err)
		}
		// Older than the index, as files are in a repository worked in:
		// written in the index's second, git would read every one again
		// at each status (racily clean entries).
		if err := os.Chtimes(path, old, old); err != nil {
			b.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "10k"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "d000", "f00000.txt"), []byte("modified\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Chdir(repo)
	tp := sdktrace.NewTracerProvider() // no processor: the start alone
	b.Cleanup(func() { _ = tp.Shutdown(b.Context()) })
	for _, c := range []struct {
		name   string
		opts   []tracker.Option
		shared bool // one Tracker for every run: the process's part captured once
	}{
		{"without capture", []tracker.Option{tracker.WithoutProvenance()}, false},
		{"capture", nil, false},
		{"capture without code", []tracker.Option{tracker.WithCapture(tracker.CaptureAll &^ tracker.CaptureCode)}, false},
		{"one tracker/without capture", []tracker.Option{tracker.WithoutProvenance()}, true},
		{"one tracker/capture", nil, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			newTracker := func() *tracker.Tracker {
				return tracker.New(append([]tracker.Option{tracker.WithTracerProvider(tp), tracker.WithoutRunFile()}, c.opts...)...)
			}
			shared := newTracker()
			if c.shared { // its capture, once, before the loop
				ctx, run := shared.Start(b.Context(), nil)
				if err := run.Finalize(ctx); err != nil {
					b.Fatal(err)
				}
			}
			cpu := startCPU()
			for b.Loop() {
				tr := shared
				if !c.shared {
					tr = newTracker()
				}
				ctx, run := tr.Start(b.Context(), nil)
				if err := run.Finalize(ctx); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

//go:build unix

package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// TestJoinRefusesCleanly: Join of a run that cannot take this process's
// stages (its run has finished and its journal is gone, the journal
// variable points at another file or another run's journal, its owner is
// dead) returns a Run whose Err and Finalize wrap ErrCannotJoin, and
// nothing is written under the other run's id: no run file, no journal
// line. On main the stages were buffered under the owner's run id and
// written as an incomplete run file over the owner's.
func TestJoinRefusesCleanly(t *testing.T) {
	const runID = "6f1e0a52-8c0e-4f7e-9d55-1f0b7a3c2d11"
	journalLine := `{"e":"run","t":1,"run_id":"` + runID + `","trace_id":"0000000000000000000000000000000a","span_id":"0000000000000001","name":"owner"}` + "\n"
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns STAGE_TRACKER_JOURNAL
		why   string
	}{
		{"the run has finished: journal gone", func(t *testing.T, dir string) string {
			return filepath.Join(dir, runID+jsonrun.JournalSuffix)
		}, "the run has finished"},
		{"the variable points elsewhere", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "notes.journal")
			os.WriteFile(p, []byte("keep me\n"), 0o644)
			return p
		}, "is not the journal of this run"},
		{"another run's journal", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "other.journal")
			os.WriteFile(p, []byte(strings.ReplaceAll(journalLine, runID, "3c0ffee0-0000-4000-8000-000000000003")), 0o644)
			holdShared(t, p)
			return p
		}, "is not the journal of this run"},
		{"its owner has stopped", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, runID+jsonrun.JournalSuffix)
			os.WriteFile(p, []byte(journalLine), 0o644)
			return p
		}, "owner has stopped"},
		{"a FIFO", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, runID+jsonrun.JournalSuffix)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip(err)
			}
			return p
		}, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			journal := tc.setup(t, dir)
			t.Setenv(tracker.EnvJournal, journal)
			before := snapshot(t, dir)

			// Without recovery, which would turn a dead owner's journal
			// into a run file: only what the refused join does is checked.
			exp, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithoutRecovery())
			if err != nil {
				t.Fatal(err)
			}
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)))
			tr := tracker.New(tracker.WithTracerProvider(tp))
			parent := trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID{0xa}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true,
			})
			ctx, run := tr.Join(t.Context(), runID, parent)
			if err := run.Err(); !errors.Is(err, tracker.ErrCannotJoin) || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("Err() = %v, want ErrCannotJoin saying %q", err, tc.why)
			}
			_, s := run.StartStage(ctx, "late")
			s.End(nil, nil)
			if err := run.Finalize(t.Context()); !errors.Is(err, tracker.ErrCannotJoin) {
				t.Errorf("Finalize = %v, want ErrCannotJoin", err)
			}
			if err := tp.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown = %v", err)
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("the directory changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// holdShared holds a shared flock on path until the test ends, as the live
// owner of a journal does.
func holdShared(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

// snapshot lists the names and sizes of dir's entries.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		fi, _ := os.Lstat(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s:%v:%d ", e.Name(), fi.Mode(), fi.Size())
	}
	return b.String()
}

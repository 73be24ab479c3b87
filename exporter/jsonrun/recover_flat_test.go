//go:build unix

package jsonrun_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/locktest"
)

// bigJournal writes the journal of a run with n ended stages into dir, in
// the format a process writes, NUL padding of a mapped chunk included, and
// returns its path and run id. A detached journal is one that stagetrack
// start made just now: no process holds it between the run's steps.
func bigJournal(tb testing.TB, dir string, n int, detached bool) (string, string) {
	tb.Helper()
	id := uuid.NewString()
	var b strings.Builder
	var t0 int64 = 1746486850235518000
	mark := ""
	if detached {
		t0, mark = time.Now().UnixNano(), `,"detached":true`
	}
	fmt.Fprintf(&b, `{"e":"run","t":%d,"run_id":%q,"trace_id":"0000000000000000000000000000000a","span_id":"0000000000000001","name":"big","pid":1,"host":"h"%s}`+"\n", t0, id, mark)
	for i := range n {
		t := t0 + int64(i+1)*1000
		fmt.Fprintf(&b, `{"e":"start","t":%d,"span_id":"%016x","parent_span_id":"0000000000000001","name":"s","start":%d}`+"\n", t, i+2, t)
		fmt.Fprintf(&b, `{"e":"end","t":%d,"span_id":"%016x","parent_span_id":"0000000000000001","name":"s","start":%d,"end":%d,"data":{"rows":%d,"loss":0.25,"status":"ok","cached":false}}`+"\n", t+500, i+2, t, t+500, i)
	}
	b.WriteString(strings.Repeat("\x00", 4096))
	path := filepath.Join(dir, id+jsonrun.JournalSuffix)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, id
}

// liveDir is a directory with two journals of 10,000 stages each, each
// held by a live writer (a shared lock, as an owner or a joined process
// holds it): what the start-up recovery of every stagetrack exec inside a
// long run finds.
func liveDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	for range 2 {
		p, _ := bigJournal(tb, dir, 10_000, false)
		locktest.HoldShared(tb, p)
	}
	return dir
}

// detachedDir is a directory with two journals of 10,000 stages each of
// runs that stagetrack start opened and whose next step may still come:
// nobody holds them, and Recover must wait for them.
func detachedDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	for range 2 {
		bigJournal(tb, dir, 10_000, true)
	}
	return dir
}

// TestRecoverIgnoresLiveJournalsAtNoCost checks that Recover decides that
// a journal is live before it reads it (the lock held, or the run event of
// a young detached run) and reads no more: over two live 10,000-stage
// journals it allocates what it allocates over an empty directory, give or
// take a few allocations per file.
func TestRecoverIgnoresLiveJournalsAtNoCost(t *testing.T) {
	allocs := func(dir string) float64 {
		exp, err := jsonrun.New(jsonrun.WithDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		return testing.AllocsPerRun(5, func() {
			if paths, err := exp.Recover(t.Context()); err != nil || len(paths) != 0 {
				t.Fatalf("Recover = %v, %v; want nothing recovered", paths, err)
			}
		})
	}
	empty := allocs(t.TempDir())
	for _, c := range []struct {
		name string
		dir  func(testing.TB) string
	}{
		{"held by live processes", liveDir},
		{"detached runs waiting for their next step", detachedDir},
	} {
		t.Run(c.name, func(t *testing.T) {
			// 50 a file: deciding costs a few dozen (more when the machine
			// is so loaded that a run stops being young while the test
			// writes it, and its first line is read); reading either
			// journal would cost over 10,000.
			if live := allocs(c.dir(t)); live > empty+2*50 {
				t.Errorf("Recover allocates %.0f times over two live 10,000-stage journals, %.0f over an empty directory: it reads live journals", live, empty)
			}
		})
	}
}

// TestRecoverDeadJournalBesideLiveOnes checks that a journal whose owner
// died is still recovered in full when live ones lie beside it, and that
// the live ones are left as they are. The dead journal has 1,000 stages,
// 10,000 under STAGE_TRACKER_STRESS=1 (12 s under -race).
func TestRecoverDeadJournalBesideLiveOnes(t *testing.T) {
	n := 1_000
	if os.Getenv("STAGE_TRACKER_STRESS") == "1" {
		n = 10_000
	}
	dir := liveDir(t)
	dead, id := bigJournal(t, dir, n, false)
	before, _ := filepath.Glob(filepath.Join(dir, "*"+jsonrun.JournalSuffix))
	exp, err := jsonrun.New(jsonrun.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	paths, err := exp.Recover(t.Context())
	if err != nil || len(paths) != 1 {
		t.Fatalf("Recover = %v, %v; want the dead journal's run file", paths, err)
	}
	run, err := jsonrun.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if run.RunID != id || run.Status != jsonrun.StatusCrashed || len(run.Stages) != n {
		t.Errorf("recovered run %s status %s with %d stages; want %s crashed with %d", run.RunID, run.Status, len(run.Stages), id, n)
	}
	for _, w := range run.Warnings {
		if strings.Contains(w, "skipped") {
			t.Errorf("warning %q: the NUL padding is not a line", w)
		}
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("dead journal still there: %v", err)
	}
	after, _ := filepath.Glob(filepath.Join(dir, "*"+jsonrun.JournalSuffix))
	if len(after) != len(before)-1 {
		t.Errorf("journals after recovery: %d, want the %d live ones", len(after), len(before)-1)
	}
}

// BenchmarkRecover measures the start-up recovery of a directory with two
// live 10,000-stage journals beside an empty directory, its baseline: it
// should cost the same (flat in run size).
func BenchmarkRecover(b *testing.B) {
	for _, c := range []struct {
		name string
		dir  func(testing.TB) string
	}{
		{"live-journals=2x10000", liveDir},
		{"detached-journals=2x10000", detachedDir},
		{"baseline=empty", func(tb testing.TB) string { return tb.TempDir() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			exp, err := jsonrun.New(jsonrun.WithDir(c.dir(b)))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := exp.Recover(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

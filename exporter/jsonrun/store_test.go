package jsonrun_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/benchcpu"
)

// storeRunID is the n-th run id of the store's tests.
func storeRunID(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// storeStage is stage sid of run n, in trace n.
func storeStage(n int, sid byte, name string) tracetest.SpanStub {
	return foreignSpan(byte(n), sid, 1, name, int(sid), int(sid)+1,
		attribute.String(keys.RunID, storeRunID(n)), attribute.String(keys.StageName, name))
}

// storeRoot is the root of run n, saying it has stages stages.
func storeRoot(n, stages int) tracetest.SpanStub {
	return foreignSpan(byte(n), 1, 0, "pipeline", 0, 9,
		attribute.String(keys.RunID, storeRunID(n)), attribute.Int(keys.RunStageCount, stages))
}

// storeExporter is a Collector's exporter: ended spans only, open runs in
// the store, roots waiting for late stages.
func storeExporter(t *testing.T, dir string, opts ...jsonrun.Option) *jsonrun.Exporter {
	t.Helper()
	exp, err := jsonrun.New(append([]jsonrun.Option{
		jsonrun.WithDir(dir), jsonrun.WithRunFilesInDirOnly(), jsonrun.WithJournalAllRuns(),
		jsonrun.WithRunStore(), jsonrun.WithLateStageWait(time.Hour),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

func exportErr(t *testing.T, exp *jsonrun.Exporter, spans ...tracetest.SpanStub) error {
	t.Helper()
	return exp.ExportSpans(t.Context(), tracetest.SpanStubs(spans).Snapshots())
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestStoreRefusesFloodRetryably: a flood of distinct run ids fills the
// store's bound on open runs; past it each span is refused with
// ErrStoreFull (which a Collector answers with a code its sender
// retries), counted, and not kept, while a run open before the flood is
// still written whole.
func TestStoreRefusesFloodRetryably(t *testing.T) {
	dir := t.TempDir()
	exp := storeExporter(t, dir, jsonrun.WithStoreLimits(10, 0, 0))
	t.Cleanup(func() { exp.Shutdown(t.Context()) })
	legit := 1
	if err := exportErr(t, exp, storeStage(legit, 2, "build")); err != nil {
		t.Fatal(err)
	}
	before := openFDs(t)
	refused := 0
	for n := 2; n < 52; n++ {
		err := exportErr(t, exp, storeStage(n, 2, "flood"))
		switch {
		case err == nil:
		case errors.Is(err, jsonrun.ErrStoreFull):
			refused++
		default:
			t.Fatalf("run %d: %v, want nil or ErrStoreFull", n, err)
		}
	}
	if refused != 41 {
		t.Errorf("refused %d runs, want 41 (10 open at most, one of them the legitimate run)", refused)
	}
	if st := exp.Stats(); st.RefusedFull != 41 || st.OpenRuns != 10 {
		t.Errorf("Stats() = %+v, want RefusedFull 41 and OpenRuns 10", st)
	}
	if after := openFDs(t); after > before+2 {
		t.Errorf("the flood opened %d descriptors", after-before)
	}
	if err := exportErr(t, exp, storeStage(legit, 3, "test"), storeRoot(legit, 2)); err != nil {
		t.Fatal(err)
	}
	r := readRun(t, filepath.Join(dir, storeRunID(legit)+".json"))
	if r.Status != jsonrun.StatusOK || len(r.Stages) != 2 {
		t.Errorf("legitimate run: status %s, %d stages; want ok with 2", r.Status, len(r.Stages))
	}
	for n := 12; n < 52; n++ {
		if _, err := os.Stat(filepath.Join(dir, storeRunID(n)+".json")); err == nil {
			t.Errorf("a file was written for refused run %d", n)
		}
	}
}

// TestStoreRefusesPastByteBounds: a run past max_run_bytes and a store
// past its total bytes refuse, and what they refused is not in the file.
func TestStoreRefusesPastByteBounds(t *testing.T) {
	tests := []struct {
		name                 string
		runBytes, totalBytes int64
	}{
		{name: "run bytes", runBytes: 600},
		{name: "total bytes", totalBytes: 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			exp := storeExporter(t, dir, jsonrun.WithStoreLimits(0, tt.runBytes, tt.totalBytes))
			t.Cleanup(func() { exp.Shutdown(t.Context()) })
			var kept, refused int
			for i := byte(2); i < 40; i++ {
				err := exportErr(t, exp, storeStage(1, i, fmt.Sprintf("s%d", i)))
				switch {
				case err == nil:
					kept++
				case errors.Is(err, jsonrun.ErrStoreFull):
					refused++
				default:
					t.Fatal(err)
				}
			}
			if kept == 0 || refused == 0 {
				t.Fatalf("kept %d, refused %d: want both", kept, refused)
			}
			if err := exportErr(t, exp, storeRoot(1, kept)); err != nil {
				t.Fatal(err)
			}
			r := readRun(t, filepath.Join(dir, storeRunID(1)+".json"))
			if len(r.Stages) != kept {
				t.Errorf("run file has %d stages, want the %d kept", len(r.Stages), kept)
			}
		})
	}
}

// TestStoreRestartReopensRunsWithFewFiles: runs left open in the store by
// a stopped exporter are taken over by the next with a handful of
// descriptors, and finish with the stages from before.
func TestStoreRestartReopensRunsWithFewFiles(t *testing.T) {
	const runs = 300
	dir := t.TempDir()
	exp := storeExporter(t, dir)
	for n := 1; n <= runs; n++ {
		if err := exportErr(t, exp, storeStage(n, 2, "build")); err != nil {
			t.Fatal(err)
		}
	}
	if err := exp.Detach(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := openFDs(t)
	exp2 := storeExporter(t, dir)
	t.Cleanup(func() { exp2.Shutdown(t.Context()) })
	ids, err := exp2.Resume(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != runs {
		t.Fatalf("resumed %d runs, want %d", len(ids), runs)
	}
	if fds := openFDs(t) - before; fds > 4 {
		t.Errorf("%d descriptors for %d open runs; want a handful", fds, runs)
	}
	for n := 1; n <= runs; n++ {
		if err := exportErr(t, exp2, storeStage(n, 3, "test"), storeRoot(n, 2)); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{1, runs / 2, runs} {
		r := readRun(t, filepath.Join(dir, storeRunID(n)+".json"))
		if r.Status != jsonrun.StatusOK || len(r.Stages) != 2 {
			t.Errorf("run %d: status %s, %d stages; want ok with both", n, r.Status, len(r.Stages))
		}
	}
	if st := exp2.Stats(); st.OpenRuns != 0 {
		t.Errorf("%d runs still open", st.OpenRuns)
	}
}

// TestStoreOpenRunTimeoutWritesIncomplete: a run whose root does not come
// within open_run_timeout is written as incomplete, saying why, and a
// root that comes after completes the file.
func TestStoreOpenRunTimeoutWritesIncomplete(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	exp := storeExporter(t, dir, jsonrun.WithOpenRunTimeout(time.Minute), jsonrun.WithTestClock(clock))
	t.Cleanup(func() { exp.Shutdown(t.Context()) })
	if err := exportErr(t, exp, storeStage(1, 2, "build")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, storeRunID(1)+".json")
	if _, err := os.Stat(path); err == nil {
		t.Fatal("run file written before its time")
	}
	clock.advance(2 * time.Minute)
	clock.fire()
	r := readRun(t, path)
	if r.Status != jsonrun.StatusIncomplete || !strings.Contains(strings.Join(r.Warnings, "\n"), "open_run_timeout") || len(r.Stages) != 1 {
		t.Errorf("timed-out run: status %s, warnings %q, %d stages", r.Status, r.Warnings, len(r.Stages))
	}
	if st := exp.Stats(); st.ExpiredRuns != 1 || st.OpenRuns != 0 {
		t.Errorf("Stats() = %+v, want 1 expired, 0 open", st)
	}
	if err := exportErr(t, exp, storeStage(1, 3, "test"), storeRoot(1, 2)); err != nil {
		t.Fatal(err)
	}
	r = readRun(t, path)
	if r.Name != "pipeline" || len(r.Stages) != 2 {
		t.Errorf("after its root: name %q, %d stages; want pipeline with 2", r.Name, len(r.Stages))
	}
}

// TestStoreAcknowledgedRootSurvivesSIGKILL: a root acknowledged while its
// run waits for late stages is in the store before ExportSpans returns:
// a process killed with SIGKILL right after loses nothing, and the next
// exporter writes the run with it.
func TestStoreAcknowledgedRootSurvivesSIGKILL(t *testing.T) {
	if dir := os.Getenv("JSONRUN_STORE_CRASH_DIR"); dir != "" {
		storeCrashChild(t, dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestStoreAcknowledgedRootSurvivesSIGKILL$")
	cmd.Env = append(os.Environ(), "JSONRUN_STORE_CRASH_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	acked := false
	for sc.Scan() {
		if sc.Text() == "acknowledged" {
			acked = true
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if !acked {
		t.Fatal("the child did not acknowledge its spans")
	}
	if _, err := os.Stat(filepath.Join(dir, storeRunID(1)+".json")); err == nil {
		t.Fatal("the child wrote the run file: its root did not wait")
	}
	exp := storeExporter(t, dir)
	t.Cleanup(func() { exp.Shutdown(t.Context()) })
	if _, err := exp.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, storeRunID(1)+".json")
	r := readRun(t, path)
	if r.Name != "pipeline" || len(r.Stages) != 2 || r.MissingStages != 1 {
		t.Errorf("after the crash: name %q, %d stages, %d missing; want pipeline, 2, 1",
			r.Name, len(r.Stages), r.MissingStages)
	}
	// The stage it waited for merges into the file.
	if err := exportErr(t, exp, storeStage(1, 4, "deploy")); err != nil {
		t.Fatal(err)
	}
	r = readRun(t, path)
	if r.Status != jsonrun.StatusOK || len(r.Stages) != 3 || r.MissingStages != 0 {
		t.Errorf("with its late stage: status %s, %d stages, %d missing; want ok, 3, 0", r.Status, len(r.Stages), r.MissingStages)
	}
}

// storeCrashChild acknowledges two stages and a root that waits for a
// third, says so, and waits to be killed.
func storeCrashChild(t *testing.T, dir string) {
	exp := storeExporter(t, dir)
	if err := exportErr(t, exp, storeStage(1, 2, "build"), storeStage(1, 3, "test")); err != nil {
		t.Fatal(err)
	}
	if err := exportErr(t, exp, storeRoot(1, 3)); err != nil {
		t.Fatal(err)
	}
	fmt.Println("acknowledged")
	<-t.Context().Done() // killed before
}

// BenchmarkCollectorRuns measures a Collector's exporter per 20-stage run
// whose stages come from three producers, in three requests, then its
// root: with the store of open runs, and with a journal file per open run
// (the Collector before the store), in the same run. spans/s counts the
// run's 21 spans per wall second; cpu-ns/op the process's CPU time per
// run. Most of it is writing the run file (a temporary file, two fsyncs
// and a rename).
func BenchmarkCollectorRuns(b *testing.B) {
	for _, c := range []struct {
		name  string
		store bool
	}{{"store", true}, {"files", false}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			opts := []jsonrun.Option{jsonrun.WithDir(dir), jsonrun.WithRunFilesInDirOnly(), jsonrun.WithJournalAllRuns(),
				jsonrun.WithPendingSpans(30 * time.Second), jsonrun.WithLateStageWait(5 * time.Second)}
			if c.store {
				opts = append(opts, jsonrun.WithRunStore())
			}
			exp, err := jsonrun.New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer exp.Shutdown(context.Background())
			ctx := context.Background()
			n := 0
			cpu := benchcpu.Start()
			for b.Loop() {
				n++
				for p := range 3 {
					var spans tracetest.SpanStubs
					for i := p; i < 20; i += 3 {
						s := storeStage(n%250+1, byte(i+2), fmt.Sprintf("s%d", i))
						s.Attributes[0] = attribute.String(keys.RunID, storeRunID(n))
						spans = append(spans, s)
					}
					if err := exp.ExportSpans(ctx, spans.Snapshots()); err != nil {
						b.Fatal(err)
					}
				}
				root := storeRoot(n%250+1, 20)
				root.Attributes[0] = attribute.String(keys.RunID, storeRunID(n))
				if err := exp.ExportSpans(ctx, tracetest.SpanStubs{root}.Snapshots()); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b)
			b.ReportMetric(float64(21*n)/b.Elapsed().Seconds(), "spans/s")
		})
	}
}

// TestStoreFilesArePrivate: the store holds what senders sent; its files
// are the process's alone (0600, its directory for temporary files
// 0700), whatever the run files' permissions.
func TestStoreFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	exp := storeExporter(t, dir, jsonrun.WithFilePerm(0o644))
	t.Cleanup(func() { exp.Shutdown(t.Context()) })
	if err := exportErr(t, exp, storeStage(1, 2, "build")); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, ".openruns", "*"))
	if err != nil || len(files) < 2 {
		t.Fatalf("store files %v, %v", files, err)
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(f), fi.Mode().Perm(), want)
		}
	}
}

// TestStoreRunFilesLeaveNoTemporaryFiles: the run files of runs the store
// holds are written through its own directory for temporary files, which
// nothing else writes; a finished run leaves no temporary file, there or
// beside the run file, and what a killed process left there is removed
// when the store opens again.
func TestStoreRunFilesLeaveNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	exp := storeExporter(t, dir)
	for n := 1; n <= 3; n++ {
		if err := exportErr(t, exp, storeStage(n, 2, "build"), storeRoot(n, 1)); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, storeRunID(n)+".json")); err != nil {
			t.Fatalf("run %d: %v", n, err)
		}
	}
	if err := exp.Detach(t.Context()); err != nil {
		t.Fatal(err)
	}
	tmpDir := filepath.Join(dir, ".openruns", "tmp")
	for _, pattern := range []string{filepath.Join(dir, ".*.tmp-*"), filepath.Join(tmpDir, "*")} {
		if left, _ := filepath.Glob(pattern); len(left) > 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}
	leftover := filepath.Join(tmpDir, storeRunID(9)+".json.tmp-1")
	if err := os.WriteFile(leftover, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	exp = storeExporter(t, dir)
	defer exp.Detach(t.Context())
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a killed process's temporary file is still there: %v", err)
	}
}

// TestStoreConcurrentSafeGroupCommit: requests from many goroutines at
// once, with journal.sync (fsyncs shared across the requests that wait
// together), each open, fill and finish runs; every run file is whole and
// the store is empty after.
func TestStoreConcurrentSafeGroupCommit(t *testing.T) {
	const producers, runs = 6, 20
	dir := t.TempDir()
	exp := storeExporter(t, dir, jsonrun.WithJournalSync())
	t.Cleanup(func() { exp.Shutdown(t.Context()) })
	errs := make(chan error, producers)
	for p := range producers {
		go func() {
			var err error
			for i := range runs {
				n := p*runs + i + 1
				for s := byte(2); s < 5 && err == nil; s++ {
					err = exportErr(t, exp, storeStage(n, s, fmt.Sprintf("s%d", s)))
				}
				if err == nil {
					err = exportErr(t, exp, storeRoot(n, 3))
				}
			}
			errs <- err
		}()
	}
	for range producers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for n := 1; n <= producers*runs; n++ {
		r := readRun(t, filepath.Join(dir, storeRunID(n)+".json"))
		if r.Status != jsonrun.StatusOK || len(r.Stages) != 3 {
			t.Errorf("run %d: status %s, %d stages", n, r.Status, len(r.Stages))
		}
	}
	if st := exp.Stats(); st.OpenRuns != 0 {
		t.Errorf("%d runs still open", st.OpenRuns)
	}
}

// TestDroppedWaitingSpansCounted: spans that wait for their trace's run
// (WithPendingSpans) and are dropped when it does not come are counted.
func TestDroppedWaitingSpansCounted(t *testing.T) {
	clock := newFakeClock()
	exp, _ := newExporter(t, jsonrun.WithPendingSpans(time.Minute), jsonrun.WithTestClock(clock))
	if err := exportErr(t, exp, foreignSpan(1, 2, 1, "query", 0, 1), foreignSpan(1, 3, 1, "query", 1, 2)); err != nil {
		t.Fatal(err)
	}
	clock.advance(2 * time.Minute)
	if err := exportErr(t, exp, foreignSpan(2, 2, 1, "query", 0, 1)); err != nil {
		t.Fatal(err)
	}
	if got := exp.Stats().DroppedSpans; got != 2 {
		t.Errorf("DroppedSpans = %d, want the 2 spans of the trace whose run never came", got)
	}
}

// TestStoreHeldByOneProcess: a second exporter on the same store is
// refused, with what to do; one with a store of its own, on the same
// directory of run files, starts.
func TestStoreHeldByOneProcess(t *testing.T) {
	dir := t.TempDir()
	exp := storeExporter(t, dir)
	t.Cleanup(func() { exp.Shutdown(t.Context()) })
	_, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithRunStore())
	if err == nil || !strings.Contains(err.Error(), "need a store each") {
		t.Errorf("second exporter on one store: %v; want a refusal that says what to do", err)
	}
	other, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithRunStore(), jsonrun.WithStoreDir(filepath.Join(dir, ".openruns-b")))
	if err != nil {
		t.Fatal(err)
	}
	other.Shutdown(t.Context())
}

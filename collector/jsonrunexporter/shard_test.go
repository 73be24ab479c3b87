package jsonrunexporter

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// ring models the loadbalancing exporter with routing_key: traceID: a
// consistent-hash ring of the backend Collectors, each with many points,
// and a trace goes to the owner of the first point at or after its hash.
type ring struct {
	points []uint32
	owner  map[uint32]int
}

func newRing(backends int) *ring {
	r := &ring{owner: map[uint32]int{}}
	for b := range backends {
		for v := range 100 {
			p := crc32.ChecksumIEEE(fmt.Appendf(nil, "collector-%d-%d", b, v))
			r.points = append(r.points, p)
			r.owner[p] = b
		}
	}
	slices.Sort(r.points)
	return r
}

func (r *ring) route(tid pcommon.TraceID) int {
	h := crc32.ChecksumIEEE(tid[:])
	i, _ := slices.BinarySearch(r.points, h)
	if i == len(r.points) {
		i = 0
	}
	return r.owner[r.points[i]]
}

const (
	shardRuns   = 24
	shardStages = 4
)

func shardRunID(i int) string { return fmt.Sprintf("5f0c8a61-2222-4e2b-9a3c-%012d", i) }

// shardRequests are the requests of every run, interleaved across runs as
// several hosts would send them: first each run's stages one request at a
// time, then the roots (with their stage count).
func shardRequests() (stages, roots []ptrace.Traces) {
	for s := range shardStages {
		for i := range shardRuns {
			stages = append(stages, traces(shardRunID(i), byte(i+1), spanSpec{id: byte(s + 2), parent: 1, stage: fmt.Sprintf("s%d", s)}))
		}
	}
	for i := range shardRuns {
		td := traces(shardRunID(i), byte(i+1), spanSpec{id: 1, count: shardStages})
		roots = append(roots, td)
	}
	return stages, roots
}

func traceOf(td ptrace.Traces) pcommon.TraceID {
	return td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID()
}

type shard struct {
	dir string
	exp exporter.Traces
}

func startShards(t *testing.T, n int) []shard {
	out := make([]shard, n)
	for i := range out {
		dir := t.TempDir()
		out[i] = shard{dir: dir, exp: newExporter(t, testConfig(dir))}
	}
	return out
}

func send(t *testing.T, shards []shard, r *ring, tds ...ptrace.Traces) {
	t.Helper()
	for _, td := range tds {
		if err := shards[r.route(traceOf(td))].exp.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
	}
}

// where lists, for run i, the shards holding its run file and their files.
func where(t *testing.T, shards []shard, i int) (files []*runfile.Run, at []int) {
	t.Helper()
	for k, s := range shards {
		r, err := runfile.ReadFile(filepath.Join(s.dir, shardRunID(i)+".json"))
		if os.IsNotExist(err) || (err != nil && os.IsNotExist(unwrapAll(err))) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		files, at = append(files, r), append(at, k)
	}
	return files, at
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// With a fixed ring, every run is whole in exactly one of the Collectors:
// routing by trace id sends all of a run's spans, from any host, to one.
func TestShardingByTraceIDKeepsRunsWhole(t *testing.T) {
	shards := startShards(t, 3)
	r := newRing(3)
	stages, roots := shardRequests()
	send(t, shards, r, stages...)
	send(t, shards, r, roots...)
	used := map[int]bool{}
	for i := range shardRuns {
		files, at := where(t, shards, i)
		if len(files) != 1 {
			t.Fatalf("run %d: %d run files (in shards %v); want exactly one", i, len(files), at)
		}
		if got := len(files[0].Stages); got != shardStages || files[0].MissingStages != 0 || files[0].Status != runfile.StatusOK {
			t.Errorf("run %d: %d stages, %d missing, status %s; want whole", i, got, files[0].MissingStages, files[0].Status)
		}
		used[at[0]] = true
	}
	if len(used) < 2 {
		t.Errorf("all runs went to shards %v: the model does not spread them", used)
	}
	for _, s := range shards {
		if err := s.exp.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// What does not hold: when the ring changes in the middle of runs (a
// Collector added, or one removed from the resolver's list), the traces
// whose owner moved are split: the new owner writes the run file without
// the stages sent before the change (missing_stages says how many), and the
// old owner keeps those stages apart (in its store of open runs, until
// open_run_timeout writes them as an incomplete file, or with the journal
// off an incomplete file at shutdown). The
// runs whose owner did not move stay whole.
func TestRingChangeMidRunSplitsMovedRuns(t *testing.T) {
	shards := startShards(t, 4)
	before, after := newRing(3), newRing(4)
	stages, roots := shardRequests()
	half := len(stages) / 2
	send(t, shards, before, stages[:half]...)
	send(t, shards, after, stages[half:]...)
	send(t, shards, after, roots...)
	for _, s := range shards {
		if err := s.exp.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	moved := 0
	for i := range shardRuns {
		tid := traceOf(roots[i])
		files, at := where(t, shards, i)
		if before.route(tid) == after.route(tid) {
			if len(files) != 1 || len(files[0].Stages) != shardStages {
				t.Errorf("run %d did not move but is not whole: %d files", i, len(files))
			}
			continue
		}
		moved++
		newOwner, oldOwner := after.route(tid), before.route(tid)
		if newOwner != 3 {
			t.Errorf("run %d moved between old Collectors (%d to %d): a consistent ring moves traces only to the new one", i, oldOwner, newOwner)
		}
		var newFile *runfile.Run
		for k, f := range files {
			if at[k] == newOwner {
				newFile = f
			}
		}
		if newFile == nil {
			t.Fatalf("moved run %d: no run file at its new owner %d (files in %v)", i, newOwner, at)
		}
		if newFile.MissingStages == 0 || newFile.Status != runfile.StatusIncomplete {
			t.Errorf("moved run %d: %d missing, status %s; want its earlier stages missing", i, newFile.MissingStages, newFile.Status)
		}
		// The earlier stages stay with the old owner: in a journal kept
		// for a restart (journal on), else in a file of the run written
		// as incomplete at shutdown. Either way no file holds the run whole.
		_, jerr := os.Stat(filepath.Join(shards[oldOwner].dir, shardRunID(i)+jsonrun.JournalSuffix))
		oldFile := slices.Contains(at, oldOwner)
		if jerr != nil && !oldFile && !inStore(t, shards[oldOwner].dir, shardRunID(i)) {
			t.Errorf("moved run %d: the old owner %d kept neither a journal nor a file of its earlier stages", i, oldOwner)
		}
	}
	if moved == 0 {
		t.Fatal("no run moved when a fourth Collector joined: the simulation shows nothing")
	}
	t.Logf("%d of %d runs moved when the ring grew from 3 to 4 Collectors mid-run", moved, shardRuns)
}

// inStore reports whether the store of open runs in dir holds lines of
// runID.
func inStore(t *testing.T, dir, runID string) bool {
	t.Helper()
	return storeHas(t, dir, `"run_id":"`+runID+`"`)
}

// storeHas reports whether a line of the store of open runs in dir holds
// needle.
func storeHas(t *testing.T, dir, needle string) bool {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, ".openruns", "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range segs {
		b, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(needle)) {
			return true
		}
	}
	return false
}

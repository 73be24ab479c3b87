package jsonrun_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// updateGolden rewrites testdata/golden from what the code writes now:
//
//	go test ./exporter/jsonrun -run TestGoldenRunFiles -update
//
// Review the diff before committing it: a changed golden file is a changed
// run-file format.
var updateGolden = flag.Bool("update", false, "rewrite the golden run files in testdata/golden")

// goldenRunID is the run id of every golden run file.
const goldenRunID = "af3c980c-3d22-46e8-83cd-7ff99abee586"

// goldenEpoch is the first time the golden clock returns: the start_time of
// the Python stage-tracker's README example.
var goldenEpoch = time.Date(2025, 5, 5, 23, 14, 10, 235518000, time.UTC)

// goldenClock is a clock that advances by a fixed step at each reading, so that
// a run made in a fixed sequence of calls always gets the same timestamps.
// It is safe for concurrent use.
type goldenClock struct {
	mu   sync.Mutex
	next time.Time
	step time.Duration
}

func newGoldenClock() *goldenClock {
	// An uneven step makes every microsecond digit of the format visible.
	return &goldenClock{next: goldenEpoch, step: 1234567 * time.Microsecond}
}

func (c *goldenClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.next
	c.next = c.next.Add(c.step)
	return t
}

// goldenIDs is an sdktrace.IDGenerator that numbers trace and span ids
// in the order they are asked for. It is safe for concurrent use.
type goldenIDs struct {
	mu sync.Mutex
	n  uint64
}

var _ sdktrace.IDGenerator = (*goldenIDs)(nil)

func (g *goldenIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[:8], 0x5747a6e05747a6e0)
	binary.BigEndian.PutUint64(tid[8:], g.n)
	return tid, g.spanIDLocked()
}

func (g *goldenIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.spanIDLocked()
}

func (g *goldenIDs) spanIDLocked() trace.SpanID {
	g.n++
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], 0x5a00000000000000|g.n)
	return sid
}

// goldenCase is one pipeline whose run file a test inspects: args for Start and
// the stages, made through the real tracker.
type goldenCase struct {
	name string
	args any
	body func(ctx context.Context, run *tracker.Run) error
}

// goldenCases are the pipelines whose run files are checked against the schema
// and, made with the fixed clock, against the golden files.
var goldenCases = []goldenCase{
	{
		name: "quickstart",
		args: "Reconnaissance_M1",
		body: func(ctx context.Context, run *tracker.Run) error {
			run.StartStage(ctx, "Detection")
			if err := run.EndStage("Detection", map[string]any{"status": "clean"}, nil); err != nil {
				return err
			}
			run.StartStage(ctx, "Enrichment")
			return run.EndStage("Enrichment", map[string]any{"added_cves": 3}, nil)
		},
	},
	{
		name: "failed_stage",
		args: map[string]any{"model": "resnet50", "epochs": 2},
		body: func(ctx context.Context, run *tracker.Run) error {
			_, s := run.StartStage(ctx, "load")
			s.End(map[string]any{"rows": 120000}, nil)
			_, s = run.StartStage(ctx, "train")
			s.End(map[string]any{"epoch": 1, "loss": 0.75}, errors.New("CUDA out of memory: tried to allocate 2.00 GiB"))
			_, s = run.StartStage(ctx, "report")
			s.End(nil, nil)
			return nil
		},
	},
	{
		name: "nested_stages",
		args: "etl-nightly",
		body: func(ctx context.Context, run *tracker.Run) error {
			err := run.Stage(ctx, "extract", func(ctx context.Context) (any, error) {
				for _, table := range []string{"users", "orders"} {
					if err := run.Stage(ctx, "table", func(ctx context.Context) (any, error) {
						return map[string]any{"table": table}, run.Stage(ctx, "query", func(context.Context) (any, error) {
							return map[string]any{"rows": len(table) * 100}, nil
						})
					}); err != nil {
						return nil, err
					}
				}
				return map[string]any{"tables": 2}, nil
			})
			if err != nil {
				return err
			}
			return run.Stage(ctx, "load", func(context.Context) (any, error) {
				return []int{1, 2, 3}, nil
			})
		},
	},
	{
		name: "repeated_names",
		args: nil,
		body: func(ctx context.Context, run *tracker.Run) error {
			for attempt := 1; attempt <= 3; attempt++ {
				var err error
				if attempt < 3 {
					err = fmt.Errorf("fetch attempt %d: connection reset", attempt)
				}
				_, s := run.StartStage(ctx, "fetch")
				s.End(map[string]any{"attempt": attempt}, err)
			}
			// Literal names that look like the scheme's keys: every name
			// keeps its plain key, and an earlier attempt whose number is
			// taken gets the next free one instead of overwriting a record.
			for _, name := range []string{"parse", "parse#2", "parse", "merge", "merge", "merge#2"} {
				_, s := run.StartStage(ctx, name)
				s.End(name, nil)
			}
			return nil
		},
	},
	{
		name: "unencodable_data",
		args: "detect",
		body: func(ctx context.Context, run *tracker.Run) error {
			_, s := run.StartStage(ctx, "channel")
			s.End(map[string]any{"results": make(chan int)}, nil)
			_, s = run.StartStage(ctx, "nan")
			s.End(map[string]any{"score": math.NaN()}, nil)
			_, s = run.StartStage(ctx, "after")
			s.End(map[string]any{"kept": true}, nil)
			return nil
		},
	},
	{
		name: "unfinished_stage",
		args: "download",
		body: func(ctx context.Context, run *tracker.Run) error {
			_, s := run.StartStage(ctx, "list")
			s.End([]string{"a.parquet", "b.parquet"}, nil)
			run.StartStage(ctx, "download") // never ended: Finalize ends it
			return nil
		},
	},
}

// goldenRunFile runs c through setup.Tracker, in a fresh directory, and
// returns the run file's bytes. With fixed it uses the golden clock, run id
// and id generator, so the file is the same at every run.
func goldenRunFile(t *testing.T, c goldenCase, fixed bool) []byte {
	t.Helper()
	// Only the run file: an exporter selected by the environment would make
	// the test depend on a backend being up.
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	if fixed {
		// The host detector's name, fixed; a pid from the environment is a
		// string, which the run file does not take for a pid.
		t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "host.name=golden-host,process.pid=1")
	}
	ctx := t.Context()
	opts := []setup.Option{setup.WithDir(t.TempDir())}
	var runOpts []tracker.RunOption
	if fixed {
		opts = append(opts,
			// Provenance describes the machine: runfile's tests hold its format.
			setup.WithTrackerOptions(tracker.WithClock(newGoldenClock().now), tracker.WithoutProvenance()),
			setup.WithProviderOptions(sdktrace.WithIDGenerator(&goldenIDs{})),
		)
		runOpts = append(runOpts, tracker.WithRunID(goldenRunID))
	}
	tr, shutdown, err := setup.Tracker(ctx, opts...)
	if err != nil {
		t.Fatalf("setup.Tracker: %v", err)
	}
	ctx, run := tr.Start(ctx, c.args, runOpts...)
	if err := c.body(ctx, run); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	if err := run.Finalize(ctx); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	b, err := os.ReadFile(run.File())
	if err != nil {
		t.Fatalf("read run file: %v", err)
	}
	return b
}

func goldenPath(name string) string {
	return filepath.Join("testdata", "golden", name+".json")
}

func TestGoldenRunFiles(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			got := goldenRunFile(t, c, true)
			path := goldenPath(c.name)
			if *updateGolden {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("run file differs from %s (rerun with -update if the change is intended):\n%s", path, goldenFirstDiff(want, got))
			}
		})
	}
}

// TestGoldenRunFilesStable makes the same run twice: the fixed clock, run id
// and id generator must leave nothing that varies between runs, or the golden
// comparison would be flaky.
func TestGoldenRunFilesStable(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			a, b := goldenRunFile(t, c, true), goldenRunFile(t, c, true)
			if !bytes.Equal(a, b) {
				t.Errorf("two runs with the fixed clock differ:\n%s", goldenFirstDiff(a, b))
			}
		})
	}
}

// goldenFirstDiff describes the first line where want and got differ.
func goldenFirstDiff(want, got []byte) string {
	wl := strings.Split(string(want), "\n")
	gl := strings.Split(string(got), "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, w, g)
		}
	}
	return "(same lines; the bytes differ)"
}

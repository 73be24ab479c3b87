package jsonrun_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// Tests of the run convention, version 1 (docs/attributes.md): spans of
// any instrumentation scope make a run file. Each fails on the exporter
// that read only the tracker's scope.

var (
	pyScope  = instrumentation.Scope{Name: "etl.pipeline", Version: "1.2.0"} // a Python or Node program's tracer
	libScope = instrumentation.Scope{Name: "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"}
)

// foreignSpan is a span of pyScope in trace tn, a child of parent (0: none).
func foreignSpan(tn, id, parent byte, name string, start, end int, attrs ...attribute.KeyValue) tracetest.SpanStub {
	s := tracetest.SpanStub{
		Name:                 name,
		SpanContext:          sc(traceID(tn), spanID(id)),
		StartTime:            t0.Add(time.Duration(start) * time.Second),
		EndTime:              t0.Add(time.Duration(end) * time.Second),
		Attributes:           attrs,
		InstrumentationScope: pyScope,
	}
	if parent != 0 {
		s.Parent = sc(traceID(tn), spanID(parent))
	}
	return s
}

func export(t *testing.T, exp *jsonrun.Exporter, spans ...tracetest.SpanStub) {
	t.Helper()
	if err := exp.ExportSpans(t.Context(), tracetest.SpanStubs(spans).Snapshots()); err != nil {
		t.Fatal(err)
	}
}

// files lists the names in dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// pythonRun is the spans of a run that a program made by hand with another
// SDK, as they end: leaves first, root last. load and fit are stages of
// the root; fit.step is inside fit and fails with an exception event.
func pythonRun(tn byte, runID string) []tracetest.SpanStub {
	failed := foreignSpan(tn, 4, 3, "fit.step", 2, 3, attribute.String("error.type", "ValueError"))
	failed.Status = sdktrace.Status{Code: codes.Error}
	failed.Events = []sdktrace.Event{{Name: "exception", Attributes: []attribute.KeyValue{
		attribute.String("exception.type", "ValueError"),
		attribute.String("exception.message", "loss is NaN"),
		attribute.String("exception.stacktrace", "Traceback (most recent call last): ..."),
	}}}
	return []tracetest.SpanStub{
		foreignSpan(tn, 2, 1, "load", 0, 1, attribute.Int("rows", 7), attribute.String("code.function", "load")),
		failed,
		foreignSpan(tn, 3, 1, "fit", 1, 4, attribute.String(keys.StageName, "train")),
		foreignSpan(tn, 1, 0, "nightly", -1, 5, attribute.String(keys.RunID, runID), attribute.Int(keys.RunStageCount, 3)),
	}
}

func checkPythonRun(t *testing.T, r *jsonrun.Run) {
	t.Helper()
	if r.Name != "nightly" || r.Status != jsonrun.StatusFailed || r.StageCount != 3 || r.MissingStages != 0 {
		t.Fatalf("run %q status %s, %d stages, missing %d; want nightly, failed, 3, 0", r.Name, r.Status, r.StageCount, r.MissingStages)
	}
	load, _ := r.Stages.Get("load")
	if string(load.Data) != `{"rows":7}` || load.Status != jsonrun.StageOK {
		t.Errorf("load: data %s status %s, want its attributes outside reserved namespaces as data", load.Data, load.Status)
	}
	train, ok := r.Stages.Get("train")
	if !ok {
		t.Fatalf("no stage train (stage_tracker.stage.name over the span name): %v", r.Stages)
	}
	step, ok := train.Stages.Get("fit.step")
	if !ok {
		t.Fatalf("fit.step is not nested in train: %+v", train.Stages)
	}
	if step.Status != jsonrun.StageError || step.Error != "loss is NaN" || step.Stack != "Traceback (most recent call last): ..." {
		t.Errorf("fit.step: status %s error %q stack %q, want the exception event's message and stack", step.Status, step.Error, step.Stack)
	}
}

// TestForeignRun: a run made by hand with another SDK's spans, of its own
// scope, arriving leaves first: a run file with nested stages, names,
// errors and data by the convention.
func TestForeignRun(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithPendingSpans(time.Minute))
	export(t, exp, pythonRun(1, id1)...)
	checkPythonRun(t, readRun(t, filepath.Join(dir, id1+".json")))
}

// TestForeignRootFirst: without WithPendingSpans, stages of a foreign run
// whose root arrives first (the run span's start seen in process, or a
// producer that ends its root early) are its stages.
func TestForeignRootFirst(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithLateStageWait(time.Hour), jsonrun.WithTestClock(newFakeClock()))
	spans := pythonRun(1, id1)
	root := spans[len(spans)-1]
	export(t, exp, root)
	export(t, exp, spans[:len(spans)-1]...)
	checkPythonRun(t, readRun(t, filepath.Join(dir, id1+".json")))
}

// nodeRes is the resource of another process: a Node program sending its
// spans to stagetrack run, a host sending to a Collector.
var nodeRes = resource.NewSchemaless(attribute.String("service.name", "etl-node"), attribute.String("telemetry.sdk.language", "nodejs"))

// TestSpanOfAnotherScopeInTrackerRun: a span that names no run, inside a
// tracker's stage, is a stage of the run when it comes from another
// process (per the convention: any span of the run's trace); from the
// tracker's own process (its resource) it is a library's span (an HTTP
// call in a stage) and not a stage, as before the convention. The tracker's
// stage inside it nests under its stage by stage_tracker.stage.parent_span_id
// either way, and the run span's stage count counts only the tracker's
// stages.
func TestSpanOfAnotherScopeInTrackerRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		res    *resource.Resource
		stages string // fetch's stages
	}{
		{"library span of the tracker's process", nil, "parse"},
		{"span of another process", nodeRes, "GET,parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, dir := newExporter(t)
			tid := traceID(1)
			root := sc(tid, spanID(1))
			stage := func(id byte, name string, parent trace.SpanContext, start, end int, attrs ...attribute.KeyValue) tracetest.SpanStub {
				return tracetest.SpanStub{
					Name: name, SpanContext: sc(tid, spanID(id)), Parent: parent,
					StartTime: t0.Add(time.Duration(start) * time.Second), EndTime: t0.Add(time.Duration(end) * time.Second),
					Attributes:           append([]attribute.KeyValue{attribute.String(keys.StageName, name), attribute.String(keys.RunID, id1)}, attrs...),
					InstrumentationScope: scope,
				}
			}
			other := tracetest.SpanStub{
				Name: "GET", SpanContext: sc(tid, spanID(3)), Parent: sc(tid, spanID(2)),
				StartTime: t0.Add(time.Second), EndTime: t0.Add(3 * time.Second),
				Attributes:           []attribute.KeyValue{attribute.String("http.request.method", "GET")},
				InstrumentationScope: libScope,
				Resource:             tc.res,
			}
			export(t, exp,
				stage(4, "parse", sc(tid, spanID(3)), 2, 3, attribute.String(keys.StageParent, spanID(2).String())),
				other,
				stage(2, "fetch", root, 0, 4),
				tracetest.SpanStub{
					Name: "run", SpanContext: root, StartTime: t0, EndTime: t0.Add(5 * time.Second),
					Attributes:           []attribute.KeyValue{attribute.String(keys.RunID, id1), attribute.Int(keys.RunStageCount, 2)},
					InstrumentationScope: scope,
				},
			)
			r := readRun(t, filepath.Join(dir, id1+".json"))
			if r.Status != jsonrun.StatusOK || r.MissingStages != 0 || len(r.Stages) != 1 {
				t.Fatalf("status %s, missing %d, %d top-level stages; want ok, 0, 1", r.Status, r.MissingStages, len(r.Stages))
			}
			fetch, _ := r.Stages.Get("fetch")
			var keys []string
			for _, st := range fetch.Stages {
				keys = append(keys, st.Key)
			}
			if got := strings.Join(keys, ","); got != tc.stages {
				t.Errorf("fetch's stages %q, want %q", got, tc.stages)
			}
			if get, ok := fetch.Stages.Get("GET"); ok && string(get.Data) != `{"http.request.method":"GET"}` {
				t.Errorf("GET data %s", get.Data)
			}
		})
	}
}

// TestTrackerRunLosingStageWithLibrarySpan: a library span does not hide a
// lost tracker stage: the run span's count is compared with the tracker's
// stages only.
func TestTrackerRunLosingStageWithLibrarySpan(t *testing.T) {
	exp, dir := newExporter(t)
	spans := runStubs(id1, 1, 2)
	lib := tracetest.SpanStub{
		Name: "GET", SpanContext: sc(traceID(1), spanID(9)), Parent: spans[1].SpanContext,
		StartTime: t0, EndTime: t0.Add(time.Second), InstrumentationScope: libScope, Resource: nodeRes,
	}
	export(t, exp, spans[1], lib, spans[2]) // stage0 lost on the way
	r := readRun(t, filepath.Join(dir, id1+".json"))
	if r.Status != jsonrun.StatusIncomplete || r.MissingStages != 1 {
		t.Errorf("status %s, missing %d; want incomplete, 1", r.Status, r.MissingStages)
	}
}

// TestTraceRoots: with the trace-root rule, the root span of any trace is a
// run, named by cicd.pipeline.run.id when it is a UUID, else by the trace id.
func TestTraceRoots(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithRunRoots(jsonrun.TraceRoots), jsonrun.WithPendingSpans(time.Minute))
	export(t, exp,
		foreignSpan(1, 2, 1, "build", 0, 1),
		foreignSpan(2, 2, 1, "test", 0, 1),
		foreignSpan(1, 1, 0, "ci", 0, 2, attribute.String("cicd.pipeline.run.id", id2)),
		foreignSpan(2, 1, 0, "ci", 0, 2, attribute.String("cicd.pipeline.run.id", "12345")),
	)
	byPipeline := readRun(t, filepath.Join(dir, id2+".json"))
	byTrace := readRun(t, filepath.Join(dir, "00000000-0000-0000-0000-000000000002.json"))
	if _, ok := byPipeline.Stages.Get("build"); !ok || byPipeline.Status != jsonrun.StatusOK {
		t.Errorf("run named by its pipeline id: status %s, stages %+v", byPipeline.Status, byPipeline.Stages)
	}
	if _, ok := byTrace.Stages.Get("test"); !ok || byTrace.TraceID != traceID(2).String() {
		t.Errorf("run named by its trace id: stages %+v, trace %s", byTrace.Stages, byTrace.TraceID)
	}
}

// TestAttributeRootsOnly: without the trace-root rule, a trace root that
// names no run is no run, and its trace's spans are dropped unwritten.
func TestAttributeRootsOnly(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithPendingSpans(time.Minute))
	export(t, exp, foreignSpan(1, 2, 1, "build", 0, 1), foreignSpan(1, 1, 0, "ci", 0, 2))
	if err := exp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if f := files(t, dir); len(f) != 0 {
		t.Errorf("files %v, want none", f)
	}
}

// TestPendingJoinsByTrackerStage: spans of a trace not yet known wait, and
// join the run when a span naming it arrives (a tracker's stage from
// another process), before its root.
func TestPendingJoinsByTrackerStage(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithPendingSpans(time.Minute))
	spans := runStubs(id1, 1, 1)
	node := tracetest.SpanStub{
		Name: "node.step", SpanContext: sc(traceID(1), spanID(9)), Parent: spans[0].SpanContext,
		StartTime: t0, EndTime: t0.Add(100 * time.Millisecond), InstrumentationScope: pyScope, Resource: nodeRes,
	}
	export(t, exp, node)
	export(t, exp, spans...)
	r := readRun(t, filepath.Join(dir, id1+".json"))
	st, _ := r.Stages.Get("stage0")
	if _, ok := st.Stages.Get("node.step"); !ok || r.Status != jsonrun.StatusOK {
		t.Errorf("status %s, stage0 holds %+v; want node.step in it", r.Status, st.Stages)
	}
}

// TestPendingDroppedAfterMaxWait: a trace whose run does not show up within
// the wait is dropped, and its root arriving later makes a file without
// those spans; nothing is ever written for a trace that never meets a run.
func TestPendingDroppedAfterMaxWait(t *testing.T) {
	clk := newFakeClock()
	exp, dir := newExporter(t, jsonrun.WithPendingSpans(time.Minute), jsonrun.WithTestClock(clk))
	spans := pythonRun(1, id1)
	export(t, exp, spans[0])                            // load, at 0
	export(t, exp, foreignSpan(3, 2, 1, "x", 0, 1))     // a trace that never meets a run
	clk.advance(time.Minute)                            // load and x have waited long enough
	export(t, exp, foreignSpan(2, 2, 1, "other", 0, 1)) // any waiting span sweeps the old ones
	export(t, exp, spans[1:]...)
	if err := exp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if f := files(t, dir); !slices.Equal(f, []string{id1 + ".json"}) {
		t.Fatalf("files %v, want only the run's", f)
	}
	r := readRun(t, filepath.Join(dir, id1+".json"))
	if _, ok := r.Stages.Get("load"); ok || r.StageCount != 2 || r.MissingStages != 1 {
		t.Errorf("stages %d (missing %d): %+v; want load dropped after its wait", r.StageCount, r.MissingStages, r.Stages)
	}
}

// TestPendingEvicted: waiting traces count against WithMaxPendingRuns; the
// oldest is dropped, never written, never spilled to a journal.
func TestPendingEvicted(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithPendingSpans(time.Minute), jsonrun.WithMaxPendingRuns(1))
	a, b := pythonRun(1, id1), pythonRun(2, id2)
	export(t, exp, a[0])
	export(t, exp, b[0]) // evicts a's bucket
	if f := files(t, dir); len(f) != 0 {
		t.Fatalf("files %v after evicting a waiting trace, want none", f)
	}
	export(t, exp, b[1:]...)
	export(t, exp, a[1:]...)
	ra, rb := readRun(t, filepath.Join(dir, id1+".json")), readRun(t, filepath.Join(dir, id2+".json"))
	if _, ok := ra.Stages.Get("load"); ok || ra.MissingStages != 1 {
		t.Errorf("run a: %+v, missing %d; want load dropped by eviction", ra.Stages, ra.MissingStages)
	}
	if _, ok := rb.Stages.Get("load"); !ok || rb.MissingStages != 0 {
		t.Errorf("run b: %+v, missing %d; want load kept", rb.Stages, rb.MissingStages)
	}
}

// TestLateStageWait: a root that arrives before its last stages waits for
// them: written as soon as its stage count is in, else when the wait ends,
// or at Shutdown; a span after that is merged into the file (late_stages).
func TestLateStageWait(t *testing.T) {
	t.Run("stage count reached", func(t *testing.T) {
		exp, dir := newExporter(t, jsonrun.WithLateStageWait(time.Hour), jsonrun.WithTestClock(newFakeClock()))
		spans := runStubs(id1, 1, 2)
		export(t, exp, spans[2], spans[0])
		if f := files(t, dir); len(f) != 0 {
			t.Fatalf("files %v before the last stage, want none", f)
		}
		export(t, exp, spans[1])
		r := readRun(t, filepath.Join(dir, id1+".json"))
		if r.Status != jsonrun.StatusOK || r.StageCount != 2 {
			t.Errorf("status %s, %d stages", r.Status, r.StageCount)
		}
		path, err := exp.WaitRunFile(t.Context(), id1)
		if err != nil || path != filepath.Join(dir, id1+".json") {
			t.Errorf("WaitRunFile = %s, %v", path, err)
		}
	})
	t.Run("wait ends", func(t *testing.T) {
		clk := newFakeClock()
		exp, dir := newExporter(t, jsonrun.WithLateStageWait(time.Hour), jsonrun.WithTestClock(clk))
		spans := runStubs(id1, 1, 3)
		export(t, exp, spans[3], spans[0])
		if d := clk.fire(); d != time.Hour {
			t.Fatalf("timer of %v, want the wait", d)
		}
		r := readRun(t, filepath.Join(dir, id1+".json"))
		if r.Status != jsonrun.StatusIncomplete || r.MissingStages != 2 {
			t.Errorf("status %s, missing %d", r.Status, r.MissingStages)
		}
		export(t, exp, spans[1]) // late: merged into the file, and counted
		if r2 := readRun(t, filepath.Join(dir, id1+".json")); r2.StageCount != 2 || r2.LateStages != 1 || r2.MissingStages != 1 {
			t.Errorf("after a late stage: %d stages, %d late, %d missing; want 2, 1, 1", r2.StageCount, r2.LateStages, r2.MissingStages)
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		clk := newFakeClock()
		exp, dir := newExporter(t, jsonrun.WithLateStageWait(time.Hour), jsonrun.WithTestClock(clk))
		spans := runStubs(id1, 1, 2)
		export(t, exp, spans[2])
		if err := exp.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if clk.pending() != 0 {
			t.Error("Shutdown left the wait's timer running")
		}
		r := readRun(t, filepath.Join(dir, id1+".json"))
		if r.Status != jsonrun.StatusIncomplete || r.MissingStages != 2 || r.Name != "run" {
			t.Errorf("status %s, missing %d, name %q; want the root's file, incomplete", r.Status, r.MissingStages, r.Name)
		}
	})
	t.Run("real timer", func(t *testing.T) {
		// The real clock's timer, stopped by the last stage: no goroutine
		// left behind (goleak), nothing slept on.
		exp, dir := newExporter(t, jsonrun.WithLateStageWait(time.Hour))
		spans := runStubs(id1, 1, 1)
		export(t, exp, spans[1], spans[0])
		readRun(t, filepath.Join(dir, id1+".json"))
	})
}

// fakeClock is a clock whose time moves and whose timers fire only when
// the test says.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	d       time.Duration
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) jsonrun.TestStopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, d: d, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// fire runs the oldest timer still set and returns its duration.
func (c *fakeClock) fire() time.Duration {
	c.mu.Lock()
	for _, t := range c.timers {
		if !t.stopped {
			t.stopped = true
			c.mu.Unlock()
			t.f()
			return t.d
		}
	}
	c.mu.Unlock()
	return 0
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

// TestForeignSpanWithRunIDIsRoot: a span of any scope that carries
// stage_tracker.run.id and no stage name is a run's root.
func TestForeignSpanWithRunIDIsRoot(t *testing.T) {
	exp, dir := newExporter(t)
	export(t, exp, foreignSpan(1, 1, 0, "job", 0, 1, attribute.String(keys.RunID, id1)))
	if r := readRun(t, filepath.Join(dir, id1+".json")); r.Name != "job" || r.Status != jsonrun.StatusOK {
		t.Errorf("run %q status %s", r.Name, r.Status)
	}
}

// Modes of TestConventionHelper, a child process that re-runs this test
// binary.
const envConventionHelper = "JSONRUN_CONVENTION_HELPER"

// TestConventionHelper is not a test: it is the child of
// TestJournalAllRunsSurvivesKill, and does nothing unless its variable is
// set. It exports the ended stages of an open run, as a Collector receives
// them, says so, and waits to be killed.
func TestConventionHelper(t *testing.T) {
	dir := os.Getenv(envConventionHelper)
	if dir == "" {
		return
	}
	exp, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithJournalAllRuns(), jsonrun.WithPendingSpans(time.Hour))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	spans := runStubs(id1, 1, 2)
	node := tracetest.SpanStub{
		Name: "node.step", SpanContext: sc(traceID(1), spanID(9)), Parent: spans[0].SpanContext,
		StartTime: t0, EndTime: t0.Add(100 * time.Millisecond), InstrumentationScope: pyScope, Resource: nodeRes,
	}
	for _, batch := range []tracetest.SpanStubs{{node}, spans[:1], spans[1:2]} { // the root never comes
		if err := exp.ExportSpans(t.Context(), batch.Snapshots()); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
	}
	fmt.Println("exported")
	bufio.NewReader(os.Stdin).ReadString('\n') // until killed
	os.Exit(0)
}

// TestJournalAllRunsSurvivesKill: with WithJournalAllRuns, a process that
// only receives ended spans journals the runs it opens; killed with
// SIGKILL before the root arrives, Recover rebuilds the run with every
// stage that arrived, the one that waited for its trace's run included.
func TestJournalAllRunsSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestConventionHelper$")
	cmd.Env = append(os.Environ(), envConventionHelper+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "exported\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q", line)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no Shutdown, no cleanup
		t.Fatal(err)
	}
	cmd.Wait()

	exp, err := jsonrun.New(jsonrun.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(t.Context())
	paths, err := exp.Recover(t.Context())
	if err != nil || len(paths) != 1 {
		t.Fatalf("Recover = %v, %v; want the run", paths, err)
	}
	r := readRun(t, paths[0])
	st, _ := r.Stages.Get("stage0")
	_, node := st.Stages.Get("node.step")
	_, s1 := r.Stages.Get("stage1")
	if r.RunID != id1 || !node || !s1 {
		t.Errorf("recovered run %s: %+v; want stage0 holding node.step, and stage1", r.RunID, r.Stages)
	}
}

// TestTraceRootAboveARun: with the trace-root rule, the root span of a
// trace that holds a run already (a tracker's run under a CI job's span) is
// not a second run.
func TestTraceRootAboveARun(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithRunRoots(jsonrun.TraceRoots), jsonrun.WithPendingSpans(time.Minute))
	spans := runStubs(id1, 1, 1)
	spans[1].Parent = sc(traceID(1), spanID(7)) // the run under the job's span
	job := tracetest.SpanStub{
		Name: "ci-job", SpanContext: sc(traceID(1), spanID(7)),
		StartTime: t0.Add(-time.Hour), EndTime: t0.Add(time.Hour), InstrumentationScope: pyScope,
	}
	export(t, exp, append(spans, job)...)
	if f := files(t, dir); !slices.Equal(f, []string{id1 + ".json"}) {
		t.Errorf("files %v, want only the tracker's run", f)
	}
}

// TestWaitingTraceBounded: a waiting trace keeps at most a bounded number
// of spans; the run file says how many it dropped.
func TestWaitingTraceBounded(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithPendingSpans(time.Minute))
	const n = 10001
	batch := make(tracetest.SpanStubs, n)
	for i := range batch {
		batch[i] = foreignSpan(1, 2, 1, "step", 0, 1)
		batch[i].SpanContext = sc(traceID(1), trace.SpanID{0: byte(i >> 8), 1: byte(i), 7: 0xee})
	}
	export(t, exp, batch...)
	export(t, exp, foreignSpan(1, 1, 0, "nightly", 0, 2, attribute.String(keys.RunID, id1)))
	r := readRun(t, filepath.Join(dir, id1+".json"))
	if r.StageCount != n-1 || len(r.Warnings) != 1 {
		t.Errorf("%d stages, warnings %q; want %d and one saying 1 was dropped", r.StageCount, r.Warnings, n-1)
	}
}

// TestReceivedSpansJoinProcessorRun: the path of stagetrack run's OTLP
// receiver. The run's root is started in process, under the Processor, so
// its trace is known from its start; the spans another process sends (its
// own resource, no stage_tracker attribute) arrive through ExportSpans
// while the run is open and become its stages, nested by their parents.
func TestReceivedSpansJoinProcessorRun(t *testing.T) {
	exp, _ := newExporter(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)))
	defer tp.Shutdown(t.Context())
	_, run := tp.Tracer(keys.ScopeName).Start(t.Context(), "stagetrack", trace.WithAttributes(attribute.String(keys.RunID, id1)))
	tid, rootID := run.SpanContext().TraceID(), run.SpanContext().SpanID()
	child := func(id, parent byte, name string) tracetest.SpanStub {
		p := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: spanID(parent), TraceFlags: trace.FlagsSampled})
		if parent == 0 {
			p = run.SpanContext()
		}
		return tracetest.SpanStub{
			Name: name, SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: spanID(id), TraceFlags: trace.FlagsSampled}),
			Parent: p, StartTime: time.Now(), EndTime: time.Now(), InstrumentationScope: pyScope, Resource: nodeRes,
		}
	}
	export(t, exp, child(3, 2, "query"), child(2, 0, "main"))
	run.End()
	path, err := exp.WaitRunFile(t.Context(), id1)
	if err != nil {
		t.Fatal(err)
	}
	r := readRun(t, path)
	main, _ := r.Stages.Get("main")
	if _, ok := main.Stages.Get("query"); !ok || r.SpanID != rootID.String() || r.Status != jsonrun.StatusOK {
		t.Errorf("run %s status %s stages %+v; want main holding query", r.SpanID, r.Status, r.Stages)
	}
}

// TestConventionConcurrentSafe: runs of foreign spans, arriving from many
// goroutines at once in any order (root first or last), each trace's spans
// split over several senders, all end up whole in their files. Run with
// -race.
func TestConventionConcurrentSafe(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithPendingSpans(time.Hour), jsonrun.WithLateStageWait(time.Hour))
	const runs, stages = 16, 6
	ids := make([]string, runs)
	var wg sync.WaitGroup
	for i := range runs {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
		tn := byte(i + 1)
		spans := []tracetest.SpanStub{foreignSpan(tn, 1, 0, "root", 0, 9, attribute.String(keys.RunID, ids[i]), attribute.Int(keys.RunStageCount, stages))}
		for s := range stages {
			spans = append(spans, foreignSpan(tn, byte(s+2), 1, fmt.Sprint("s", s), s, s+1))
		}
		if i%2 == 0 {
			slices.Reverse(spans) // the root last
		}
		for _, half := range [][]tracetest.SpanStub{spans[:3], spans[3:]} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, s := range half {
					if err := exp.ExportSpans(t.Context(), tracetest.SpanStubs{s}.Snapshots()); err != nil {
						t.Error(err)
					}
				}
			}()
		}
	}
	wg.Wait()
	for _, id := range ids {
		r := readRun(t, filepath.Join(dir, id+".json"))
		if r.StageCount != stages || r.Status != jsonrun.StatusOK {
			t.Errorf("run %s: %d stages, status %s", id, r.StageCount, r.Status)
		}
	}
}

package tracker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/seqids"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

func TestVersionIsSemver(t *testing.T) {
	semver := regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	if !semver.MatchString(tracker.Version) {
		t.Errorf("Version %q is not semver", tracker.Version)
	}
	if tracker.ScopeName != "github.com/stage-tracker/stage-tracker/tracker" {
		t.Errorf("ScopeName = %q, want the package import path", tracker.ScopeName)
	}
}

func TestSpansUseScopeAndVersion(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "scope")
	run.StartStage(ctx, "a")
	run.EndStage("a", nil, nil)
	p.finalize(t, run)
	for _, s := range p.rec.Ended() {
		if got := s.InstrumentationScope(); got.Name != tracker.ScopeName || got.Version != tracker.Version {
			t.Errorf("span %q scope = %+v, want %s %s", s.Name(), got, tracker.ScopeName, tracker.Version)
		}
	}
}

func TestSeedQuickStart(t *testing.T) {
	p := newPipeline(t, pipelineOpt{trOpts: []tracker.Option{tracker.WithClock(fixedClock(time.Second))}})
	ctx, run := p.tr.Start(t.Context(), "Reconnaissance_M1")
	run.StartStage(ctx, "Detection")
	if err := run.EndStage("Detection", map[string]any{"status": "clean"}, nil); err != nil {
		t.Fatal(err)
	}
	run.StartStage(ctx, "Enrichment")
	if err := run.EndStage("Enrichment", map[string]any{"added_cves": 3}, nil); err != nil {
		t.Fatal(err)
	}
	rf := p.finalize(t, run)

	if rf.RunID != run.ID() || rf.TraceID != run.TraceID().String() {
		t.Errorf("ids = %s %s, want %s %s", rf.RunID, rf.TraceID, run.ID(), run.TraceID())
	}
	if string(rf.Args) != `"Reconnaissance_M1"` || rf.Name != "Reconnaissance_M1" || rf.Status != runfile.StatusOK {
		t.Errorf("args %s name %q status %q", rf.Args, rf.Name, rf.Status)
	}
	if got := stageKeys(rf.Stages); strings.Join(got, ",") != "Detection,Enrichment" {
		t.Fatalf("stages = %v", got)
	}
	det, _ := rf.Stages.Get("Detection")
	if det.DurationSec != 1 || string(det.Data) != `{"status":"clean"}` || det.Error != "" || det.Status != runfile.StageOK {
		t.Errorf("Detection = %+v", det)
	}
	// Clock ticks: run start, Detection start/end, Enrichment start/end, run end.
	if rf.TotalDurationSec != 5 {
		t.Errorf("total_duration_sec = %v, want 5", rf.TotalDurationSec)
	}
}

func TestRunJoinsParentSpan(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, req := p.tp.Tracer("http").Start(t.Context(), "GET /train")
	ctx, run := p.tr.Start(ctx, "in-request")
	run.StartStage(ctx, "a")
	run.EndStage("a", nil, nil)
	rf := p.finalize(t, run)
	req.End()

	if run.TraceID() != req.SpanContext().TraceID() {
		t.Errorf("run trace %s, request trace %s: want one trace", run.TraceID(), req.SpanContext().TraceID())
	}
	if rf.ParentSpanID != req.SpanContext().SpanID().String() {
		t.Errorf("parent_span_id = %q, want the request span %s", rf.ParentSpanID, req.SpanContext().SpanID())
	}
	if got := stageKeys(rf.Stages); len(got) != 1 || got[0] != "a" {
		t.Errorf("stages = %v, want exactly the run's", got)
	}
}

// samplerSpy records the attributes each span had when it was sampled.
type samplerSpy struct {
	mu    sync.Mutex
	attrs map[string][]attribute.KeyValue
}

func (s *samplerSpy) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	s.mu.Lock()
	s.attrs[p.Name] = p.Attributes
	s.mu.Unlock()
	return sdktrace.AlwaysSample().ShouldSample(p)
}

func (s *samplerSpy) Description() string { return "spy" }

func TestIdentityAttributesAtStart(t *testing.T) {
	spy := &samplerSpy{attrs: map[string][]attribute.KeyValue{}}
	p := newPipeline(t, pipelineOpt{sampler: spy})
	ctx, run := p.tr.Start(t.Context(), map[string]any{"lr": 0.1}, tracker.WithRunName("train-run"))
	run.StartStage(ctx, "preprocess")
	run.EndStage("preprocess", nil, nil)
	p.finalize(t, run)

	want := map[string]map[attribute.Key]string{
		"train-run":  {"stage_tracker.run.id": run.ID(), "stage_tracker.run.args": `{"lr":0.1}`},
		"preprocess": {"stage_tracker.run.id": run.ID(), "stage_tracker.stage.name": "preprocess"},
	}
	for span, kv := range want {
		got := map[attribute.Key]string{}
		for _, a := range spy.attrs[span] {
			got[a.Key] = a.Value.String()
		}
		for k, v := range kv {
			if got[k] != v {
				t.Errorf("span %q at start: %s = %q, want %q", span, k, got[k], v)
			}
		}
	}
}

func TestData(t *testing.T) {
	big := make(map[string]any, 1000)
	for i := range 1000 {
		big[fmt.Sprintf("k%04d", i)] = i
	}
	tests := []struct {
		name      string
		data      any
		wantData  string // compact JSON; "" for null
		wantError string // substring of data_error
	}{
		{name: "nil", data: nil},
		{name: "map", data: map[string]any{"acc": 0.93, "ok": true}, wantData: `{"acc":0.93,"ok":true}`},
		{name: "string", data: "done", wantData: `"done"`},
		{name: "struct", data: struct {
			Rows int `json:"rows"`
		}{42}, wantData: `{"rows":42}`},
		{name: "slice", data: []int{1, 2, 3}, wantData: `[1,2,3]`},
		{name: "channel", data: make(chan int), wantError: "unsupported type"},
		{name: "func", data: func() {}, wantError: "unsupported type"},
		{name: "NaN", data: map[string]any{"loss": math.NaN()}, wantError: "unsupported value: NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipeline(t, pipelineOpt{})
			ctx, run := p.tr.Start(t.Context(), "data")
			run.StartStage(ctx, "before")
			run.EndStage("before", "kept", nil)
			run.StartStage(ctx, "s")
			run.EndStage("s", tc.data, nil)
			rf := p.finalize(t, run)
			st, ok := rf.Stages.Get("s")
			if !ok {
				t.Fatal("stage missing")
			}
			if string(st.Data) != tc.wantData {
				t.Errorf("data = %s, want %s", st.Data, tc.wantData)
			}
			if tc.wantError == "" && st.DataError != "" || !strings.Contains(st.DataError, tc.wantError) {
				t.Errorf("data_error = %q, want it to contain %q", st.DataError, tc.wantError)
			}
			if b, _ := rf.Stages.Get("before"); string(b.Data) != `"kept"` {
				t.Errorf("earlier stage lost its data: %s", b.Data)
			}
		})
	}
	t.Run("1000 keys arrive whole", func(t *testing.T) {
		p := newPipeline(t, pipelineOpt{})
		ctx, run := p.tr.Start(t.Context(), "big")
		run.StartStage(ctx, "s")
		run.EndStage("s", big, nil)
		rf := p.finalize(t, run)
		st, _ := rf.Stages.Get("s")
		var got map[string]int
		if err := json.Unmarshal(st.Data, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1000 || got["k0999"] != 999 || st.DataError != "" {
			t.Errorf("got %d keys, k0999=%d, data_error %q", len(got), got["k0999"], st.DataError)
		}
	})
}

func TestDataScalarsBecomeAttributes(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "attrs")
	run.StartStage(ctx, "evaluate")
	run.EndStage("evaluate", map[string]any{"accuracy": 0.93, "model": "resnet", "epochs": 3, "nested": map[string]any{"x": 1}}, nil)
	p.finalize(t, run)

	got := map[attribute.Key]attribute.Value{}
	for _, s := range p.rec.Ended() {
		if s.Name() == "evaluate" {
			for _, a := range s.Attributes() {
				got[a.Key] = a.Value
			}
		}
	}
	if got["stage_tracker.data.accuracy"].AsFloat64() != 0.93 ||
		got["stage_tracker.data.model"].AsString() != "resnet" ||
		got["stage_tracker.data.epochs"].AsInt64() != 3 {
		t.Errorf("scalar attributes = %v", got)
	}
	if _, ok := got["stage_tracker.data.nested"]; ok {
		t.Error("a nested object became an attribute; only scalars should")
	}
}

func TestStageError(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "errors")
	run.StartStage(ctx, "enrich")
	run.EndStage("enrich", map[string]any{"partial": 2}, &os.PathError{Op: "open", Path: "cves.db", Err: os.ErrNotExist})
	rf := p.finalize(t, run)

	st, _ := rf.Stages.Get("enrich")
	const msg = "open cves.db: file does not exist"
	if st.Error != msg || st.Status != runfile.StageError || string(st.Data) != `{"partial":2}` {
		t.Errorf("stage = %+v", st)
	}
	if rf.Status != runfile.StatusFailed {
		t.Errorf("run status = %q, want failed", rf.Status)
	}
	for _, s := range p.rec.Ended() {
		if s.Name() != "enrich" {
			continue
		}
		if s.Status().Code != codes.Error || s.Status().Description != msg {
			t.Errorf("span status = %+v", s.Status())
		}
		if len(s.Events()) != 1 || s.Events()[0].Name != "exception" {
			t.Errorf("events = %+v, want one exception event", s.Events())
		}
		found := false
		for _, a := range s.Attributes() {
			found = found || a.Key == "error.type" && a.Value.AsString() == "*fs.PathError"
		}
		if !found {
			t.Errorf("no error.type=*fs.PathError in %v", s.Attributes())
		}
	}
}

func TestStagePanicIsRecordedAndReraised(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "panics")
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want the original panic value", v)
			}
		}()
		run.Stage(ctx, "explode", func(context.Context) (any, error) { panic("boom") })
		t.Error("Stage returned after a panic")
	}()
	rf := p.finalize(t, run)
	st, _ := rf.Stages.Get("explode")
	if st.Error != "panic: boom" || st.Status != runfile.StageError || !strings.Contains(st.Stack, "tracker_test.TestStagePanicIsRecordedAndReraised") {
		t.Errorf("stage = error %q status %q stack %q", st.Error, st.Status, st.Stack)
	}
}

func TestStageFunc(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "func")
	wantErr := errors.New("model diverged")
	err := run.Stage(ctx, "train", func(ctx context.Context) (any, error) {
		if !trace.SpanContextFromContext(ctx).IsValid() {
			t.Error("fn got a context without the stage span")
		}
		return map[string]any{"loss": 12.5}, wantErr
	})
	if !errors.Is(err, wantErr) {
		t.Errorf("Stage returned %v, want fn's error", err)
	}
	rf := p.finalize(t, run)
	st, _ := rf.Stages.Get("train")
	if st.Error != "model diverged" || string(st.Data) != `{"loss":12.5}` {
		t.Errorf("stage = %+v", st)
	}
}

func TestNestedStages(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "nested")
	tctx, train := run.StartStage(ctx, "train")
	for range 2 {
		_, epoch := run.StartStage(tctx, "epoch")
		epoch.End(nil, nil)
	}
	train.End(nil, nil)
	run.StartStage(ctx, "evaluate") // ctx: a sibling of train, not its child
	run.EndStage("evaluate", nil, nil)
	rf := p.finalize(t, run)

	if got := strings.Join(stageKeys(rf.Stages), ","); got != "train,evaluate" {
		t.Fatalf("top-level stages = %s", got)
	}
	tr, _ := rf.Stages.Get("train")
	if got := strings.Join(stageKeys(tr.Stages), ","); got != "epoch#1,epoch" {
		t.Errorf("train's stages = %s", got)
	}
	if rf.StageCount != 4 {
		t.Errorf("stage_count = %d, want 4", rf.StageCount)
	}
}

func TestStageWithForeignContextIsChildOfRun(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	_, run := p.tr.Start(t.Context(), "foreign")
	_, s := run.StartStage(context.Background(), "detached")
	s.End(nil, nil)
	rf := p.finalize(t, run)
	if _, ok := rf.Stages.Get("detached"); !ok {
		t.Fatalf("stage started with a background context is missing: %v", stageKeys(rf.Stages))
	}
}

func TestRepeatedStageNames(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "retries")
	for i := range 3 {
		run.StartStage(ctx, "Download")
		var err error
		if i < 2 {
			err = fmt.Errorf("attempt %d: timeout", i+1)
		}
		run.EndStage("Download", map[string]any{"try": i + 1}, err)
	}
	rf := p.finalize(t, run)
	if got := strings.Join(stageKeys(rf.Stages), ","); got != "Download#1,Download#2,Download" {
		t.Fatalf("keys = %s", got)
	}
	for i, st := range rf.Stages {
		if st.Name != "Download" || st.Attempt != i+1 || string(st.Data) != fmt.Sprintf(`{"try":%d}`, i+1) {
			t.Errorf("record %d = name %q attempt %d data %s", i, st.Name, st.Attempt, st.Data)
		}
	}
}

func TestEndStageWithoutOpenStage(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "misuse")
	run.StartStage(ctx, "a")
	err := run.EndStage("b", nil, nil)
	if !errors.Is(err, tracker.ErrNoOpenStage) || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("EndStage(b) = %v, want ErrNoOpenStage naming b", err)
	}
	run.EndStage("a", nil, nil)
	if err := run.EndStage("a", nil, nil); !errors.Is(err, tracker.ErrNoOpenStage) {
		t.Errorf("second EndStage(a) = %v, want ErrNoOpenStage", err)
	}
	rf := p.finalize(t, run)
	if len(rf.Stages) != 1 {
		t.Errorf("stages = %v", stageKeys(rf.Stages))
	}
}

func TestStageEndTwiceRecordsOnce(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "twice")
	_, s := run.StartStage(ctx, "a")
	s.End("first", nil)
	s.End("second", errors.New("ignored"))
	rf := p.finalize(t, run)
	if st, _ := rf.Stages.Get("a"); len(rf.Stages) != 1 || string(st.Data) != `"first"` || st.Error != "" {
		t.Errorf("stages = %+v", rf.Stages)
	}
}

func TestParallelStagesConcurrentSafe(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "parallel")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				name := fmt.Sprintf("g%d", g)
				if i%2 == 0 {
					_, s := run.StartStage(ctx, name)
					s.End(map[string]any{"i": i}, nil)
				} else {
					run.Stage(ctx, name, func(context.Context) (any, error) { return i, nil })
				}
			}
		})
	}
	wg.Wait()
	rf := p.finalize(t, run)
	if len(rf.Stages) != 1600 || rf.StageCount != 1600 || rf.Status != runfile.StatusOK || rf.MissingStages != 0 {
		t.Errorf("got %d records (stage_count %d, status %s), want 1600", len(rf.Stages), rf.StageCount, rf.Status)
	}
	for g := range 8 {
		if st, ok := rf.Stages.Get(fmt.Sprintf("g%d", g)); !ok || st.Attempt != 200 {
			t.Errorf("g%d (the last attempt) missing or wrong attempt: %+v", g, st)
		}
	}
}

func TestFinalizeWhileStagesEndConcurrentSafe(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "race")
	var stages []*tracker.Stage
	for i := range 100 {
		_, s := run.StartStage(ctx, fmt.Sprint("s", i))
		stages = append(stages, s)
	}
	var wg sync.WaitGroup
	for _, s := range stages {
		wg.Go(func() { s.End("done", nil) })
	}
	rf := p.finalize(t, run)
	wg.Wait()
	if len(rf.Stages) != 100 || rf.MissingStages != 0 {
		t.Fatalf("got %d stages, %d missing", len(rf.Stages), rf.MissingStages)
	}
	for _, st := range rf.Stages {
		if st.Status != runfile.StageOK && st.Status != runfile.StageUnfinished {
			t.Errorf("%s: status %q", st.Key, st.Status)
		}
	}
}

func TestFinalize(t *testing.T) {
	t.Run("ends open stages as unfinished", func(t *testing.T) {
		p := newPipeline(t, pipelineOpt{})
		ctx, run := p.tr.Start(t.Context(), "open")
		run.StartStage(ctx, "never-ended")
		rf := p.finalize(t, run)
		st, _ := rf.Stages.Get("never-ended")
		if st.Status != runfile.StageUnfinished || rf.StageCount != 1 {
			t.Errorf("stage status %q, stage_count %d", st.Status, rf.StageCount)
		}
	})
	t.Run("second Finalize and later stages are no-ops", func(t *testing.T) {
		p := newPipeline(t, pipelineOpt{})
		ctx, run := p.tr.Start(t.Context(), "twice")
		p.finalize(t, run)
		if err := run.Finalize(t.Context()); err != nil {
			t.Errorf("second Finalize = %v", err)
		}
		sctx, s := run.StartStage(ctx, "late")
		s.End("x", nil)
		if sctx != ctx {
			t.Error("StartStage after Finalize changed the context")
		}
		if err := run.EndStage("late", nil, nil); !errors.Is(err, tracker.ErrNoOpenStage) {
			t.Errorf("EndStage after Finalize = %v", err)
		}
		rf, err := runfile.ReadFile(run.File())
		if err != nil || len(rf.Stages) != 0 {
			t.Errorf("run file changed after Finalize: %v %v", rf, err)
		}
	})
	t.Run("sampled out run is an error", func(t *testing.T) {
		p := newPipeline(t, pipelineOpt{sampler: sdktrace.NeverSample()})
		_, run := p.tr.Start(t.Context(), "dropped")
		err := run.Finalize(t.Context())
		if !errors.Is(err, tracker.ErrNotRecorded) {
			t.Errorf("Finalize = %v, want ErrNotRecorded", err)
		}
		if entries, _ := os.ReadDir(p.dir); len(entries) != 0 {
			t.Errorf("files written for a dropped run: %v", entries)
		}
	})
	t.Run("no SDK installed is an error", func(t *testing.T) {
		_, run := tracker.New(tracker.WithTracerProvider(noop.NewTracerProvider())).Start(t.Context(), "noop")
		if err := run.Finalize(t.Context()); !errors.Is(err, tracker.ErrNotRecorded) {
			t.Errorf("Finalize = %v, want ErrNotRecorded", err)
		}
	})
	t.Run("unwritable directory is an error and leaves no file", func(t *testing.T) {
		// A file where the directory should be: refused even for root,
		// which ignores permission bits.
		p := newPipeline(t, pipelineOpt{})
		blocker := filepath.Join(p.dir, "not-a-dir")
		if err := os.WriteFile(blocker, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, run := p.tr.Start(t.Context(), "unwritable", tracker.WithOutputFile(filepath.Join(blocker, "run.json")))
		run.StartStage(ctx, "a")
		run.EndStage("a", nil, nil)
		err := run.Finalize(t.Context())
		if err == nil || !strings.Contains(err.Error(), "not-a-dir") {
			t.Fatalf("Finalize = %v, want an error naming the path", err)
		}
		if run.File() != "" {
			t.Errorf("File() = %q after a failed write", run.File())
		}
		entries, _ := os.ReadDir(p.dir)
		if len(entries) != 1 {
			t.Errorf("directory holds %v, want only the blocker", entries)
		}
	})
	t.Run("read-only directory is an error and leaves no file", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes into read-only directories; the file-as-directory case covers this")
		}
		p := newPipeline(t, pipelineOpt{})
		ro := filepath.Join(p.dir, "ro")
		os.Mkdir(ro, 0o555)
		_, run := p.tr.Start(t.Context(), "ro", tracker.WithOutputFile(filepath.Join(ro, "run.json")))
		if err := run.Finalize(t.Context()); err == nil {
			t.Fatal("Finalize succeeded in a read-only directory")
		}
		if entries, _ := os.ReadDir(ro); len(entries) != 0 {
			t.Errorf("partial files left: %v", entries)
		}
	})
}

func TestAlwaysSampleRuns(t *testing.T) {
	p := newPipeline(t, pipelineOpt{sampler: tracker.AlwaysSampleRuns(sdktrace.NeverSample())})
	_, other := p.tp.Tracer("other").Start(t.Context(), "unsampled")
	other.End()
	if other.SpanContext().IsSampled() {
		t.Error("the base sampler was not consulted for other spans")
	}
	ctx, run := p.tr.Start(t.Context(), "kept")
	run.StartStage(ctx, "a")
	run.EndStage("a", nil, nil)
	rf := p.finalize(t, run)
	if len(rf.Stages) != 1 {
		t.Errorf("stages = %v", stageKeys(rf.Stages))
	}
	if d := tracker.AlwaysSampleRuns(nil).Description(); !strings.Contains(d, "ParentBased") {
		t.Errorf("Description = %q", d)
	}
}

func TestRunID(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	const id = "af3c980c-3d22-46e8-83cd-7ff99abee586"
	_, run := p.tr.Start(t.Context(), nil, tracker.WithRunID(id))
	if run.ID() != id || run.Err() != nil {
		t.Errorf("ID = %s, Err = %v", run.ID(), run.Err())
	}
	rf := p.finalize(t, run)
	if rf.RunID != id || len(rf.Args) != 0 || rf.Name != "run" {
		t.Errorf("run_id %s args %s name %q", rf.RunID, rf.Args, rf.Name)
	}

	for _, bad := range []string{"../../etc/passwd", "run-1", ""} {
		if bad == "" {
			continue // empty means "make one"
		}
		_, run := p.tr.Start(t.Context(), nil, tracker.WithRunID(bad))
		if !errors.Is(run.Err(), tracker.ErrInvalidRunID) || run.ID() == bad {
			t.Errorf("WithRunID(%q): ID %s, Err %v", bad, run.ID(), run.Err())
		}
		err := run.Finalize(t.Context())
		if !errors.Is(err, tracker.ErrInvalidRunID) {
			t.Errorf("Finalize = %v, want ErrInvalidRunID", err)
		}
		if _, err := os.Stat(filepath.Join(p.dir, run.ID()+".json")); err != nil {
			t.Errorf("run not recorded under its fresh id: %v", err)
		}
	}
}

func TestArgsNotEncodable(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	_, run := p.tr.Start(t.Context(), map[string]any{"f": func() {}})
	err := run.Finalize(t.Context())
	if !errors.Is(err, tracker.ErrArgsNotEncodable) {
		t.Fatalf("Finalize = %v", err)
	}
	rf, rerr := runfile.ReadFile(filepath.Join(p.dir, run.ID()+".json"))
	if rerr != nil || len(rf.Args) != 0 {
		t.Errorf("run file %v, %v: want it written with args null", rf, rerr)
	}
}

func TestOutputFile(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	path := filepath.Join(t.TempDir(), "sub", "run_output.json")
	_, run := p.tr.Start(t.Context(), "out", tracker.WithOutputFile(path))
	if err := run.Finalize(t.Context()); err != nil {
		t.Fatal(err)
	}
	if run.File() != path {
		t.Errorf("File() = %q, want %q", run.File(), path)
	}
	if _, err := runfile.ReadFile(path); err != nil {
		t.Error(err)
	}
}

func TestSimpleAndBatchProcessorsWriteTheSameFile(t *testing.T) {
	files := map[bool][]byte{}
	for _, batch := range []bool{false, true} {
		p := newPipeline(t, pipelineOpt{
			batch:    batch,
			trOpts:   []tracker.Option{tracker.WithClock(fixedClock(time.Millisecond))},
			provOpts: []sdktrace.TracerProviderOption{sdktrace.WithIDGenerator(&seqids.Generator{})},
		})
		ctx, run := p.tr.Start(t.Context(), "same", tracker.WithRunID("af3c980c-3d22-46e8-83cd-7ff99abee586"))
		for i := range 50 {
			sctx, s := run.StartStage(ctx, "outer")
			run.Stage(sctx, "inner", func(context.Context) (any, error) { return i, nil })
			s.End(map[string]any{"i": i}, nil)
		}
		p.finalize(t, run)
		b, err := os.ReadFile(run.File())
		if err != nil {
			t.Fatal(err)
		}
		files[batch] = b
	}
	if string(files[false]) != string(files[true]) {
		t.Errorf("simple and batch processors wrote different files:\n%s\n---\n%s", files[false], files[true])
	}
}

func TestGlobalProviderResolvedLazily(t *testing.T) {
	tr := tracker.New() // before any provider is installed
	p := newPipeline(t, pipelineOpt{})
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(p.tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	_, run := tr.Start(t.Context(), "global")
	if err := run.Finalize(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(p.rec.Ended()) != 1 || tr.TracerProvider() != p.tp {
		t.Errorf("the global provider set after New was not used")
	}
}

func TestStageNestingFollowsContext(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	reqCtx, req := p.tp.Tracer("http").Start(t.Context(), "GET /train")
	ctx, run := p.tr.Start(reqCtx, "scoped")
	// The request context is outside the run: a top-level stage.
	run.StartStage(reqCtx, "from-request")
	run.EndStage("from-request", nil, nil)
	// A library's span inside a stage, then a stage inside that span.
	sctx, outer := run.StartStage(ctx, "outer")
	lctx, lib := p.tp.Tracer("lib").Start(sctx, "db.query")
	_, inner := run.StartStage(lctx, "inner")
	inner.End(nil, nil)
	lib.End()
	outer.End(nil, nil)
	rf := p.finalize(t, run)
	req.End()

	if got := strings.Join(stageKeys(rf.Stages), ","); got != "from-request,outer" {
		t.Fatalf("top-level stages = %s", got)
	}
	o, _ := rf.Stages.Get("outer")
	if got := strings.Join(stageKeys(o.Stages), ","); got != "inner" {
		t.Errorf("outer's stages = %q, want inner nested through the library span", got)
	}
	for _, s := range p.rec.Ended() {
		if s.Name() == "from-request" && s.Parent().SpanID() != run.SpanContext().SpanID() {
			t.Errorf("stage started with the request context has parent %s, want the run span", s.Parent().SpanID())
		}
	}
}

func TestRunIDSpellingsNormalised(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	const want = "af3c980c-3d22-46e8-83cd-7ff99abee586"
	for _, in := range []string{"AF3C980C-3D22-46E8-83CD-7FF99ABEE586", "{af3c980c-3d22-46e8-83cd-7ff99abee586}", "urn:uuid:af3c980c-3d22-46e8-83cd-7ff99abee586", "af3c980c3d2246e883cd7ff99abee586"} {
		_, run := p.tr.Start(t.Context(), nil, tracker.WithRunID(in))
		if run.ID() != want || run.Err() != nil {
			t.Errorf("WithRunID(%q): ID %q, Err %v", in, run.ID(), run.Err())
		}
		run.Finalize(t.Context())
	}
}

// failingExporter fails every export, like a collector that is down.
type failingExporter struct{}

func (failingExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	return errors.New("collector unavailable")
}
func (failingExporter) Shutdown(context.Context) error { return nil }

func TestOtherExporterFailureDoesNotFailRun(t *testing.T) {
	p := newPipeline(t, pipelineOpt{provOpts: []sdktrace.TracerProviderOption{
		sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(failingExporter{})),
	}})
	prev := otel.GetErrorHandler()
	var handled []error
	var mu sync.Mutex
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { mu.Lock(); handled = append(handled, err); mu.Unlock() }))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })

	_, run := p.tr.Start(t.Context(), "backend-down")
	rf := p.finalize(t, run) // fails the test if Finalize returns an error
	if rf.RunID != run.ID() {
		t.Errorf("run file of %s", rf.RunID)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handled) == 0 {
		t.Error("the backend's failure reached no error handler")
	}
}

func TestEmptyStageName(t *testing.T) {
	p := newPipeline(t, pipelineOpt{})
	ctx, run := p.tr.Start(t.Context(), "empty")
	run.StartStage(ctx, "ok")
	run.EndStage("ok", 1, nil)
	run.StartStage(ctx, "")
	if err := run.EndStage("", "x", nil); err != nil {
		t.Fatal(err)
	}
	err := run.Finalize(t.Context())
	if !errors.Is(err, tracker.ErrEmptyStageName) {
		t.Fatalf("Finalize = %v, want ErrEmptyStageName", err)
	}
	rf, rerr := runfile.ReadFile(filepath.Join(p.dir, run.ID()+".json"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if got := strings.Join(stageKeys(rf.Stages), ","); got != "ok,(unnamed)" {
		t.Errorf("stages = %s, want both kept", got)
	}
}

func TestRedaction(t *testing.T) {
	p := newPipeline(t, pipelineOpt{trOpts: []tracker.Option{tracker.WithRedactKeys(tracker.DefaultRedactKeys()...)}})
	type creds struct {
		User     string `json:"user"`
		Password string `json:"Password"`
	}
	ctx, run := p.tr.Start(t.Context(), map[string]any{"db": creds{"ann", "hunter2"}, "API_KEY": "k-123"})
	run.StartStage(ctx, "fetch")
	run.EndStage("fetch", map[string]any{"rows": 3, "token": "t-456", "nested": []any{map[string]any{"Secret": "s"}}}, nil)
	rf := p.finalize(t, run)

	for _, secret := range []string{"hunter2", "k-123", "t-456", `"s"`} {
		raw, _ := os.ReadFile(run.File())
		if strings.Contains(string(raw), secret) {
			t.Errorf("run file holds secret %s", secret)
		}
		for _, s := range p.rec.Ended() {
			for _, a := range s.Attributes() {
				if strings.Contains(a.Value.String(), secret) {
					t.Errorf("span %q attribute %s holds secret %s", s.Name(), a.Key, secret)
				}
			}
		}
	}
	st, _ := rf.Stages.Get("fetch")
	if !strings.Contains(string(st.Data), `"rows":3`) || !strings.Contains(string(rf.Args), `"user":"ann"`) {
		t.Errorf("redaction removed too much: data %s args %s", st.Data, rf.Args)
	}
}

func TestMaxDataSize(t *testing.T) {
	p := newPipeline(t, pipelineOpt{trOpts: []tracker.Option{tracker.WithMaxDataSize(100)}})
	ctx, run := p.tr.Start(t.Context(), "cap")
	run.StartStage(ctx, "small")
	run.EndStage("small", "fits", nil)
	run.StartStage(ctx, "big")
	run.EndStage("big", strings.Repeat("x", 1000), nil)
	rf := p.finalize(t, run)
	big, _ := rf.Stages.Get("big")
	small, _ := rf.Stages.Get("small")
	if len(big.Data) != 0 || !strings.Contains(big.DataError, "1002 bytes") || string(small.Data) != `"fits"` {
		t.Errorf("big: data %q error %q; small: %s", big.Data, big.DataError, small.Data)
	}
}

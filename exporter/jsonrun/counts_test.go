package jsonrun_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// threeProcs is one run made by three processes, each span as the
// Collector receives it: the owner (a tracker; its run span counts its own
// two stages), a stagetrack exec step (a process joined under the owner's
// "build" stage, one stage) and a joined tracker (three stages).
type threeProcs struct {
	owner, exec, joined []sdktrace.ReadOnlySpan
}

// recordThreeProcs runs the three processes, each with its own provider
// and resource (host h, pids 100, 200, 300), and records their spans.
func recordThreeProcs(t *testing.T) threeProcs {
	t.Helper()
	t.Setenv(tracker.EnvJournal, "") // joined over the wire, not through a journal
	ctx := t.Context()
	// One clock for the three, in whole milliseconds: a file read back
	// gives the times it wrote (microseconds).
	var tick atomic.Int64
	clock := func() time.Time { return time.Unix(1746486850, 0).Add(time.Duration(tick.Add(1)) * time.Millisecond) }
	proc := func(pid int) (*tracker.Tracker, *tracetest.SpanRecorder) {
		sr := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr), sdktrace.WithResource(procRes("h", pid)))
		t.Cleanup(func() { tp.Shutdown(context.Background()) })
		return tracker.New(tracker.WithTracerProvider(tp), tracker.WithoutRunFile(), tracker.WithoutProvenance(), tracker.WithClock(clock)), sr
	}
	ownerT, ownerRec := proc(100)
	execT, execRec := proc(200)
	joinedT, joinedRec := proc(300)

	rctx, run := ownerT.Start(ctx, "pipeline", tracker.WithRunID(id1))
	bctx, build := run.StartStage(rctx, "build")
	_, step := execT.Join(ctx, id1, trace.SpanContextFromContext(bctx))
	if err := step.Stage(ctx, "compile", func(context.Context) (any, error) { return map[string]int{"files": 3}, nil }); err != nil {
		t.Fatal(err)
	}
	if err := step.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	build.End(nil, nil)
	_, worker := joinedT.Join(ctx, id1, run.SpanContext())
	for _, name := range []string{"shard", "shard", "reduce"} {
		if err := worker.Stage(ctx, name, func(context.Context) (any, error) { return nil, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := worker.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	if err := run.Stage(rctx, "test", func(context.Context) (any, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if err := run.Finalize(ctx); err != nil && !errors.Is(err, tracker.ErrNoRunFile) {
		t.Fatal(err)
	}
	p := threeProcs{owner: ownerRec.Ended(), exec: execRec.Ended(), joined: joinedRec.Ended()}
	for name, spans := range map[string][]sdktrace.ReadOnlySpan{"exec": p.exec, "joined": p.joined} {
		if last := spans[len(spans)-1]; last.Name() != keys.CountSpanName {
			t.Fatalf("the %s process's last span is %q, want its count span", name, last.Name())
		}
	}
	return p
}

// without returns spans without the span named name (the first, or the
// n-th when n > 0, of that name).
func without(spans []sdktrace.ReadOnlySpan, name string, n int) []sdktrace.ReadOnlySpan {
	out := slices.Clone(spans)
	for i, s := range out {
		if s.Name() == name {
			if n--; n <= 0 {
				return slices.Delete(out, i, i+1)
			}
		}
	}
	return out
}

// TestMissingStagesAcrossProcesses: a run whose stages come from three
// processes says incomplete, with missing_stages counting every stage a
// process said it ended (its count span) that did not arrive, whichever
// process it was; all there, it says ok. The same count span twice, or
// before its stages, or spans split across batches and backends, give
// the same file. On main only the owner's own stages were counted: a
// lost exec or joined stage left the file saying ok.
func TestMissingStagesAcrossProcesses(t *testing.T) {
	p := recordThreeProcs(t)
	all := slices.Concat(p.exec, p.joined, p.owner)
	count := func(spans []sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan { return spans[len(spans)-1] }
	// Every span in reverse order but the run span, last as ever (a span
	// after it is a late stage, counted in late_stages).
	reversed := slices.Clone(all[:len(all)-1])
	slices.Reverse(reversed)
	reversed = append(reversed, all[len(all)-1])

	ref, refDir := newExporter(t)
	if err := ref.ExportSpans(t.Context(), all); err != nil {
		t.Fatal(err)
	}
	want := fileBytes(t, refDir)
	if r := readRun(t, filepath.Join(refDir, id1+".json")); r.Status != jsonrun.StatusOK || r.MissingStages != 0 || r.StageCount != 6 || len(r.ProcessCounts) != 2 {
		t.Fatalf("all there: status %s, missing %d, %d stages, counts %+v; want ok, 0, 6, two processes\n%s", r.Status, r.MissingStages, r.StageCount, r.ProcessCounts, want)
	}

	for _, tc := range []struct {
		name        string
		batches     [][]sdktrace.ReadOnlySpan
		wantMissing int
		wantSame    bool // byte for byte the file of every span once
	}{
		{name: "all there", batches: [][]sdktrace.ReadOnlySpan{all}, wantSame: true},
		{name: "the exec step's stage lost", batches: [][]sdktrace.ReadOnlySpan{slices.Concat(without(p.exec, "compile", 0), p.joined, p.owner)}, wantMissing: 1},
		{name: "a joined tracker's stage lost", batches: [][]sdktrace.ReadOnlySpan{slices.Concat(p.exec, without(p.joined, "shard", 2), p.owner)}, wantMissing: 1},
		{name: "the owner's stage lost", batches: [][]sdktrace.ReadOnlySpan{slices.Concat(p.exec, p.joined, without(p.owner, "test", 0))}, wantMissing: 1},
		{name: "a stage of each process lost", batches: [][]sdktrace.ReadOnlySpan{slices.Concat(without(p.exec, "compile", 0), without(p.joined, "reduce", 0), without(p.owner, "build", 0))}, wantMissing: 3},
		{name: "the count span twice", batches: [][]sdktrace.ReadOnlySpan{{count(p.exec)}, all, {count(p.joined), count(p.exec)}}, wantSame: true},
		{name: "count spans before their stages", batches: [][]sdktrace.ReadOnlySpan{reversed}, wantSame: true},
		{name: "count spans alone first", batches: [][]sdktrace.ReadOnlySpan{{count(p.joined), count(p.exec)}, all}, wantSame: true},
		{name: "a lost stage's count span twice", batches: [][]sdktrace.ReadOnlySpan{{count(p.exec)}, slices.Concat(without(p.exec, "compile", 0), p.joined, p.owner), {count(p.exec)}}, wantMissing: 1},
		// What no span says is not claimed: a process whose count span is
		// lost with its stage is not known to have taken part.
		{name: "a stage lost with its count span", batches: [][]sdktrace.ReadOnlySpan{slices.Concat(p.joined, p.owner)}, wantMissing: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, dir := newExporter(t)
			for _, b := range tc.batches {
				if err := exp.ExportSpans(t.Context(), b); err != nil {
					t.Fatal(err)
				}
			}
			got := fileBytes(t, dir)
			r := readRun(t, filepath.Join(dir, id1+".json"))
			wantStatus := jsonrun.StatusOK
			if tc.wantMissing > 0 {
				wantStatus = jsonrun.StatusIncomplete
			}
			if r.Status != wantStatus || r.MissingStages != tc.wantMissing {
				t.Errorf("status %s, missing_stages %d; want %s, %d\n%s", r.Status, r.MissingStages, wantStatus, tc.wantMissing, got)
			}
			if tc.wantSame && !bytes.Equal(got, want) {
				t.Errorf("file:\n%s\nwant the file of every span once:\n%s", got, want)
			}
			// Read back and merged again (stagetrack merge, a late stage),
			// the file says the same.
			merged, err := jsonrun.Merge(r)
			if err != nil {
				t.Fatal(err)
			}
			if b := encode(t, merged); !bytes.Equal(b, got) {
				t.Errorf("merged again:\n%s\nwant the file as it was:\n%s", b, got)
			}
		})
	}
}

// TestMissingStagesRepairedLateAndByMerge: the stage a process's count
// claims arrives after the file was written (a late stage), or sits in
// another backend's file (a scale-out): merged, the run is ok, and the
// file is the one every span once would have made.
func TestMissingStagesRepairedLateAndByMerge(t *testing.T) {
	p := recordThreeProcs(t)
	all := slices.Concat(p.exec, p.joined, p.owner)
	ref, refDir := newExporter(t)
	if err := ref.ExportSpans(t.Context(), all); err != nil {
		t.Fatal(err)
	}
	want := readRun(t, filepath.Join(refDir, id1+".json"))

	t.Run("late stage", func(t *testing.T) {
		exp, dir := newExporter(t)
		if err := exp.ExportSpans(t.Context(), slices.Concat(p.exec, without(p.joined, "reduce", 0), p.owner)); err != nil {
			t.Fatal(err)
		}
		if r := readRun(t, filepath.Join(dir, id1+".json")); r.Status != jsonrun.StatusIncomplete || r.MissingStages != 1 {
			t.Fatalf("before the late stage: status %s, missing %d; want incomplete, 1", r.Status, r.MissingStages)
		}
		if err := exp.ExportSpans(t.Context(), p.joined[2:3]); err != nil {
			t.Fatal(err)
		}
		got := readRun(t, filepath.Join(dir, id1+".json"))
		if got.LateStages != 1 {
			t.Errorf("late_stages %d, want 1", got.LateStages)
		}
		got.LateStages = 0
		if g, w := encode(t, got), encode(t, want); !bytes.Equal(g, w) {
			t.Errorf("after the late stage:\n%s\nwant:\n%s", g, w)
		}
	})

	t.Run("split across backends, then merged", func(t *testing.T) {
		// The ring moved the trace after the joined tracker's first
		// stage: the rest, its count span among them, went to backend B.
		a, dirA := newExporter(t)
		b, dirB := newExporter(t)
		if err := a.ExportSpans(t.Context(), slices.Concat(p.joined[:1], p.exec, p.owner)); err != nil {
			t.Fatal(err)
		}
		if err := b.ExportSpans(t.Context(), p.joined[1:]); err != nil {
			t.Fatal(err)
		}
		if err := b.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		ra := readRun(t, filepath.Join(dirA, id1+".json"))
		rb := readRun(t, filepath.Join(dirB, id1+".json"))
		if ra.Status != jsonrun.StatusOK {
			t.Errorf("backend A's file: status %s; want ok (it never saw the joined process's count)", ra.Status)
		}
		if rb.Status != jsonrun.StatusIncomplete || rb.MissingStages != 1 || len(rb.ProcessCounts) != 1 {
			t.Errorf("backend B's file: status %s, missing %d, counts %+v; want incomplete (no run span), 1 (the first shard is on A), the count kept", rb.Status, rb.MissingStages, rb.ProcessCounts)
		}
		for _, order := range [][]*jsonrun.Run{{ra, rb}, {rb, ra}, {rb, ra, rb}} {
			merged, err := jsonrun.Merge(order...)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := encode(t, merged), encode(t, want); !bytes.Equal(g, w) {
				t.Errorf("merged:\n%s\nwant:\n%s", g, w)
			}
		}
		// Backend B holding the first stage too, A missing it: A's file says so.
		c, dirC := newExporter(t)
		if err := c.ExportSpans(t.Context(), slices.Concat(p.joined[1:], p.exec, p.owner)); err != nil {
			t.Fatal(err)
		}
		if r := readRun(t, filepath.Join(dirC, id1+".json")); r.Status != jsonrun.StatusIncomplete || r.MissingStages != 1 {
			t.Errorf("a backend with the count and not every stage: status %s, missing %d; want incomplete, 1", r.Status, r.MissingStages)
		}
	})
}

// TestCountSpansSurviveARestart: count spans kept in an exporter's store
// of open runs or in journals (a Collector backend that is stopped and
// started again, or recovered) count as they do in memory.
func TestCountSpansSurviveARestart(t *testing.T) {
	p := recordThreeProcs(t)
	all := slices.Concat(p.exec, p.joined, p.owner)
	ref, refDir := newExporter(t)
	if err := ref.ExportSpans(t.Context(), all); err != nil {
		t.Fatal(err)
	}
	want := fileBytes(t, refDir)
	lost := slices.Concat(without(p.exec, "compile", 0), p.joined, p.owner)
	root := lost[len(lost)-1]
	// As the Collector's exporter runs with journal.enabled.
	storeOpts := []jsonrun.Option{jsonrun.WithJournalAllRuns(), jsonrun.WithRunStore(), jsonrun.WithLateStageWait(time.Hour)}
	for _, tc := range []struct {
		name        string
		opts        []jsonrun.Option
		spans       []sdktrace.ReadOnlySpan
		wantMissing int
	}{
		{"store, all there", storeOpts, all, 0},
		{"store, the exec step's stage lost", storeOpts, lost, 1},
		{"journals, all there", []jsonrun.Option{jsonrun.WithJournalAllRuns()}, all, 0},
		{"journals, the exec step's stage lost", []jsonrun.Option{jsonrun.WithJournalAllRuns()}, lost, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			first, err := jsonrun.New(append([]jsonrun.Option{jsonrun.WithDir(dir)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			body := tc.spans[:len(tc.spans)-1]
			if err := first.ExportSpans(t.Context(), body); err != nil {
				t.Fatal(err)
			}
			if err := first.Detach(t.Context()); err != nil {
				t.Fatal(err)
			}
			second, err := jsonrun.New(append([]jsonrun.Option{jsonrun.WithDir(dir)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { second.Shutdown(context.Background()) })
			if _, err := second.Resume(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := second.ExportSpans(t.Context(), []sdktrace.ReadOnlySpan{root}); err != nil {
				t.Fatal(err)
			}
			got := fileBytes(t, dir)
			r := readRun(t, filepath.Join(dir, id1+".json"))
			if r.MissingStages != tc.wantMissing || len(r.ProcessCounts) != 2 {
				t.Errorf("missing_stages %d, %d process counts; want %d, 2\n%s", r.MissingStages, len(r.ProcessCounts), tc.wantMissing, got)
			}
			if tc.wantMissing == 0 && !bytes.Equal(got, want) {
				t.Errorf("file:\n%s\nwant the file of one exporter:\n%s", got, want)
			}
		})
	}
}

// TestCountSpansHostile: what is not a process's count of its own stages
// claims nothing, and no count breaks the file.
func TestCountSpansHostile(t *testing.T) {
	p := recordThreeProcs(t)
	stub := func(s sdktrace.ReadOnlySpan, edit func(*tracetest.SpanStub)) sdktrace.ReadOnlySpan {
		st := tracetest.SpanStubFromReadOnlySpan(s)
		edit(&st)
		return tracetest.SpanStubs{st}.Snapshots()[0]
	}
	setCount := func(n int64) func(*tracetest.SpanStub) {
		return func(st *tracetest.SpanStub) {
			st.Attributes = []attribute.KeyValue{attribute.String(keys.ProcessRunID, id1), attribute.Int64(keys.ProcessStageCount, n)}
		}
	}
	execCount := p.exec[len(p.exec)-1]
	body := slices.Concat(p.exec[:len(p.exec)-1], p.joined, p.owner[:len(p.owner)-1])
	root := p.owner[len(p.owner)-1]
	for _, tc := range []struct {
		name        string
		extra       sdktrace.ReadOnlySpan
		wantMissing int
		wantStages  int
	}{
		{"a stage that carries a count is a stage", stub(p.exec[0], func(st *tracetest.SpanStub) {
			st.Attributes = append(st.Attributes, attribute.Int(keys.ProcessStageCount, 5))
		}), 0, 6},
		{"a count span with a stage name is a stage", stub(execCount, func(st *tracetest.SpanStub) {
			st.Attributes = append(st.Attributes, attribute.String(keys.StageName, ""), attribute.String(keys.RunID, id1))
		}), 0, 7},
		{"zero", stub(execCount, setCount(0)), 0, 6},
		{"negative", stub(execCount, setCount(-4)), 0, 6},
		{"huge", stub(execCount, setCount(1<<62)), 1<<31 - 1, 6},
		{"of the owner's process", stub(execCount, func(st *tracetest.SpanStub) {
			setCount(9)(st)
			st.Resource = procRes("h", 100)
		}), 0, 6},
		{"of a resource without a pid", stub(execCount, func(st *tracetest.SpanStub) {
			setCount(9)(st)
			st.Resource = resource.NewSchemaless(attribute.String("host.name", "h"))
		}), 0, 6},
		{"of a run id that is none", stub(execCount, func(st *tracetest.SpanStub) {
			st.Attributes = []attribute.KeyValue{attribute.String(keys.ProcessRunID, "not-a-run"), attribute.Int(keys.ProcessStageCount, 9)}
		}), 0, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, dir := newExporter(t)
			// The exec step's own count span stays out: the extra is the
			// only count that could speak for its process.
			_ = exp.ExportSpans(t.Context(), append(slices.Clone(body), tc.extra))
			if err := exp.ExportSpans(t.Context(), []sdktrace.ReadOnlySpan{root}); err != nil {
				t.Fatal(err)
			}
			r := readRun(t, filepath.Join(dir, id1+".json"))
			if r.MissingStages != tc.wantMissing || r.StageCount != tc.wantStages {
				t.Errorf("missing_stages %d, stage_count %d; want %d, %d", r.MissingStages, r.StageCount, tc.wantMissing, tc.wantStages)
			}
			if _, err := jsonrun.Merge(r); err != nil {
				t.Errorf("the file does not merge again: %v", err)
			}
		})
	}
}

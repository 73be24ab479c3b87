package jsonrun_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// procRes is the resource of process pid on host h.
func procRes(h string, pid int) *resource.Resource {
	return resource.NewSchemaless(attribute.String("host.name", h), attribute.Int("process.pid", pid))
}

// inProc returns the spans given the resource of process pid.
func inProc(pid int, spans ...tracetest.SpanStub) []tracetest.SpanStub {
	out := make([]tracetest.SpanStub, len(spans))
	for i, s := range spans {
		s.Resource = procRes("h", pid)
		out[i] = s
	}
	return out
}

// fileBytes reads the run file of id1 in dir.
func fileBytes(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, id1+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// encode is the run file run would be.
func encode(t *testing.T, run *jsonrun.Run) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := runfile.Write(&b, run); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// nestedStubs is a run with stages a and b, and c inside a.
func nestedStubs() tracetest.SpanStubs {
	s := runStubs(id1, 1, 2)
	child := s[0]
	child.Name = "c"
	child.SpanContext = sc(traceID(1), spanID(9))
	child.Parent = s[0].SpanContext
	child.StartTime = s[0].StartTime.Add(time.Millisecond)
	child.EndTime = s[0].EndTime.Add(-time.Millisecond)
	child.Attributes = []attribute.KeyValue{attribute.String(keys.RunID, id1), attribute.String(keys.StageName, "c")}
	root := s[2]
	root.Attributes = []attribute.KeyValue{attribute.String(keys.RunID, id1), attribute.Int(keys.RunStageCount, 3)}
	return tracetest.SpanStubs{child, s[0], s[1], root}
}

// TestSameSpanTwiceIsOneStage: a span delivered twice (an SDK's retry,
// at-least-once delivery) is one stage, in one batch, across batches,
// before and after the root: the file is the one a single delivery makes.
func TestSameSpanTwiceIsOneStage(t *testing.T) {
	flat := runStubs(id1, 1, 2)
	nested := nestedStubs()
	for _, tc := range []struct {
		name    string
		once    tracetest.SpanStubs
		batches []tracetest.SpanStubs
	}{
		{"one batch", flat, []tracetest.SpanStubs{{flat[0], flat[0], flat[1], flat[2]}}},
		{"across batches", flat, []tracetest.SpanStubs{{flat[0]}, {flat[1], flat[0]}, {flat[2]}}},
		{"out of order", flat, []tracetest.SpanStubs{{flat[1]}, {flat[0]}, {flat[1]}, {flat[2]}}},
		{"after the root", flat, []tracetest.SpanStubs{flat, {flat[0]}, {flat[1], flat[1]}}},
		{"parent twice", nested, []tracetest.SpanStubs{{nested[0], nested[1], nested[1], nested[2], nested[3]}}},
		{"child and parent twice", nested, []tracetest.SpanStubs{{nested[0], nested[1]}, {nested[0], nested[1], nested[2]}, {nested[3]}, {nested[0]}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, refDir := newExporter(t)
			export(t, ref, tc.once...)
			exp, dir := newExporter(t)
			for _, b := range tc.batches {
				export(t, exp, b...)
			}
			if got, want := fileBytes(t, dir), fileBytes(t, refDir); !bytes.Equal(got, want) {
				t.Errorf("file:\n%s\nwant the file of one delivery:\n%s", got, want)
			}
			if s := exp.Stats(); s != (jsonrun.Stats{}) {
				t.Errorf("stats %+v, want none: a span again is no late stage", s)
			}
		})
	}
}

// TestSameSpanTwiceAcrossRestart: a stage whose end is in a journal, sent
// again to a new exporter over that directory, is one stage.
func TestSameSpanTwiceAcrossRestart(t *testing.T) {
	ctx := t.Context()
	spans := runStubs(id1, 1, 2)
	ref, refDir := newExporter(t)
	export(t, ref, spans...)
	want := fileBytes(t, refDir)

	t.Run("resume", func(t *testing.T) {
		first, dir := newExporter(t, jsonrun.WithJournalAllRuns())
		export(t, first, spans[0])
		if err := first.Detach(ctx); err != nil {
			t.Fatal(err)
		}
		second, err := jsonrun.New(jsonrun.WithDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		defer second.Shutdown(ctx)
		if ids, err := second.Resume(ctx); err != nil || len(ids) != 1 {
			t.Fatalf("Resume = %v, %v", ids, err)
		}
		export(t, second, spans[0], spans[1], spans[0], spans[2])
		if got := fileBytes(t, dir); !bytes.Equal(got, want) {
			t.Errorf("file:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("recover", func(t *testing.T) {
		first, dir := newExporter(t, jsonrun.WithJournalAllRuns())
		export(t, first, spans[0], spans[1])
		if err := first.Detach(ctx); err != nil {
			t.Fatal(err)
		}
		second, err := jsonrun.New(jsonrun.WithDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		if paths, err := second.Recover(ctx); err != nil || len(paths) != 1 {
			t.Fatalf("Recover = %v, %v", paths, err)
		}
		recovered := fileBytes(t, dir)
		export(t, second, spans[0], spans[1])
		if err := second.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown after the same spans again: %v", err)
		}
		if got := fileBytes(t, dir); !bytes.Equal(got, recovered) {
			t.Errorf("the same spans again changed the recovered file:\n%s\nwas:\n%s", got, recovered)
		}
	})
}

// TestSplitRunMergesToOneFile: the stages of one run split over two
// directories, or two journals, merge to the file one exporter that
// received every span writes.
func TestSplitRunMergesToOneFile(t *testing.T) {
	ctx := t.Context()
	s := runStubs(id1, 1, 4)
	root := s[4]
	root.Attributes = []attribute.KeyValue{attribute.String(keys.RunID, id1), attribute.Int(keys.RunStageCount, 2)}
	p1 := inProc(1, s[0], s[2], root)
	p2 := inProc(2, s[1], s[3])
	all := append(append([]tracetest.SpanStub{}, p2...), p1...)

	t.Run("two directories", func(t *testing.T) {
		one, oneDir := newExporter(t)
		export(t, one, all...)
		a, aDir := newExporter(t)
		export(t, a, p1...)
		b, bDir := newExporter(t)
		export(t, b, p2...)
		if err := b.Shutdown(ctx); err == nil {
			// The part without the root is written as incomplete.
			_ = a
		}
		merged, err := jsonrun.Merge(readRun(t, filepath.Join(bDir, id1+".json")), readRun(t, filepath.Join(aDir, id1+".json")))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := encode(t, merged), fileBytes(t, oneDir); !bytes.Equal(got, want) {
			t.Errorf("merged:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("two journals", func(t *testing.T) {
		stages := func(spans []tracetest.SpanStub) []tracetest.SpanStub { return spans[:len(spans)-1] }
		one, oneDir := newExporter(t, jsonrun.WithJournalAllRuns())
		export(t, one, stages(all)...)
		a, aDir := newExporter(t, jsonrun.WithJournalAllRuns())
		export(t, a, stages(p1)...)
		b, bDir := newExporter(t, jsonrun.WithJournalAllRuns())
		export(t, b, p2...)
		want, err := jsonrun.MergeJournals(filepath.Join(oneDir, id1+jsonrun.JournalSuffix))
		if err != nil {
			t.Fatal(err)
		}
		got, err := jsonrun.MergeJournals(filepath.Join(aDir, id1+jsonrun.JournalSuffix), filepath.Join(bDir, id1+jsonrun.JournalSuffix))
		if err != nil {
			t.Fatal(err)
		}
		if g, w := encode(t, got), encode(t, want); !bytes.Equal(g, w) {
			t.Errorf("merged:\n%s\nwant:\n%s", g, w)
		}
		for _, e := range []*jsonrun.Exporter{one, a, b} {
			_ = e.Detach(ctx)
		}
	})
}

// TestSplitRunMergesJournalWithRunFile (issue 20, a ring change): the
// stages a Collector backend received before the ring moved the run away
// stay in its journal, which names no run span; the new owner wrote the
// run file. That journal, or the file `stagetrack recover` makes of it
// (all-zero run span and trace ids, status crashed), merges with the run
// file into the file one exporter that received every span writes.
func TestSplitRunMergesJournalWithRunFile(t *testing.T) {
	ctx := t.Context()
	s := runStubs(id1, 1, 4)
	root := s[4]
	root.Attributes = []attribute.KeyValue{attribute.String(keys.RunID, id1), attribute.Int(keys.RunStageCount, 2)}
	p1 := inProc(1, s[0], s[2], root)
	p2 := inProc(2, s[1], s[3])
	one, oneDir := newExporter(t)
	export(t, one, append(append([]tracetest.SpanStub{}, p2...), p1...)...)
	want := fileBytes(t, oneDir)

	old, oldDir := newExporter(t, jsonrun.WithJournalAllRuns())
	export(t, old, p2...)
	if err := old.Detach(ctx); err != nil {
		t.Fatal(err)
	}
	owner, ownerDir := newExporter(t)
	export(t, owner, p1...)
	ownerFile := readRun(t, filepath.Join(ownerDir, id1+".json"))
	journalPath := filepath.Join(oldDir, id1+jsonrun.JournalSuffix)

	fromJournal, err := jsonrun.MergeJournals(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := jsonrun.New(jsonrun.WithDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	path, err := rec.RecoverJournal(ctx, journalPath)
	if err != nil {
		t.Fatal(err)
	}
	recovered := readRun(t, path)
	for _, tc := range []struct {
		name string
		part *jsonrun.Run
	}{
		{"journal", fromJournal},
		{"recovered file", recovered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range [][]*jsonrun.Run{{tc.part, ownerFile}, {ownerFile, tc.part}} {
				merged, err := jsonrun.Merge(order...)
				if err != nil {
					t.Fatal(err)
				}
				if got := encode(t, merged); !bytes.Equal(got, want) {
					t.Errorf("merged:\n%s\nwant:\n%s", got, want)
				}
			}
		})
	}
}

// rootWithSpan is run id1's root span with span id n.
func rootWithSpan(n byte) tracetest.SpanStub {
	r := runStubs(id1, 1, 1)[1]
	r.SpanContext = sc(traceID(1), spanID(n))
	return r
}

// TestRootWithNewSpanIDIsRefused: a run has one root span. Another span
// id for a finished run leaves its file byte-identical, in the same
// process, after a restart and after 5,000 other runs; for an open run it
// changes nothing. It is counted; the same root again is not.
func TestRootWithNewSpanIDIsRefused(t *testing.T) {
	ctx := t.Context()
	spans := runStubs(id1, 1, 1)
	for _, tc := range []struct {
		name  string
		after func(t *testing.T, exp *jsonrun.Exporter, dir string) *jsonrun.Exporter
	}{
		{"same process", func(t *testing.T, exp *jsonrun.Exporter, dir string) *jsonrun.Exporter { return exp }},
		{"after a restart", func(t *testing.T, exp *jsonrun.Exporter, dir string) *jsonrun.Exporter {
			if err := exp.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			next, err := jsonrun.New(jsonrun.WithDir(dir))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { next.Shutdown(context.Background()) })
			return next
		}},
		{"after 5000 other runs", func(t *testing.T, exp *jsonrun.Exporter, dir string) *jsonrun.Exporter {
			// Runs whose output file cannot be made (under a regular
			// file) end as every run does, but fail fast (no fsync):
			// 5,000 runs in milliseconds.
			notDir := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(notDir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			for i := range 5000 {
				id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
				stubs := runStubs(id, 2, 0)
				stubs[0].Attributes = append(stubs[0].Attributes, attribute.String(keys.RunOutputFile, filepath.Join(notDir, "run.json")))
				if err := exp.ExportSpans(ctx, stubs.Snapshots()); err == nil {
					t.Fatalf("run %s written", id)
				}
			}
			return exp
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, dir := newExporter(t)
			export(t, exp, spans...)
			want := fileBytes(t, dir)
			exp = tc.after(t, exp, dir)
			export(t, exp, spans[1]) // the same root again
			export(t, exp, rootWithSpan(42))
			export(t, exp, spans[0]) // and its stage again
			if got := fileBytes(t, dir); !bytes.Equal(got, want) {
				t.Errorf("file changed:\n%s\nwas:\n%s", got, want)
			}
			if s := exp.Stats(); s.RefusedRoots != 1 || s.LateStages != 0 {
				t.Errorf("stats %+v, want 1 refused root", s)
			}
		})
	}
	t.Run("open run", func(t *testing.T) {
		exp, dir := newExporter(t, jsonrun.WithLateStageWait(time.Hour), jsonrun.WithTestClock(newFakeClock()))
		s := runStubs(id1, 1, 2)
		export(t, exp, s[0], s[2]) // waits for its second stage
		other := s[2]
		other.SpanContext = sc(traceID(1), spanID(42))
		other.Name = "intruder"
		export(t, exp, other, s[2])
		if f := files(t, dir); len(f) != 0 {
			t.Fatalf("files %v: a root ended the open run", f)
		}
		export(t, exp, s[1])
		r := readRun(t, filepath.Join(dir, id1+".json"))
		if r.SpanID != sc(traceID(1), spanID(1)).SpanID().String() || r.Name != "run" || r.StageCount != 2 || r.Status != jsonrun.StatusOK {
			t.Errorf("run span %s %q, %d stages, %s; want the first root's, 2, ok", r.SpanID, r.Name, r.StageCount, r.Status)
		}
		if s := exp.Stats(); s.RefusedRoots != 1 {
			t.Errorf("stats %+v, want 1 refused root", s)
		}
	})
}

// TestNonOwnerRunSpanDoesNotEndRun: a span naming the run and no stage,
// from a process other than the one whose run span started it (a child
// under stagetrack run), does not end the run: later stages join it.
func TestNonOwnerRunSpanDoesNotEndRun(t *testing.T) {
	exp, dir := newExporter(t)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp)), sdktrace.WithResource(procRes("h", 1)))
	defer tp.Shutdown(context.Background())
	ctx, run := tp.Tracer(keys.ScopeName).Start(t.Context(), "run", trace.WithAttributes(attribute.String(keys.RunID, id1)))
	parent := trace.SpanContextFromContext(ctx)

	child := tracetest.SpanStub{
		Name:        "child-main",
		SpanContext: sc(parent.TraceID(), spanID(77)),
		Parent:      parent,
		StartTime:   t0,
		EndTime:     t0.Add(time.Second),
		Attributes:  []attribute.KeyValue{attribute.String(keys.RunID, id1)},
		Resource:    procRes("h", 2),
	}
	export(t, exp, child)
	if f := files(t, dir); len(f) != 1 || f[0] != id1+jsonrun.JournalSuffix {
		t.Fatalf("files %v after the child's span; want only the open run's journal", f)
	}
	_, stage := tp.Tracer(keys.ScopeName).Start(ctx, "later", trace.WithAttributes(attribute.String(keys.RunID, id1), attribute.String(keys.StageName, "later")))
	stage.End()
	run.End()
	r := readRun(t, filepath.Join(dir, id1+".json"))
	if r.SpanID != parent.SpanID().String() || r.Status != jsonrun.StatusOK {
		t.Errorf("run span %s, status %s; want the owner's, ok", r.SpanID, r.Status)
	}
	if _, ok := r.Stages.Get("later"); !ok {
		t.Errorf("the later stage is not in the run: %v", r.Stages)
	}
	if s := exp.Stats(); s.RefusedRoots != 1 {
		t.Errorf("stats %+v, want the child's span refused", s)
	}
}

// TestLateStageFromAnotherProcess: a stage of another process that arrives
// after the run file is written is merged into it, and counted.
func TestLateStageFromAnotherProcess(t *testing.T) {
	exp, dir := newExporter(t)
	s := runStubs(id1, 1, 2)
	root := s[2]
	root.Attributes = []attribute.KeyValue{attribute.String(keys.RunID, id1), attribute.Int(keys.RunStageCount, 1)}
	export(t, exp, inProc(1, s[0], root)...)
	export(t, exp, inProc(2, s[1])...)
	export(t, exp, inProc(2, s[1])...) // again: nothing more
	r := readRun(t, filepath.Join(dir, id1+".json"))
	if r.StageCount != 2 || r.LateStages != 1 || r.Status != jsonrun.StatusOK || r.MissingStages != 0 {
		t.Errorf("%d stages, %d late, %d missing, %s; want 2, 1, 0, ok", r.StageCount, r.LateStages, r.MissingStages, r.Status)
	}
	if st, ok := r.Stages.Get("stage1"); !ok || st.PID != 2 {
		t.Errorf("late stage %+v, %v; want it, from pid 2", st, ok)
	}
	if s := exp.Stats(); s.LateStages != 1 {
		t.Errorf("stats %+v, want 1 late stage", s)
	}
}

// TestStageCountCoversItsProcess: the tracker's run span counts its own
// process's stages only, so stages of another process neither make up for
// a missing one nor end the wait for it.
func TestStageCountCoversItsProcess(t *testing.T) {
	s := runStubs(id1, 1, 3)
	root := s[3]
	root.Attributes = []attribute.KeyValue{attribute.String(keys.RunID, id1), attribute.Int(keys.RunStageCount, 2)}
	t.Run("missing", func(t *testing.T) {
		exp, dir := newExporter(t)
		export(t, exp, append(inProc(2, s[1]), inProc(1, s[0], root)...)...)
		r := readRun(t, filepath.Join(dir, id1+".json"))
		if r.MissingStages != 1 || r.Status != jsonrun.StatusIncomplete {
			t.Errorf("missing %d, %s; want 1, incomplete", r.MissingStages, r.Status)
		}
	})
	t.Run("wait", func(t *testing.T) {
		exp, dir := newExporter(t, jsonrun.WithLateStageWait(time.Hour), jsonrun.WithTestClock(newFakeClock()))
		export(t, exp, inProc(1, s[0], root)...)
		export(t, exp, inProc(2, s[1])...)
		if f := files(t, dir); len(f) != 0 {
			t.Fatalf("files %v: another process's stage ended the wait", f)
		}
		export(t, exp, inProc(1, s[2])...)
		r := readRun(t, filepath.Join(dir, id1+".json"))
		if r.StageCount != 3 || r.MissingStages != 0 || r.LateStages != 0 || r.Status != jsonrun.StatusOK {
			t.Errorf("%d stages, %d missing, %d late, %s; want 3, 0, 0, ok", r.StageCount, r.MissingStages, r.LateStages, r.Status)
		}
	})
}

// TestLateTraceStageMerged: a span that names no run (another SDK's,
// routed by its trace) and arrives after its run's file was written, as a
// Collector gets a forwarded batch after the run span's, is merged into
// the file as a late stage, once; a span of the process that marks the
// run's stages is its library's, and stays out.
func TestLateTraceStageMerged(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithPendingSpans(time.Minute))
	s := runStubs(id1, 1, 1)
	export(t, exp, inProc(1, s...)...)
	late := func(name string, n byte) tracetest.SpanStub {
		return tracetest.SpanStub{
			Name: name, SpanContext: sc(traceID(1), spanID(n)), Parent: s[1].SpanContext,
			StartTime: t0.Add(2 * time.Second), EndTime: t0.Add(3 * time.Second),
		}
	}
	export(t, exp, inProc(2, late("extract", 9))...)
	export(t, exp, inProc(2, late("extract", 9))...) // again: nothing more
	export(t, exp, inProc(1, late("http GET", 10))...)
	r := readRun(t, filepath.Join(dir, id1+".json"))
	if _, ok := r.Stages.Get("extract"); !ok || r.StageCount != 2 || r.LateStages != 1 {
		t.Errorf("stages %d (extract there: %v), late %d; want 2 with extract, 1 late", r.StageCount, ok, r.LateStages)
	}
	if _, ok := r.Stages.Get("http GET"); ok {
		t.Error("the library span of the process that marks the run's stages is in the run file")
	}
}

// TestLateChildBeforeParentNests: two late stages of another process, a
// child before its parent, each merged into the run file on its own (as
// separate requests bring them): the file written in between names the
// child's parent (parent_span_id), so the parent nests it when it comes,
// as one exporter that received both in time would have.
func TestLateChildBeforeParentNests(t *testing.T) {
	exp, dir := newExporter(t, jsonrun.WithPendingSpans(time.Minute))
	s := runStubs(id1, 1, 1)
	export(t, exp, inProc(1, s...)...)
	extract := tracetest.SpanStub{
		Name: "extract", SpanContext: sc(traceID(1), spanID(9)), Parent: s[1].SpanContext,
		StartTime: t0.Add(2 * time.Second), EndTime: t0.Add(4 * time.Second),
	}
	parse := tracetest.SpanStub{
		Name: "parse", SpanContext: sc(traceID(1), spanID(10)), Parent: extract.SpanContext,
		StartTime: t0.Add(3 * time.Second), EndTime: t0.Add(3500 * time.Millisecond),
	}
	export(t, exp, inProc(2, parse)...)
	between := readRun(t, filepath.Join(dir, id1+".json"))
	if st, ok := between.Stages.Get("parse"); !ok || st.ParentSpanID != spanID(9).String() {
		t.Fatalf("parse before its parent: %+v, %v; want it top-level with parent_span_id %s", st, ok, spanID(9))
	}
	export(t, exp, inProc(2, extract)...)
	r := readRun(t, filepath.Join(dir, id1+".json"))
	ex, ok := r.Stages.Get("extract")
	if !ok || len(ex.Stages) != 1 || ex.Stages[0].Name != "parse" || ex.Stages[0].ParentSpanID != "" {
		t.Errorf("extract %+v, %v; want parse nested in it (and no parent_span_id, which nesting says)", ex, ok)
	}
	if _, top := r.Stages.Get("parse"); top || r.LateStages != 2 || r.StageCount != 3 {
		t.Errorf("parse top-level %v, late %d, stages %d; want nested, 2, 3", top, r.LateStages, r.StageCount)
	}
}

package slogtrack_test

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/seqids"
	"github.com/stage-tracker/stage-tracker/tracker"
	"github.com/stage-tracker/stage-tracker/tracker/slogtrack"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// noTime drops the time, so that the output is the same on every run.
func noTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func newTracker(t *testing.T) (*tracker.Tracker, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithIDGenerator(&seqids.Generator{}))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tracker.New(tracker.WithTracerProvider(tp)), rec
}

// TestHandlerGolden: the keys each kind of context adds, at the top level
// whatever groups and attributes the logger carries.
func TestHandlerGolden(t *testing.T) {
	tr, _ := newTracker(t)
	var buf bytes.Buffer
	log := slog.New(slogtrack.NewHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: noTime})))

	ctx := t.Context()
	log.InfoContext(ctx, "outside any run")
	rctx, run := tr.Start(ctx, "args", tracker.WithRunID("5d2f1c1e-0000-4000-8000-000000000001"))
	log.InfoContext(rctx, "in the run")
	sctx, st := run.StartStage(rctx, "train")
	log.InfoContext(sctx, "in a stage", "epoch", 3)
	nctx, inner := run.StartStage(sctx, "evaluate")
	log.With("component", "eval").WithGroup("metrics").WarnContext(nctx, "nested, in a group", "accuracy", 0.93)
	inner.End(nil, nil)
	st.End(nil, nil)
	log.InfoContext(context.Background(), "a background context")
	_ = run.Finalize(ctx)

	golden(t, "handler.golden", buf.String())
}

// TestSpanEvents: with WithSpanEvents, warnings and errors become events
// of the stage's span with their attributes; lower levels do not, and the
// wrapped handler's own level still decides what it prints.
func TestSpanEvents(t *testing.T) {
	tr, rec := newTracker(t)
	var buf bytes.Buffer
	inner := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError})
	log := slog.New(slogtrack.NewHandler(inner, slogtrack.WithSpanEvents(slog.LevelWarn)))

	ctx, run := tr.Start(t.Context(), nil)
	sctx, st := run.StartStage(ctx, "fetch")
	log.InfoContext(sctx, "not an event")
	log.WarnContext(sctx, "retrying", "attempt", 2, slog.Group("http", "status", 503))
	log.ErrorContext(sctx, "gave up")
	st.End(nil, nil)
	_ = run.Finalize(t.Context())

	var stage sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "fetch" {
			stage = s
		}
	}
	if stage == nil {
		t.Fatal("no stage span")
	}
	var names []string
	for _, ev := range stage.Events() {
		names = append(names, ev.Name)
	}
	if len(names) != 2 || names[0] != "retrying" || names[1] != "gave up" {
		t.Fatalf("events %q; want retrying, gave up", names)
	}
	got := map[attribute.Key]attribute.Value{}
	for _, a := range stage.Events()[0].Attributes {
		got[a.Key] = a.Value
	}
	if got["log.severity"].AsString() != "WARN" || got["attempt"].AsInt64() != 2 || got["http.status"].AsInt64() != 503 {
		t.Errorf("event attributes %v", stage.Events()[0].Attributes)
	}
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n != 1 {
		t.Errorf("wrapped handler printed %d lines; want only the error:\n%s", n, buf.String())
	}
}

// TestHandlerConcurrentSafe: one logger used from many stages at once.
func TestHandlerConcurrentSafe(t *testing.T) {
	tr, _ := newTracker(t)
	var (
		mu  sync.Mutex
		buf bytes.Buffer
	)
	log := slog.New(slogtrack.NewHandler(slog.NewJSONHandler(&lockedWriter{mu: &mu, w: &buf}, nil), slogtrack.WithSpanEvents(slog.LevelInfo)))
	ctx, run := tr.Start(t.Context(), nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = run.Stage(ctx, "worker", func(ctx context.Context) (any, error) {
				for j := range 50 {
					log.With("i", i).WithGroup("g").InfoContext(ctx, "tick", "j", j)
				}
				return nil, nil
			})
		}()
	}
	wg.Wait()
	_ = run.Finalize(t.Context()) // no run-file exporter here: only the logs matter
	if n := bytes.Count(buf.Bytes(), []byte(`"stage":"worker"`)); n != 400 {
		t.Errorf("%d records carry the stage; want 400", n)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update to rewrite):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

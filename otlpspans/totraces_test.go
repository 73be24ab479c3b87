package otlpspans_test

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/otlpspans"
)

// TestToTracesRoundTrip: SDK spans through ToTraces, OTLP/JSON and
// FromTraces are the spans they were: what stagetrack keeps of a failed
// export is what it sends later.
func TestToTracesRoundTrip(t *testing.T) {
	tid := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	ts, _ := trace.ParseTraceState("k=v")
	root := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, TraceState: ts})
	child := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{9}, TraceFlags: trace.FlagsSampled, Remote: true})
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	res := resource.NewSchemaless(attribute.String("service.name", "stagetrack"))
	scope := instrumentation.Scope{Name: "github.com/stage-tracker/stage-tracker/tracker", Version: "1.2.3"}
	in := tracetest.SpanStubs{
		{
			Name: "build", SpanContext: child, Parent: root, SpanKind: trace.SpanKindInternal,
			StartTime: t0, EndTime: t0.Add(time.Second),
			Attributes: []attribute.KeyValue{
				attribute.String("stage_tracker.run.id", "af3c980c-3d22-46e8-83cd-7ff99abee586"),
				attribute.Int("n", 3), attribute.Float64("f", 0.5), attribute.Bool("b", true),
				attribute.StringSlice("argv", []string{"make", "all"}), attribute.Int64Slice("is", []int64{1, 2}),
			},
			Events:   []sdktrace.Event{{Name: "exception", Time: t0.Add(time.Millisecond), Attributes: []attribute.KeyValue{attribute.String("exception.message", "boom")}}},
			Links:    []sdktrace.Link{{SpanContext: remote, Attributes: []attribute.KeyValue{attribute.String("l", "x")}}},
			Status:   sdktrace.Status{Code: codes.Error, Description: "exit status 2"},
			Resource: res, InstrumentationScope: scope,
		},
		{
			Name: "run", SpanContext: root, Parent: remote, SpanKind: trace.SpanKindServer,
			StartTime: t0.Add(-time.Second), EndTime: t0.Add(2 * time.Second),
			Status:   sdktrace.Status{Code: codes.Ok},
			Resource: res, InstrumentationScope: scope,
		},
	}
	td := otlpspans.ToTraces(in.Snapshots())
	if n := td.ResourceSpans().Len(); n != 1 {
		t.Errorf("%d ResourceSpans, want 1 for one resource", n)
	}
	b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	back, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(b)
	if err != nil {
		t.Fatal(err)
	}
	out, rejected := otlpspans.FromTraces(back)
	if rejected.Total() != 0 || len(out) != len(in) {
		t.Fatalf("%d spans back, %v rejected; want %d", len(out), rejected, len(in))
	}
	got := tracetest.SpanStubsFromReadOnlySpans(out)
	for i := range in {
		w, g := in[i], got[i]
		switch {
		case g.Name != w.Name || g.SpanContext.SpanID() != w.SpanContext.SpanID() || g.SpanContext.TraceID() != w.SpanContext.TraceID():
			t.Errorf("span %d: %s %s, want %s %s", i, g.Name, g.SpanContext.SpanID(), w.Name, w.SpanContext.SpanID())
		case g.Parent.SpanID() != w.Parent.SpanID() || g.Parent.IsRemote() != w.Parent.IsRemote():
			t.Errorf("%s: parent %s remote %v, want %s %v", w.Name, g.Parent.SpanID(), g.Parent.IsRemote(), w.Parent.SpanID(), w.Parent.IsRemote())
		case !g.StartTime.Equal(w.StartTime) || !g.EndTime.Equal(w.EndTime) || g.SpanKind != w.SpanKind:
			t.Errorf("%s: times or kind differ", w.Name)
		case g.Status != w.Status:
			t.Errorf("%s: status %v, want %v", w.Name, g.Status, w.Status)
		case !sameAttributes(g.Attributes, w.Attributes):
			t.Errorf("%s: attributes %v, want %v", w.Name, g.Attributes, w.Attributes)
		case len(g.Events) != len(w.Events) || len(g.Links) != len(w.Links):
			t.Errorf("%s: %d events %d links, want %d %d", w.Name, len(g.Events), len(g.Links), len(w.Events), len(w.Links))
		case g.Resource.Equivalent() != res.Equivalent() || g.InstrumentationScope.Name != scope.Name || g.InstrumentationScope.Version != scope.Version:
			t.Errorf("%s: resource or scope differ", w.Name)
		case g.SpanContext.TraceState().String() != w.SpanContext.TraceState().String():
			t.Errorf("%s: trace state %q, want %q", w.Name, g.SpanContext.TraceState(), w.SpanContext.TraceState())
		}
	}
}

func sameAttributes(a, b []attribute.KeyValue) bool {
	sa, sb := attribute.NewSet(a...), attribute.NewSet(b...)
	return sa.Equals(&sb)
}

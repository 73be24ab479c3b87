package otlpspans_test

import (
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/stage-tracker/stage-tracker/otlpspans"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	tid  = pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	sid  = pcommon.SpanID{1, 1, 1, 1, 1, 1, 1, 1}
	psid = pcommon.SpanID{2, 2, 2, 2, 2, 2, 2, 2}
)

// one is a request holding one span, which set fills in after its ids are
// tid and sid.
func one(set func(ptrace.Span)) ptrace.Traces {
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetTraceID(tid)
	s.SetSpanID(sid)
	if set != nil {
		set(s)
	}
	return td
}

func convertOne(t *testing.T, set func(ptrace.Span)) sdktrace.ReadOnlySpan {
	t.Helper()
	spans, rejected := otlpspans.FromTraces(one(set))
	if rejected.Total() != 0 || len(spans) != 1 {
		t.Fatalf("got %d spans, %+v rejected; want 1, 0", len(spans), rejected)
	}
	return spans[0]
}

func TestResourceAndScope(t *testing.T) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "etl")
	rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("node-app")
	ss.Scope().SetVersion("1.2.3")
	ss.Scope().Attributes().PutStr("lib", "x")
	ss.SetSchemaUrl("https://example.com/scope")
	for i, id := range []pcommon.SpanID{sid, psid} {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(tid)
		s.SetSpanID(id)
		s.SetName([]string{"a", "b"}[i])
	}
	spans, rejected := otlpspans.FromTraces(td)
	if rejected.Total() != 0 || len(spans) != 2 {
		t.Fatalf("got %d spans, %+v rejected", len(spans), rejected)
	}
	s := spans[1]
	if v, _ := s.Resource().Set().Value("service.name"); v.AsString() != "etl" {
		t.Errorf("resource service.name = %q", v.AsString())
	}
	if got := s.Resource().SchemaURL(); got != "https://opentelemetry.io/schemas/1.26.0" {
		t.Errorf("resource schema url = %q", got)
	}
	sc := s.InstrumentationScope()
	if sc.Name != "node-app" || sc.Version != "1.2.3" || sc.SchemaURL != "https://example.com/scope" {
		t.Errorf("scope = %+v", sc)
	}
	if v, _ := sc.Attributes.Value("lib"); v.AsString() != "x" {
		t.Errorf("scope attribute lib = %q", v.AsString())
	}
	if s.Name() != "b" {
		t.Errorf("order: second span is %q", s.Name())
	}
}

func TestIDs(t *testing.T) {
	tests := []struct {
		name                string
		trace               pcommon.TraceID
		span, parent        pcommon.SpanID
		flags               uint32
		want                otlpspans.Rejected
		wantParent, wantRem bool
	}{
		{name: "root, no parent", trace: tid, span: sid},
		{name: "child", trace: tid, span: sid, parent: psid, flags: 0x101, wantParent: true},
		{name: "child of a remote parent", trace: tid, span: sid, parent: psid, flags: 0x301, wantParent: true, wantRem: true},
		{name: "is-remote bit without has-is-remote is ignored", trace: tid, span: sid, parent: psid, flags: 0x201, wantParent: true},
		{name: "zero trace id", span: sid, want: otlpspans.Rejected{TraceID: 1}},
		{name: "zero span id", trace: tid, want: otlpspans.Rejected{SpanID: 1}},
		{name: "both zero counts once, as the trace id", want: otlpspans.Rejected{TraceID: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td := one(func(s ptrace.Span) {
				s.SetTraceID(tt.trace)
				s.SetSpanID(tt.span)
				s.SetParentSpanID(tt.parent)
				s.SetFlags(tt.flags)
			})
			spans, rejected := otlpspans.FromTraces(td)
			if rejected != tt.want {
				t.Fatalf("rejected %+v, want %+v", rejected, tt.want)
			}
			if tt.want.Total() > 0 {
				if len(spans) != 0 {
					t.Fatalf("got %d spans; want none", len(spans))
				}
				return
			}
			if len(spans) != 1 {
				t.Fatalf("got %d spans; want 1", len(spans))
			}
			s := spans[0]
			if got := s.SpanContext().TraceID(); got != trace.TraceID(tid) {
				t.Errorf("trace id = %s", got)
			}
			if got := s.SpanContext().SpanID(); got != trace.SpanID(sid) {
				t.Errorf("span id = %s", got)
			}
			if s.Parent().IsValid() != tt.wantParent {
				t.Fatalf("parent valid = %v, want %v", s.Parent().IsValid(), tt.wantParent)
			}
			if tt.wantParent {
				if got := s.Parent().SpanID(); got != trace.SpanID(psid) {
					t.Errorf("parent span id = %s", got)
				}
				if s.Parent().TraceID() != s.SpanContext().TraceID() {
					t.Errorf("parent trace id = %s", s.Parent().TraceID())
				}
				if s.Parent().IsRemote() != tt.wantRem {
					t.Errorf("parent remote = %v, want %v", s.Parent().IsRemote(), tt.wantRem)
				}
			}
		})
	}
}

func TestRejectedAreCountedAmongGood(t *testing.T) {
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty() // no scopes
	rs := td.ResourceSpans().AppendEmpty()
	rs.ScopeSpans().AppendEmpty() // no spans
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for _, ids := range []struct {
		t pcommon.TraceID
		s pcommon.SpanID
	}{{tid, sid}, {pcommon.TraceID{}, sid}, {tid, psid}, {tid, pcommon.SpanID{}}, {pcommon.TraceID{}, pcommon.SpanID{}}} {
		s := spans.AppendEmpty()
		s.SetTraceID(ids.t)
		s.SetSpanID(ids.s)
	}
	got, rejected := otlpspans.FromTraces(td)
	if want := (otlpspans.Rejected{TraceID: 2, SpanID: 1}); len(got) != 2 || rejected != want {
		t.Fatalf("got %d spans, %+v rejected; want 2, %+v", len(got), rejected, want)
	}
}

func TestRejectedString(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    otlpspans.Rejected
		want string
	}{
		{"none", otlpspans.Rejected{}, ""},
		{"one trace id", otlpspans.Rejected{TraceID: 1}, "1 span with an invalid (all-zero) trace id"},
		{"both", otlpspans.Rejected{TraceID: 2, SpanID: 3}, "2 spans with an invalid (all-zero) trace id and 3 spans with an invalid (all-zero) span id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.String(); got != tc.want {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
}

func TestFlagsAndTraceState(t *testing.T) {
	tests := []struct {
		name        string
		flags       uint32
		traceState  string
		wantSampled bool
		wantState   string
	}{
		{"sampled", 0x101, "", true, ""},
		{"not sampled, new sender", 0x100, "", false, ""},
		{"flags field unset: exported, so sampled", 0, "", true, ""},
		{"high bits ignored", 0xfff00001, "", true, ""},
		{"trace state kept", 1, "vendor=abc,other=1", true, "vendor=abc,other=1"},
		{"invalid trace state left out", 1, "not a trace state!", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := convertOne(t, func(s ptrace.Span) {
				s.SetFlags(tt.flags)
				s.TraceState().FromRaw(tt.traceState)
			})
			if s.SpanContext().IsSampled() != tt.wantSampled {
				t.Errorf("sampled = %v", s.SpanContext().IsSampled())
			}
			if got := s.SpanContext().TraceState().String(); got != tt.wantState {
				t.Errorf("trace state = %q, want %q", got, tt.wantState)
			}
		})
	}
}

func TestKindTimesStatus(t *testing.T) {
	start := time.Date(2026, 12, 2, 9, 0, 0, 123456789, time.UTC)
	end := start.Add(1500 * time.Millisecond)
	kinds := map[ptrace.SpanKind]trace.SpanKind{
		ptrace.SpanKindUnspecified: trace.SpanKindInternal,
		ptrace.SpanKindInternal:    trace.SpanKindInternal,
		ptrace.SpanKindServer:      trace.SpanKindServer,
		ptrace.SpanKindClient:      trace.SpanKindClient,
		ptrace.SpanKindProducer:    trace.SpanKindProducer,
		ptrace.SpanKindConsumer:    trace.SpanKindConsumer,
		ptrace.SpanKind(99):        trace.SpanKindInternal,
	}
	for in, want := range kinds {
		s := convertOne(t, func(s ptrace.Span) { s.SetKind(in) })
		if s.SpanKind() != want {
			t.Errorf("kind %v → %v, want %v", in, s.SpanKind(), want)
		}
	}
	s := convertOne(t, func(s ptrace.Span) {
		s.SetName("load")
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
		s.Status().SetCode(ptrace.StatusCodeError)
		s.Status().SetMessage("disk full")
		s.SetDroppedAttributesCount(3)
		s.SetDroppedEventsCount(4)
		s.SetDroppedLinksCount(5)
	})
	if s.Name() != "load" || !s.StartTime().Equal(start) || !s.EndTime().Equal(end) {
		t.Errorf("name %q start %v end %v", s.Name(), s.StartTime(), s.EndTime())
	}
	if s.Status() != (sdktrace.Status{Code: codes.Error, Description: "disk full"}) {
		t.Errorf("status = %+v", s.Status())
	}
	if s.DroppedAttributes() != 3 || s.DroppedEvents() != 4 || s.DroppedLinks() != 5 {
		t.Errorf("dropped = %d %d %d", s.DroppedAttributes(), s.DroppedEvents(), s.DroppedLinks())
	}
	for code, want := range map[ptrace.StatusCode]codes.Code{
		ptrace.StatusCodeUnset: codes.Unset, ptrace.StatusCodeOk: codes.Ok, 7: codes.Unset,
	} {
		s := convertOne(t, func(s ptrace.Span) { s.Status().SetCode(code) })
		if s.Status().Code != want {
			t.Errorf("status %v → %v", code, s.Status().Code)
		}
	}
	unset := convertOne(t, nil)
	if !unset.StartTime().IsZero() || !unset.EndTime().IsZero() {
		t.Errorf("unset times = %v, %v; want zero", unset.StartTime(), unset.EndTime())
	}
	huge := convertOne(t, func(s ptrace.Span) { s.SetEndTimestamp(math.MaxUint64) })
	if huge.EndTime().UnixNano() != math.MaxInt64 {
		t.Errorf("huge end time = %v", huge.EndTime())
	}
}

// value builds a pcommon.Value with fill.
func value(fill func(pcommon.Value)) pcommon.Value {
	v := pcommon.NewValueEmpty()
	fill(v)
	return v
}

func TestAttributeValues(t *testing.T) {
	tests := []struct {
		name string
		in   func(pcommon.Value)
		want attribute.Value
	}{
		{"string", func(v pcommon.Value) { v.SetStr("x") }, attribute.StringValue("x")},
		{"bool", func(v pcommon.Value) { v.SetBool(true) }, attribute.BoolValue(true)},
		{"int", func(v pcommon.Value) { v.SetInt(-7) }, attribute.Int64Value(-7)},
		{"double", func(v pcommon.Value) { v.SetDouble(2.5) }, attribute.Float64Value(2.5)},
		{"bytes → base64", func(v pcommon.Value) { v.SetEmptyBytes().FromRaw([]byte{0xff, 0, 1}) }, attribute.StringValue("/wAB")},
		{"string array", func(v pcommon.Value) { v.SetEmptySlice().FromRaw([]any{"a", "b"}) }, attribute.StringSliceValue([]string{"a", "b"})},
		{"bool array", func(v pcommon.Value) { v.SetEmptySlice().FromRaw([]any{true, false}) }, attribute.BoolSliceValue([]bool{true, false})},
		{"int array", func(v pcommon.Value) { v.SetEmptySlice().FromRaw([]any{1, 2}) }, attribute.Int64SliceValue([]int64{1, 2})},
		{"double array", func(v pcommon.Value) { v.SetEmptySlice().FromRaw([]any{1.5, 2.0}) }, attribute.Float64SliceValue([]float64{1.5, 2})},
		{"empty array", func(v pcommon.Value) { v.SetEmptySlice() }, attribute.StringSliceValue(nil)},
		{"mixed array → JSON", func(v pcommon.Value) { v.SetEmptySlice().FromRaw([]any{1, "a", math.NaN(), nil}) }, attribute.StringValue(`[1,"a","NaN",null]`)},
		{"ints then a double → JSON", func(v pcommon.Value) { v.SetEmptySlice().FromRaw([]any{1, 2.5}) }, attribute.StringValue(`[1,2.5]`)},
		{"nested array → JSON", func(v pcommon.Value) { v.SetEmptySlice().FromRaw([]any{[]any{1}, []any{}}) }, attribute.StringValue(`[[1],[]]`)},
		{"kvlist → JSON object in order", func(v pcommon.Value) {
			m := v.SetEmptyMap()
			m.PutInt("z", 1)
			m.PutEmptySlice("a").FromRaw([]any{"q", false})
			m.PutEmptyBytes("b").FromRaw([]byte("hi"))
			m.PutDouble("in\"f", math.Inf(-1))
			m.PutStr("html", "<&>")
			m.PutDouble("big", 1e21)
		}, attribute.StringValue(`{"z":1,"a":["q",false],"b":"aGk=","in\"f":"-Inf","html":"\u003c\u0026\u003e","big":1e+21}`)},
		{"empty kvlist", func(v pcommon.Value) { v.SetEmptyMap() }, attribute.StringValue(`{}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := convertOne(t, func(s ptrace.Span) { value(tt.in).CopyTo(s.Attributes().PutEmpty("k")) })
			attrs := s.Attributes()
			if len(attrs) != 1 || attrs[0].Key != "k" {
				t.Fatalf("attributes = %v", attrs)
			}
			if got := attrs[0].Value; got.Type() != tt.want.Type() || got.String() != tt.want.String() {
				t.Errorf("value = %s %s, want %s %s", got.Type(), got.String(), tt.want.Type(), tt.want.String())
			}
		})
	}
}

func TestAttributesOrderAndEmpty(t *testing.T) {
	s := convertOne(t, func(s ptrace.Span) {
		s.SetDroppedAttributesCount(1)
		a := s.Attributes()
		a.PutStr("b", "1")
		a.PutEmpty("empty")
		a.PutStr("", "nokey")
		a.PutStr("a", "2")
	})
	attrs := s.Attributes()
	if len(attrs) != 2 || attrs[0].Key != "b" || attrs[1].Key != "a" {
		t.Errorf("attributes = %v", attrs)
	}
	if s.DroppedAttributes() != 1+2 {
		t.Errorf("dropped attributes = %d, want 3", s.DroppedAttributes())
	}
}

func TestDeepNestingIsBounded(t *testing.T) {
	s := convertOne(t, func(s ptrace.Span) {
		v := s.Attributes().PutEmptySlice("deep")
		for range 200 {
			next := v.AppendEmpty().SetEmptySlice()
			v.AppendEmpty().SetStr("x")
			v = next
		}
		v.AppendEmpty().SetInt(1)
	})
	got := s.Attributes()[0].Value.AsString()
	if len(got) == 0 || got[0] != '[' {
		t.Errorf("deep value = %.40q", got)
	}
}

func TestEventsAndLinks(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 1, 0, 0, time.UTC)
	s := convertOne(t, func(s ptrace.Span) {
		s.SetDroppedLinksCount(1)
		e := s.Events().AppendEmpty()
		e.SetName("exception")
		e.SetTimestamp(pcommon.NewTimestampFromTime(at))
		e.SetDroppedAttributesCount(2)
		e.Attributes().PutStr("exception.message", "boom")
		e.Attributes().PutEmpty("none")

		l := s.Links().AppendEmpty()
		l.SetSpanID(sid) // zero trace id: left out
		l = s.Links().AppendEmpty()
		l.SetTraceID(tid)
		l.SetSpanID(psid)
		l.TraceState().FromRaw("k=v")
		l.SetFlags(0x301)
		l.SetDroppedAttributesCount(1)
		l.Attributes().PutStr("why", "fan-in")
		l = s.Links().AppendEmpty()
		l.SetTraceID(tid) // zero span id: left out
	})
	evs := s.Events()
	if len(evs) != 1 || evs[0].Name != "exception" || !evs[0].Time.Equal(at) || evs[0].DroppedAttributeCount != 3 {
		t.Fatalf("events = %+v", evs)
	}
	if len(evs[0].Attributes) != 1 || evs[0].Attributes[0] != attribute.String("exception.message", "boom") {
		t.Errorf("event attributes = %v", evs[0].Attributes)
	}
	links := s.Links()
	if len(links) != 1 {
		t.Fatalf("links = %+v", links)
	}
	l := links[0]
	if got := l.SpanContext.SpanID(); got != trace.SpanID(psid) || !l.SpanContext.IsRemote() || !l.SpanContext.IsSampled() ||
		l.SpanContext.TraceState().String() != "k=v" || l.DroppedAttributeCount != 1 || l.Attributes[0] != attribute.String("why", "fan-in") {
		t.Errorf("link = %+v", l)
	}
	if s.DroppedLinks() != 1+2 {
		t.Errorf("dropped links = %d, want 3", s.DroppedLinks())
	}
}

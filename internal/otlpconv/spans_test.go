package otlpconv

import (
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	tid    = []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	sid    = []byte{1, 1, 1, 1, 1, 1, 1, 1}
	psid   = []byte{2, 2, 2, 2, 2, 2, 2, 2}
	zero8  = make([]byte, 8)
	zero16 = make([]byte, 16)
)

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func kv(k string, v *commonpb.AnyValue) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: v}
}
func sv(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}
func iv(n int64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: n}}
}
func dv(d float64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: d}}
}
func bv(b bool) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: b}}
}
func arr(vs ...*commonpb.AnyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
}
func kvl(kvs ...*commonpb.KeyValue) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: kvs}}}
}

func one(s *tracepb.Span) []*tracepb.ResourceSpans {
	return []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{s}}}}}
}

func convertOne(t *testing.T, s *tracepb.Span) sdktrace.ReadOnlySpan {
	t.Helper()
	spans, rejected := Spans(one(s))
	if rejected != 0 || len(spans) != 1 {
		t.Fatalf("got %d spans, %d rejected; want 1, 0", len(spans), rejected)
	}
	return spans[0]
}

func TestResourceAndScope(t *testing.T) {
	rss := []*tracepb.ResourceSpans{{
		Resource:  &resourcepb.Resource{Attributes: []*commonpb.KeyValue{str("service.name", "etl")}},
		SchemaUrl: "https://opentelemetry.io/schemas/1.26.0",
		ScopeSpans: []*tracepb.ScopeSpans{{
			Scope:     &commonpb.InstrumentationScope{Name: "node-app", Version: "1.2.3", Attributes: []*commonpb.KeyValue{str("lib", "x")}},
			SchemaUrl: "https://example.com/scope",
			Spans:     []*tracepb.Span{{TraceId: tid, SpanId: sid, Name: "a"}, {TraceId: tid, SpanId: psid, Name: "b"}},
		}},
	}}
	spans, rejected := Spans(rss)
	if rejected != 0 || len(spans) != 2 {
		t.Fatalf("got %d spans, %d rejected", len(spans), rejected)
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
		name       string
		span       *tracepb.Span
		wantOK     bool
		wantParent bool
		wantRemote bool
	}{
		{"root, no parent", &tracepb.Span{TraceId: tid, SpanId: sid}, true, false, false},
		{"all-zero parent is a root", &tracepb.Span{TraceId: tid, SpanId: sid, ParentSpanId: zero8}, true, false, false},
		{"child", &tracepb.Span{TraceId: tid, SpanId: sid, ParentSpanId: psid, Flags: 0x101}, true, true, false},
		{"child of a remote parent", &tracepb.Span{TraceId: tid, SpanId: sid, ParentSpanId: psid, Flags: 0x301}, true, true, true},
		{"is-remote bit without has-is-remote is ignored", &tracepb.Span{TraceId: tid, SpanId: sid, ParentSpanId: psid, Flags: 0x201}, true, true, false},
		{"no trace id", &tracepb.Span{SpanId: sid}, false, false, false},
		{"zero trace id", &tracepb.Span{TraceId: zero16, SpanId: sid}, false, false, false},
		{"short trace id", &tracepb.Span{TraceId: tid[:15], SpanId: sid}, false, false, false},
		{"no span id", &tracepb.Span{TraceId: tid}, false, false, false},
		{"zero span id", &tracepb.Span{TraceId: tid, SpanId: zero8}, false, false, false},
		{"long span id", &tracepb.Span{TraceId: tid, SpanId: tid}, false, false, false},
		{"bad parent length", &tracepb.Span{TraceId: tid, SpanId: sid, ParentSpanId: []byte{1, 2, 3}}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans, rejected := Spans(one(tt.span))
			if !tt.wantOK {
				if rejected != 1 || len(spans) != 0 {
					t.Fatalf("got %d spans, %d rejected; want 0, 1", len(spans), rejected)
				}
				return
			}
			if rejected != 0 || len(spans) != 1 {
				t.Fatalf("got %d spans, %d rejected; want 1, 0", len(spans), rejected)
			}
			s := spans[0]
			if got := s.SpanContext().TraceID(); string(got[:]) != string(tid) {
				t.Errorf("trace id = %s", got)
			}
			if got := s.SpanContext().SpanID(); string(got[:]) != string(sid) {
				t.Errorf("span id = %s", got)
			}
			if s.Parent().IsValid() != tt.wantParent {
				t.Fatalf("parent valid = %v, want %v", s.Parent().IsValid(), tt.wantParent)
			}
			if tt.wantParent {
				if got := s.Parent().SpanID(); string(got[:]) != string(psid) {
					t.Errorf("parent span id = %s", got)
				}
				if s.Parent().TraceID() != s.SpanContext().TraceID() {
					t.Errorf("parent trace id = %s", s.Parent().TraceID())
				}
				if s.Parent().IsRemote() != tt.wantRemote {
					t.Errorf("parent remote = %v, want %v", s.Parent().IsRemote(), tt.wantRemote)
				}
			}
		})
	}
}

func TestRejectedAreCountedAmongGood(t *testing.T) {
	rss := []*tracepb.ResourceSpans{nil, {ScopeSpans: []*tracepb.ScopeSpans{nil, {Spans: []*tracepb.Span{
		nil, {TraceId: tid, SpanId: sid}, {TraceId: zero16, SpanId: sid}, {TraceId: tid, SpanId: psid}, {SpanId: sid},
	}}}}}
	spans, rejected := Spans(rss)
	if len(spans) != 2 || rejected != 2 {
		t.Fatalf("got %d spans, %d rejected; want 2, 2", len(spans), rejected)
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
			s := convertOne(t, &tracepb.Span{TraceId: tid, SpanId: sid, Flags: tt.flags, TraceState: tt.traceState})
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
	kinds := map[tracepb.Span_SpanKind]trace.SpanKind{
		tracepb.Span_SPAN_KIND_UNSPECIFIED: trace.SpanKindInternal,
		tracepb.Span_SPAN_KIND_INTERNAL:    trace.SpanKindInternal,
		tracepb.Span_SPAN_KIND_SERVER:      trace.SpanKindServer,
		tracepb.Span_SPAN_KIND_CLIENT:      trace.SpanKindClient,
		tracepb.Span_SPAN_KIND_PRODUCER:    trace.SpanKindProducer,
		tracepb.Span_SPAN_KIND_CONSUMER:    trace.SpanKindConsumer,
		tracepb.Span_SpanKind(99):          trace.SpanKindInternal,
	}
	for in, want := range kinds {
		s := convertOne(t, &tracepb.Span{TraceId: tid, SpanId: sid, Kind: in})
		if s.SpanKind() != want {
			t.Errorf("kind %v → %v, want %v", in, s.SpanKind(), want)
		}
	}
	s := convertOne(t, &tracepb.Span{
		TraceId: tid, SpanId: sid, Name: "load",
		StartTimeUnixNano: uint64(start.UnixNano()), EndTimeUnixNano: uint64(end.UnixNano()),
		Status:                 &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "disk full"},
		DroppedAttributesCount: 3, DroppedEventsCount: 4, DroppedLinksCount: 5,
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
	for code, want := range map[tracepb.Status_StatusCode]codes.Code{
		tracepb.Status_STATUS_CODE_UNSET: codes.Unset, tracepb.Status_STATUS_CODE_OK: codes.Ok, 7: codes.Unset,
	} {
		s := convertOne(t, &tracepb.Span{TraceId: tid, SpanId: sid, Status: &tracepb.Status{Code: code}})
		if s.Status().Code != want {
			t.Errorf("status %v → %v", code, s.Status().Code)
		}
	}
	unset := convertOne(t, &tracepb.Span{TraceId: tid, SpanId: sid})
	if !unset.StartTime().IsZero() || !unset.EndTime().IsZero() {
		t.Errorf("unset times = %v, %v; want zero", unset.StartTime(), unset.EndTime())
	}
	huge := convertOne(t, &tracepb.Span{TraceId: tid, SpanId: sid, EndTimeUnixNano: math.MaxUint64})
	if huge.EndTime().UnixNano() != math.MaxInt64 {
		t.Errorf("huge end time = %v", huge.EndTime())
	}
}

func TestAttributeValues(t *testing.T) {
	tests := []struct {
		name string
		in   *commonpb.AnyValue
		want attribute.Value
	}{
		{"string", sv("x"), attribute.StringValue("x")},
		{"bool", bv(true), attribute.BoolValue(true)},
		{"int", iv(-7), attribute.Int64Value(-7)},
		{"double", dv(2.5), attribute.Float64Value(2.5)},
		{"bytes → base64", &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{0xff, 0, 1}}}, attribute.StringValue("/wAB")},
		{"string array", arr(sv("a"), sv("b")), attribute.StringSliceValue([]string{"a", "b"})},
		{"bool array", arr(bv(true), bv(false)), attribute.BoolSliceValue([]bool{true, false})},
		{"int array", arr(iv(1), iv(2)), attribute.Int64SliceValue([]int64{1, 2})},
		{"double array", arr(dv(1.5), dv(2)), attribute.Float64SliceValue([]float64{1.5, 2})},
		{"empty array", arr(), attribute.StringSliceValue(nil)},
		{"mixed array → JSON", arr(iv(1), sv("a"), dv(math.NaN()), &commonpb.AnyValue{}), attribute.StringValue(`[1,"a","NaN",null]`)},
		{"ints then a double → JSON", arr(iv(1), dv(2.5)), attribute.StringValue(`[1,2.5]`)},
		{"nested array → JSON", arr(arr(iv(1)), arr()), attribute.StringValue(`[[1],[]]`)},
		{"kvlist → JSON object in order", kvl(kv("z", iv(1)), kv("a", arr(sv("q"), bv(false))), kv("b", &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte("hi")}}), kv("in\"f", dv(math.Inf(-1)))),
			attribute.StringValue(`{"z":1,"a":["q",false],"b":"aGk=","in\"f":"-Inf"}`)},
		{"empty kvlist", kvl(), attribute.StringValue(`{}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := convertOne(t, &tracepb.Span{TraceId: tid, SpanId: sid, Attributes: []*commonpb.KeyValue{kv("k", tt.in)}})
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
	s := convertOne(t, &tracepb.Span{TraceId: tid, SpanId: sid, DroppedAttributesCount: 1, Attributes: []*commonpb.KeyValue{
		str("b", "1"), kv("empty", &commonpb.AnyValue{}), kv("nil", nil), nil, str("", "nokey"), str("a", "2"),
	}})
	attrs := s.Attributes()
	if len(attrs) != 2 || attrs[0].Key != "b" || attrs[1].Key != "a" {
		t.Errorf("attributes = %v", attrs)
	}
	if s.DroppedAttributes() != 1+4 {
		t.Errorf("dropped attributes = %d, want 5", s.DroppedAttributes())
	}
}

func TestDeepNestingIsBounded(t *testing.T) {
	v := iv(1)
	for range 200 {
		v = arr(v, sv("x"))
	}
	s := convertOne(t, &tracepb.Span{TraceId: tid, SpanId: sid, Attributes: []*commonpb.KeyValue{kv("deep", v)}})
	if got := s.Attributes()[0].Value.AsString(); len(got) == 0 || got[0] != '[' {
		t.Errorf("deep value = %.40q", got)
	}
}

func TestEventsAndLinks(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 1, 0, 0, time.UTC)
	s := convertOne(t, &tracepb.Span{
		TraceId: tid, SpanId: sid, DroppedLinksCount: 1,
		Events: []*tracepb.Span_Event{nil, {
			Name: "exception", TimeUnixNano: uint64(at.UnixNano()), DroppedAttributesCount: 2,
			Attributes: []*commonpb.KeyValue{str("exception.message", "boom")},
		}},
		Links: []*tracepb.Span_Link{
			{TraceId: zero16, SpanId: sid},
			{TraceId: tid, SpanId: psid, TraceState: "k=v", Flags: 0x301, DroppedAttributesCount: 1, Attributes: []*commonpb.KeyValue{str("why", "fan-in")}},
			{TraceId: tid},
		},
	})
	evs := s.Events()
	if len(evs) != 1 || evs[0].Name != "exception" || !evs[0].Time.Equal(at) || evs[0].DroppedAttributeCount != 2 {
		t.Fatalf("events = %+v", evs)
	}
	if evs[0].Attributes[0] != attribute.String("exception.message", "boom") {
		t.Errorf("event attributes = %v", evs[0].Attributes)
	}
	links := s.Links()
	if len(links) != 1 {
		t.Fatalf("links = %+v", links)
	}
	l := links[0]
	if got := l.SpanContext.SpanID(); string(got[:]) != string(psid) || !l.SpanContext.IsRemote() || !l.SpanContext.IsSampled() ||
		l.SpanContext.TraceState().String() != "k=v" || l.DroppedAttributeCount != 1 || l.Attributes[0] != attribute.String("why", "fan-in") {
		t.Errorf("link = %+v", l)
	}
	if s.DroppedLinks() != 1+2 {
		t.Errorf("dropped links = %d, want 3", s.DroppedLinks())
	}
}

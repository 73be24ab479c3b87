package otlpconv

import (
	"math"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// OTLP span flag bits above the W3C trace flags (trace/v1 SpanFlags).
const (
	flagsTraceFlagsMask = 0xff
	flagsHasIsRemote    = 0x100
	flagsIsRemote       = 0x200
)

// Spans converts the spans of rss, in order. rejected counts the spans left
// out for invalid ids. Nil entries anywhere are skipped. It is a pure
// function, safe for concurrent use; it does not retain rss.
func Spans(rss []*tracepb.ResourceSpans) (spans []sdktrace.ReadOnlySpan, rejected int) {
	for _, rs := range rss {
		if rs == nil {
			continue
		}
		res := toResource(rs.GetResource(), rs.GetSchemaUrl())
		for _, ss := range rs.GetScopeSpans() {
			if ss == nil {
				continue
			}
			scope := toScope(ss)
			for _, s := range ss.GetSpans() {
				if s == nil {
					continue
				}
				stub, ok := toStub(s)
				if !ok {
					rejected++
					continue
				}
				stub.Resource = res
				stub.InstrumentationScope = scope
				spans = append(spans, stub.Snapshot())
			}
		}
	}
	return spans, rejected
}

func toResource(r *resourcepb.Resource, schemaURL string) *resource.Resource {
	attrs, _ := toAttributes(r.GetAttributes())
	return resource.NewWithAttributes(schemaURL, attrs...)
}

func toScope(ss *tracepb.ScopeSpans) instrumentation.Scope {
	sc := ss.GetScope()
	attrs, _ := toAttributes(sc.GetAttributes())
	return instrumentation.Scope{
		Name:       sc.GetName(),
		Version:    sc.GetVersion(),
		SchemaURL:  ss.GetSchemaUrl(),
		Attributes: attribute.NewSet(attrs...),
	}
}

// toStub converts one span; ok is false when its ids are invalid.
func toStub(s *tracepb.Span) (stub tracetest.SpanStub, ok bool) {
	tid, ok := traceID(s.GetTraceId())
	if !ok {
		return stub, false
	}
	sid, ok := spanID(s.GetSpanId())
	if !ok {
		return stub, false
	}
	flags := traceFlags(s.GetFlags())
	stub.SpanContext = trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    tid,
		SpanID:     sid,
		TraceFlags: flags,
		TraceState: traceState(s.GetTraceState()),
	})
	switch p := s.GetParentSpanId(); {
	case len(p) == 0 || (len(p) == 8 && allZero(p)):
		// A root span.
	case len(p) == 8:
		var psid trace.SpanID
		copy(psid[:], p)
		stub.Parent = trace.NewSpanContext(trace.SpanContextConfig{
			TraceID:    tid,
			SpanID:     psid,
			TraceFlags: flags,
			Remote:     s.GetFlags()&flagsHasIsRemote != 0 && s.GetFlags()&flagsIsRemote != 0,
		})
	default:
		return stub, false
	}

	stub.Name = s.GetName()
	stub.SpanKind = trace.ValidateSpanKind(trace.SpanKind(s.GetKind()))
	stub.StartTime = toTime(s.GetStartTimeUnixNano())
	stub.EndTime = toTime(s.GetEndTimeUnixNano())
	var dropped int
	stub.Attributes, dropped = toAttributes(s.GetAttributes())
	stub.DroppedAttributes = int(s.GetDroppedAttributesCount()) + dropped
	stub.Events = toEvents(s.GetEvents())
	stub.DroppedEvents = int(s.GetDroppedEventsCount())
	var droppedLinks int
	stub.Links, droppedLinks = toLinks(s.GetLinks())
	stub.DroppedLinks = int(s.GetDroppedLinksCount()) + droppedLinks
	stub.Status = toStatus(s.GetStatus())
	return stub, true
}

func traceID(b []byte) (trace.TraceID, bool) {
	var id trace.TraceID
	if len(b) != len(id) {
		return id, false
	}
	copy(id[:], b)
	return id, id.IsValid()
}

func spanID(b []byte) (trace.SpanID, bool) {
	var id trace.SpanID
	if len(b) != len(id) {
		return id, false
	}
	copy(id[:], b)
	return id, id.IsValid()
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// traceFlags: see the package doc for why a zero flags field means sampled.
func traceFlags(f uint32) trace.TraceFlags {
	if f == 0 {
		return trace.FlagsSampled
	}
	return trace.TraceFlags(f & flagsTraceFlagsMask)
}

func traceState(s string) trace.TraceState {
	ts, err := trace.ParseTraceState(s)
	if err != nil {
		return trace.TraceState{}
	}
	return ts
}

// toTime maps 0 to the zero time (unset) and clamps values past int64.
func toTime(n uint64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	if n > math.MaxInt64 {
		n = math.MaxInt64
	}
	return time.Unix(0, int64(n))
}

func toEvents(evs []*tracepb.Span_Event) []sdktrace.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]sdktrace.Event, 0, len(evs))
	for _, e := range evs {
		if e == nil {
			continue
		}
		attrs, dropped := toAttributes(e.GetAttributes())
		out = append(out, sdktrace.Event{
			Name:                  e.GetName(),
			Attributes:            attrs,
			DroppedAttributeCount: int(e.GetDroppedAttributesCount()) + dropped,
			Time:                  toTime(e.GetTimeUnixNano()),
		})
	}
	return out
}

// toLinks returns the valid links and how many were left out.
func toLinks(ls []*tracepb.Span_Link) (links []sdktrace.Link, dropped int) {
	for _, l := range ls {
		if l == nil {
			continue
		}
		tid, ok1 := traceID(l.GetTraceId())
		sid, ok2 := spanID(l.GetSpanId())
		if !ok1 || !ok2 {
			dropped++
			continue
		}
		attrs, da := toAttributes(l.GetAttributes())
		links = append(links, sdktrace.Link{
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
				TraceID:    tid,
				SpanID:     sid,
				TraceFlags: traceFlags(l.GetFlags()),
				TraceState: traceState(l.GetTraceState()),
				Remote:     l.GetFlags()&flagsHasIsRemote != 0 && l.GetFlags()&flagsIsRemote != 0,
			}),
			Attributes:            attrs,
			DroppedAttributeCount: int(l.GetDroppedAttributesCount()) + da,
		})
	}
	return links, dropped
}

func toStatus(st *tracepb.Status) sdktrace.Status {
	switch st.GetCode() {
	case tracepb.Status_STATUS_CODE_OK:
		return sdktrace.Status{Code: codes.Ok, Description: st.GetMessage()}
	case tracepb.Status_STATUS_CODE_ERROR:
		return sdktrace.Status{Code: codes.Error, Description: st.GetMessage()}
	default:
		return sdktrace.Status{Code: codes.Unset, Description: st.GetMessage()}
	}
}

package otlpspans

import (
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// OTLP span flag bits above the W3C trace flags (trace/v1 SpanFlags).
const (
	flagsTraceFlagsMask = 0xff
	flagsHasIsRemote    = 0x100
	flagsIsRemote       = 0x200
)

// Rejected counts the spans [FromTraces] left out, by reason. The zero
// value is none. It is a plain value, safe to copy and share.
type Rejected struct {
	TraceID int // spans whose trace id is all zero
	SpanID  int // spans whose span id is all zero (and trace id is not)
}

// Total is the number of spans left out.
func (r Rejected) Total() int { return r.TraceID + r.SpanID }

// String says why spans were left out, for a log line or a partial-success
// message: "2 spans with an invalid (all-zero) trace id"; "" for none.
func (r Rejected) String() string {
	var why []string
	if r.TraceID > 0 {
		why = append(why, fmt.Sprintf("%s with an invalid (all-zero) trace id", spans(r.TraceID)))
	}
	if r.SpanID > 0 {
		why = append(why, fmt.Sprintf("%s with an invalid (all-zero) span id", spans(r.SpanID)))
	}
	return strings.Join(why, " and ")
}

func spans(n int) string {
	if n == 1 {
		return "1 span"
	}
	return fmt.Sprintf("%d spans", n)
}

// FromTraces converts the spans of td, in order, leaving out (and
// counting) those with invalid ids. It is a pure function, safe for
// concurrent use as long as nobody modifies td meanwhile; it neither
// modifies nor retains td.
func FromTraces(td ptrace.Traces) (out []sdktrace.ReadOnlySpan, rejected Rejected) {
	out = make([]sdktrace.ReadOnlySpan, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		attrs, _ := toAttributes(rs.Resource().Attributes())
		res := resource.NewWithAttributes(rs.SchemaUrl(), attrs...)
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			ss := sss.At(j)
			scope := toScope(ss)
			spans := ss.Spans()
			for k := range spans.Len() {
				stub, ok := toStub(spans.At(k), &rejected)
				if !ok {
					continue
				}
				stub.Resource = res
				stub.InstrumentationScope = scope
				out = append(out, stub.Snapshot())
			}
		}
	}
	return out, rejected
}

func toScope(ss ptrace.ScopeSpans) instrumentation.Scope {
	sc := ss.Scope()
	attrs, _ := toAttributes(sc.Attributes())
	return instrumentation.Scope{
		Name:       sc.Name(),
		Version:    sc.Version(),
		SchemaURL:  ss.SchemaUrl(),
		Attributes: attribute.NewSet(attrs...),
	}
}

// toStub converts one span; ok is false, and rejected counts why, when its
// ids are invalid.
func toStub(s ptrace.Span, rejected *Rejected) (stub tracetest.SpanStub, ok bool) {
	tid := trace.TraceID(s.TraceID())
	if !tid.IsValid() {
		rejected.TraceID++
		return stub, false
	}
	sid := trace.SpanID(s.SpanID())
	if !sid.IsValid() {
		rejected.SpanID++
		return stub, false
	}
	flags := traceFlags(s.Flags())
	stub.SpanContext = trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    tid,
		SpanID:     sid,
		TraceFlags: flags,
		TraceState: traceState(s.TraceState()),
	})
	if psid := trace.SpanID(s.ParentSpanID()); psid.IsValid() {
		stub.Parent = trace.NewSpanContext(trace.SpanContextConfig{
			TraceID:    tid,
			SpanID:     psid,
			TraceFlags: flags,
			Remote:     isRemote(s.Flags()),
		})
	}

	stub.Name = s.Name()
	stub.SpanKind = trace.ValidateSpanKind(trace.SpanKind(s.Kind()))
	stub.StartTime = toTime(s.StartTimestamp())
	stub.EndTime = toTime(s.EndTimestamp())
	var dropped int
	stub.Attributes, dropped = toAttributes(s.Attributes())
	stub.DroppedAttributes = int(s.DroppedAttributesCount()) + dropped
	stub.Events = toEvents(s.Events())
	stub.DroppedEvents = int(s.DroppedEventsCount())
	var droppedLinks int
	stub.Links, droppedLinks = toLinks(s.Links())
	stub.DroppedLinks = int(s.DroppedLinksCount()) + droppedLinks
	stub.Status = toStatus(s.Status())
	return stub, true
}

// traceFlags: see the package doc for why a zero flags field means sampled.
func traceFlags(f uint32) trace.TraceFlags {
	if f == 0 {
		return trace.FlagsSampled
	}
	return trace.TraceFlags(f & flagsTraceFlagsMask)
}

func isRemote(f uint32) bool {
	return f&flagsHasIsRemote != 0 && f&flagsIsRemote != 0
}

func traceState(s pcommon.TraceState) trace.TraceState {
	raw := s.AsRaw()
	if raw == "" {
		return trace.TraceState{}
	}
	ts, err := trace.ParseTraceState(raw)
	if err != nil {
		return trace.TraceState{}
	}
	return ts
}

// toTime maps 0 to the zero time (unset) and clamps values past int64.
func toTime(ts pcommon.Timestamp) time.Time {
	n := uint64(ts)
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(min(n, 1<<63-1)))
}

func toEvents(evs ptrace.SpanEventSlice) []sdktrace.Event {
	if evs.Len() == 0 {
		return nil
	}
	out := make([]sdktrace.Event, 0, evs.Len())
	for i := range evs.Len() {
		e := evs.At(i)
		attrs, dropped := toAttributes(e.Attributes())
		out = append(out, sdktrace.Event{
			Name:                  e.Name(),
			Attributes:            attrs,
			DroppedAttributeCount: int(e.DroppedAttributesCount()) + dropped,
			Time:                  toTime(e.Timestamp()),
		})
	}
	return out
}

// toLinks returns the valid links and how many were left out.
func toLinks(ls ptrace.SpanLinkSlice) (links []sdktrace.Link, dropped int) {
	for i := range ls.Len() {
		l := ls.At(i)
		tid, sid := trace.TraceID(l.TraceID()), trace.SpanID(l.SpanID())
		if !tid.IsValid() || !sid.IsValid() {
			dropped++
			continue
		}
		attrs, da := toAttributes(l.Attributes())
		links = append(links, sdktrace.Link{
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
				TraceID:    tid,
				SpanID:     sid,
				TraceFlags: traceFlags(l.Flags()),
				TraceState: traceState(l.TraceState()),
				Remote:     isRemote(l.Flags()),
			}),
			Attributes:            attrs,
			DroppedAttributeCount: int(l.DroppedAttributesCount()) + da,
		})
	}
	return links, dropped
}

func toStatus(st ptrace.Status) sdktrace.Status {
	switch st.Code() {
	case ptrace.StatusCodeOk:
		return sdktrace.Status{Code: codes.Ok, Description: st.Message()}
	case ptrace.StatusCodeError:
		return sdktrace.Status{Code: codes.Error, Description: st.Message()}
	default:
		return sdktrace.Status{Code: codes.Unset, Description: st.Message()}
	}
}

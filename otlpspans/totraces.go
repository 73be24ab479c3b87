package otlpspans

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// ToTraces converts SDK spans into OTLP trace data, the inverse of
// [FromTraces]: ToTraces then FromTraces gives back the same spans (ids,
// parents, names, kinds, times, attributes, events, links, status, resource
// and scope). Spans of one resource and scope share their ResourceSpans and
// ScopeSpans. It is pure and safe for concurrent use; it does not retain
// spans.
//
// stagetrack keeps the spans an export failed to deliver as OTLP/JSON made
// from this, and sends them again from there.
func ToTraces(spans []sdktrace.ReadOnlySpan) ptrace.Traces {
	td := ptrace.NewTraces()
	type scopeKey struct {
		res   attribute.Distinct
		url   string
		scope string
		ver   string
	}
	resIdx := map[attribute.Distinct]ptrace.ResourceSpans{}
	scopes := map[scopeKey]ptrace.ScopeSpans{}
	for _, s := range spans {
		res := s.Resource()
		var rk attribute.Distinct
		if res != nil {
			rk = res.Equivalent()
		}
		rs, ok := resIdx[rk]
		if !ok {
			rs = td.ResourceSpans().AppendEmpty()
			if res != nil {
				rs.SetSchemaUrl(res.SchemaURL())
				putAttributes(rs.Resource().Attributes(), res.Attributes())
			}
			resIdx[rk] = rs
		}
		sc := s.InstrumentationScope()
		sk := scopeKey{res: rk, url: sc.SchemaURL, scope: sc.Name, ver: sc.Version}
		ss, ok := scopes[sk]
		if !ok {
			ss = rs.ScopeSpans().AppendEmpty()
			ss.SetSchemaUrl(sc.SchemaURL)
			ss.Scope().SetName(sc.Name)
			ss.Scope().SetVersion(sc.Version)
			putAttributes(ss.Scope().Attributes(), sc.Attributes.ToSlice())
			scopes[sk] = ss
		}
		putSpan(ss.Spans().AppendEmpty(), s)
	}
	return td
}

func putSpan(p ptrace.Span, s sdktrace.ReadOnlySpan) {
	sc := s.SpanContext()
	p.SetTraceID(pcommon.TraceID(sc.TraceID()))
	p.SetSpanID(pcommon.SpanID(sc.SpanID()))
	p.TraceState().FromRaw(sc.TraceState().String())
	flags := uint32(sc.TraceFlags())
	if parent := s.Parent(); parent.IsValid() {
		p.SetParentSpanID(pcommon.SpanID(parent.SpanID()))
		flags |= flagsHasIsRemote
		if parent.IsRemote() {
			flags |= flagsIsRemote
		}
	}
	p.SetFlags(flags)
	p.SetName(s.Name())
	p.SetKind(ptrace.SpanKind(s.SpanKind()))
	p.SetStartTimestamp(fromTime(s.StartTime()))
	p.SetEndTimestamp(fromTime(s.EndTime()))
	putAttributes(p.Attributes(), s.Attributes())
	p.SetDroppedAttributesCount(uint32(max(s.DroppedAttributes(), 0)))
	for _, e := range s.Events() {
		pe := p.Events().AppendEmpty()
		pe.SetName(e.Name)
		pe.SetTimestamp(fromTime(e.Time))
		putAttributes(pe.Attributes(), e.Attributes)
		pe.SetDroppedAttributesCount(uint32(max(e.DroppedAttributeCount, 0)))
	}
	p.SetDroppedEventsCount(uint32(max(s.DroppedEvents(), 0)))
	for _, l := range s.Links() {
		pl := p.Links().AppendEmpty()
		pl.SetTraceID(pcommon.TraceID(l.SpanContext.TraceID()))
		pl.SetSpanID(pcommon.SpanID(l.SpanContext.SpanID()))
		pl.TraceState().FromRaw(l.SpanContext.TraceState().String())
		lf := uint32(l.SpanContext.TraceFlags()) | flagsHasIsRemote
		if l.SpanContext.IsRemote() {
			lf |= flagsIsRemote
		}
		pl.SetFlags(lf)
		putAttributes(pl.Attributes(), l.Attributes)
		pl.SetDroppedAttributesCount(uint32(max(l.DroppedAttributeCount, 0)))
	}
	p.SetDroppedLinksCount(uint32(max(s.DroppedLinks(), 0)))
	st := s.Status()
	switch st.Code {
	case codes.Ok:
		p.Status().SetCode(ptrace.StatusCodeOk)
	case codes.Error:
		p.Status().SetCode(ptrace.StatusCodeError)
	}
	p.Status().SetMessage(st.Description)
}

// fromTime maps the zero time to 0 (unset).
func fromTime(t time.Time) pcommon.Timestamp {
	if t.IsZero() {
		return 0
	}
	return pcommon.Timestamp(uint64(t.UnixNano()))
}

func putAttributes(m pcommon.Map, attrs []attribute.KeyValue) {
	m.EnsureCapacity(len(attrs))
	for _, kv := range attrs {
		k := string(kv.Key)
		switch kv.Value.Type() {
		case attribute.BOOL:
			m.PutBool(k, kv.Value.AsBool())
		case attribute.INT64:
			m.PutInt(k, kv.Value.AsInt64())
		case attribute.FLOAT64:
			m.PutDouble(k, kv.Value.AsFloat64())
		case attribute.STRING:
			m.PutStr(k, kv.Value.AsString())
		case attribute.BOOLSLICE:
			sl := m.PutEmptySlice(k)
			for _, v := range kv.Value.AsBoolSlice() {
				sl.AppendEmpty().SetBool(v)
			}
		case attribute.INT64SLICE:
			sl := m.PutEmptySlice(k)
			for _, v := range kv.Value.AsInt64Slice() {
				sl.AppendEmpty().SetInt(v)
			}
		case attribute.FLOAT64SLICE:
			sl := m.PutEmptySlice(k)
			for _, v := range kv.Value.AsFloat64Slice() {
				sl.AppendEmpty().SetDouble(v)
			}
		case attribute.STRINGSLICE:
			sl := m.PutEmptySlice(k)
			for _, v := range kv.Value.AsStringSlice() {
				sl.AppendEmpty().SetStr(v)
			}
		default:
			m.PutStr(k, kv.Value.String())
		}
	}
}

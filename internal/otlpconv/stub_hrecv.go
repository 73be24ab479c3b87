// Package otlpconv: a stand-in for hcoll's converter, until it is merged.
// DELETE when main has internal/otlpconv.
package otlpconv

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"time"
)

func Spans(rss []*tracepb.ResourceSpans) (spans []sdktrace.ReadOnlySpan, rejected int) {
	for _, rs := range rss {
		var rattrs []attribute.KeyValue
		for _, kv := range rs.GetResource().GetAttributes() {
			rattrs = append(rattrs, attribute.String(kv.Key, kv.Value.GetStringValue()))
		}
		res := resource.NewSchemaless(rattrs...)
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				if len(s.TraceId) != 16 || len(s.SpanId) != 8 {
					rejected++
					continue
				}
				var st tracetest.SpanStub
				var tid trace.TraceID
				var sid, pid trace.SpanID
				copy(tid[:], s.TraceId)
				copy(sid[:], s.SpanId)
				copy(pid[:], s.ParentSpanId)
				st.Name = s.Name
				st.SpanContext = trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
				if pid.IsValid() {
					st.Parent = trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: pid, TraceFlags: trace.FlagsSampled, Remote: true})
				}
				st.StartTime = time.Unix(0, int64(s.StartTimeUnixNano))
				st.EndTime = time.Unix(0, int64(s.EndTimeUnixNano))
				for _, kv := range s.Attributes {
					switch kv.Value.Value.(type) {
					case *commonpb.AnyValue_IntValue:
						st.Attributes = append(st.Attributes, attribute.Int64(kv.Key, kv.Value.GetIntValue()))
					default:
						st.Attributes = append(st.Attributes, attribute.String(kv.Key, kv.Value.GetStringValue()))
					}
				}
				if s.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
					st.Status = sdktrace.Status{Code: codes.Error, Description: s.Status.GetMessage()}
				}
				st.Resource = res
				st.InstrumentationScope = instrumentation.Scope{Name: ss.GetScope().GetName()}
				spans = append(spans, st.Snapshot())
			}
		}
	}
	return spans, rejected
}

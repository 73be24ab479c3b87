package otlpconv

import (
	"encoding/json"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// FuzzSpans feeds arbitrary OTLP TracesData: conversion must not panic, must
// account for every span (converted or rejected), and every JSON-spelt value
// must be valid JSON.
func FuzzSpans(f *testing.F) {
	seeds := []*tracepb.TracesData{
		{ResourceSpans: one(&tracepb.Span{TraceId: tid, SpanId: sid, ParentSpanId: psid, Flags: 0x301,
			Attributes: []*commonpb.KeyValue{kv("m", arr(iv(1), sv("a"))), kv("o", kvl(kv("k", dv(1))))},
			Events:     []*tracepb.Span_Event{{Name: "e"}},
			Links:      []*tracepb.Span_Link{{TraceId: tid, SpanId: psid}},
			Status:     &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "x"}})},
		{ResourceSpans: one(&tracepb.Span{TraceId: zero16, SpanId: sid})},
	}
	for _, s := range seeds {
		b, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var td tracepb.TracesData
		if proto.Unmarshal(b, &td) != nil {
			return
		}
		total := 0
		for _, rs := range td.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					if s != nil {
						total++
					}
				}
			}
		}
		spans, rejected := Spans(td.GetResourceSpans())
		if len(spans)+rejected != total {
			t.Fatalf("%d spans + %d rejected != %d sent", len(spans), rejected, total)
		}
		for _, s := range spans {
			if !s.SpanContext().IsValid() {
				t.Fatalf("invalid span context %v", s.SpanContext())
			}
			for _, a := range s.Attributes() {
				if v := a.Value.AsString(); len(v) > 0 && (v[0] == '[' || v[0] == '{') && isJSONSpelt(&td, string(a.Key)) && !json.Valid([]byte(v)) {
					t.Fatalf("attribute %s: invalid JSON %q", a.Key, v)
				}
			}
		}
	})
}

// isJSONSpelt tells whether some span attribute key k came as an array or a
// kvlist (and so was spelt as JSON), as a string value may start with '['.
func isJSONSpelt(td *tracepb.TracesData, k string) bool {
	for _, rs := range td.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				for _, a := range s.GetAttributes() {
					if a.GetKey() != k {
						continue
					}
					switch a.GetValue().GetValue().(type) {
					case *commonpb.AnyValue_ArrayValue, *commonpb.AnyValue_KvlistValue:
						return true
					}
				}
			}
		}
	}
	return false
}

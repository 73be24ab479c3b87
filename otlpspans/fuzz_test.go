package otlpspans_test

import (
	"encoding/json"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stage-tracker/stage-tracker/otlpspans"
)

// FuzzFromTraces feeds arbitrary OTLP TracesData in protobuf, decoded by
// pdata as the receiver and the Collector decode it: conversion must not
// panic, must account for every span (converted or rejected), and every
// JSON-spelt value must be valid JSON.
func FuzzFromTraces(f *testing.F) {
	good := one(func(s ptrace.Span) {
		s.SetParentSpanID(psid)
		s.SetFlags(0x301)
		s.Attributes().PutEmptySlice("m").FromRaw([]any{1, "a"})
		s.Attributes().PutEmptyMap("o").PutDouble("k", 1)
		s.Events().AppendEmpty().SetName("e")
		l := s.Links().AppendEmpty()
		l.SetTraceID(tid)
		l.SetSpanID(psid)
		s.Status().SetCode(ptrace.StatusCodeError)
		s.Status().SetMessage("x")
	})
	bad := one(func(s ptrace.Span) { s.SetTraceID(pcommon.TraceID{}) })
	var m ptrace.ProtoMarshaler
	for _, td := range []ptrace.Traces{good, bad} {
		b, err := m.MarshalTraces(td)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var u ptrace.ProtoUnmarshaler
		td, err := u.UnmarshalTraces(b)
		if err != nil {
			return
		}
		spans, rejected := otlpspans.FromTraces(td)
		if len(spans)+rejected.Total() != td.SpanCount() {
			t.Fatalf("%d spans + %d rejected != %d sent", len(spans), rejected.Total(), td.SpanCount())
		}
		for _, s := range spans {
			if !s.SpanContext().IsValid() {
				t.Fatalf("invalid span context %v", s.SpanContext())
			}
			for _, a := range s.Attributes() {
				if v := a.Value.AsString(); len(v) > 0 && (v[0] == '[' || v[0] == '{') && isJSONSpelt(td, string(a.Key)) && !json.Valid([]byte(v)) {
					t.Fatalf("attribute %s: invalid JSON %q", a.Key, v)
				}
			}
		}
	})
}

// isJSONSpelt tells whether some span attribute key k came as an array or a
// kvlist (and so was spelt as JSON), as a string value may start with '['.
func isJSONSpelt(td ptrace.Traces, k string) bool {
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				if v, ok := s.Attributes().Get(k); ok && (v.Type() == pcommon.ValueTypeSlice || v.Type() == pcommon.ValueTypeMap) {
					return true
				}
			}
		}
	}
	return false
}

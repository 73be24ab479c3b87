package receiver

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stage-tracker/stage-tracker/tracker"
)

// redactTraces replaces token, the exact string, wherever td holds text
// that becomes part of a run file or journal: span names, status messages,
// attribute values (nested ones too) of resources, scopes, spans, events
// and links, event names.
func redactTraces(td ptrace.Traces, token string) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		redactMap(rs.Resource().Attributes(), token)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			redactMap(ss.Scope().Attributes(), token)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				redactSpan(spans.At(k), token)
			}
		}
	}
}

func redactSpan(s ptrace.Span, token string) {
	if n := s.Name(); strings.Contains(n, token) {
		s.SetName(redactString(n, token))
	}
	if m := s.Status().Message(); strings.Contains(m, token) {
		s.Status().SetMessage(redactString(m, token))
	}
	redactMap(s.Attributes(), token)
	evs := s.Events()
	for i := 0; i < evs.Len(); i++ {
		ev := evs.At(i)
		if n := ev.Name(); strings.Contains(n, token) {
			ev.SetName(redactString(n, token))
		}
		redactMap(ev.Attributes(), token)
	}
	links := s.Links()
	for i := 0; i < links.Len(); i++ {
		redactMap(links.At(i).Attributes(), token)
	}
}

func redactMap(m pcommon.Map, token string) {
	for _, v := range m.All() {
		redactValue(v, token)
	}
}

func redactValue(v pcommon.Value, token string) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if s := v.Str(); strings.Contains(s, token) {
			v.SetStr(redactString(s, token))
		}
	case pcommon.ValueTypeMap:
		redactMap(v.Map(), token)
	case pcommon.ValueTypeSlice:
		sl := v.Slice()
		for i := 0; i < sl.Len(); i++ {
			redactValue(sl.At(i), token)
		}
	case pcommon.ValueTypeBytes:
		if b := v.Bytes(); strings.Contains(string(b.AsRaw()), token) {
			b.FromRaw([]byte(redactString(string(b.AsRaw()), token)))
		}
	}
}

func redactString(s, token string) string {
	return strings.ReplaceAll(s, token, tracker.Redacted)
}

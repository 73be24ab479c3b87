package slogtrack

import (
	"context"
	"log/slog"
	"math"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/tracker"
)

// The keys Handler adds to a record.
const (
	KeyRunID   = "run_id"
	KeyStage   = "stage"
	KeyTraceID = "trace_id"
	KeySpanID  = "span_id"
)

// Handler is a slog.Handler that adds a run's and a span's identifiers to
// the records it passes to the handler it wraps.
//
// A Handler is safe for concurrent use when the wrapped handler is, as
// every slog handler must be.
type Handler struct {
	// base is the wrapped handler before any WithAttrs or WithGroup, and
	// ops replays them on top of the correlation keys when a group is open,
	// so that the keys stay at the top level.
	base   slog.Handler
	ops    []op
	next   slog.Handler // base with ops applied
	groups bool         // some op is a group
	cfg    config
}

// op is one WithAttrs or WithGroup call.
type op struct {
	group string
	attrs []slog.Attr
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a Handler that wraps next.
func NewHandler(next slog.Handler, opts ...Option) *Handler {
	return &Handler{base: next, next: next, cfg: newConfig(opts)}
}

// Enabled reports whether the wrapped handler handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level) || (h.cfg.events && level >= h.cfg.eventLevel)
}

// Handle adds the correlation keys of ctx to r, records r as a span event
// when WithSpanEvents asks for it, and passes r on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	span := trace.SpanFromContext(ctx)
	if h.cfg.events && r.Level >= h.cfg.eventLevel && span.IsRecording() {
		span.AddEvent(r.Message, trace.WithTimestamp(r.Time), trace.WithAttributes(eventAttrs(r)...))
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	keys := correlation(ctx, span.SpanContext())
	if len(keys) == 0 {
		return h.next.Handle(ctx, r)
	}
	if !h.groups {
		r = r.Clone()
		r.AddAttrs(keys...)
		return h.next.Handle(ctx, r)
	}
	// A group is open: put the keys on the base handler, outside it, and
	// replay the handler's attributes and groups after them.
	next := h.base.WithAttrs(keys)
	for _, o := range h.ops {
		if o.group != "" {
			next = next.WithGroup(o.group)
		} else {
			next = next.WithAttrs(o.attrs)
		}
	}
	return next.Handle(ctx, r)
}

// WithAttrs returns a Handler whose records carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(op{attrs: attrs})
}

// WithGroup returns a Handler that puts the records' attributes in a group
// named name; the correlation keys stay outside it.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(op{group: name})
}

func (h *Handler) with(o op) *Handler {
	c := *h
	c.ops = append(h.ops[:len(h.ops):len(h.ops)], o)
	if o.group != "" {
		c.groups = true
		c.next = h.next.WithGroup(o.group)
	} else {
		c.next = h.next.WithAttrs(o.attrs)
	}
	return &c
}

// correlation returns the keys for ctx: the run's and stage's when ctx is
// inside a run, the trace's and span's when sc is valid.
func correlation(ctx context.Context, sc trace.SpanContext) []slog.Attr {
	var keys []slog.Attr
	if run := tracker.RunFromContext(ctx); run != nil {
		keys = append(keys, slog.String(KeyRunID, run.ID()))
		if st := tracker.StageFromContext(ctx); st != nil {
			keys = append(keys, slog.String(KeyStage, st.Name()))
		}
	}
	if sc.IsValid() {
		keys = append(keys, slog.String(KeyTraceID, sc.TraceID().String()), slog.String(KeySpanID, sc.SpanID().String()))
	}
	return keys
}

// eventAttrs are a record's level and attributes as span event attributes;
// groups become dotted key prefixes.
func eventAttrs(r slog.Record) []attribute.KeyValue {
	attrs := []attribute.KeyValue{attribute.String("log.severity", r.Level.String())}
	r.Attrs(func(a slog.Attr) bool {
		attrs = appendAttr(attrs, "", a)
		return true
	})
	return attrs
}

func appendAttr(attrs []attribute.KeyValue, prefix string, a slog.Attr) []attribute.KeyValue {
	v := a.Value.Resolve()
	key := prefix + a.Key
	switch v.Kind() {
	case slog.KindGroup:
		p := prefix
		if a.Key != "" {
			p = key + "."
		}
		for _, g := range v.Group() {
			attrs = appendAttr(attrs, p, g)
		}
		return attrs
	case slog.KindString:
		return append(attrs, attribute.String(key, v.String()))
	case slog.KindInt64:
		return append(attrs, attribute.Int64(key, v.Int64()))
	case slog.KindUint64:
		if u := v.Uint64(); u <= math.MaxInt64 {
			return append(attrs, attribute.Int64(key, int64(u)))
		}
		return append(attrs, attribute.String(key, v.String()))
	case slog.KindFloat64:
		return append(attrs, attribute.Float64(key, v.Float64()))
	case slog.KindBool:
		return append(attrs, attribute.Bool(key, v.Bool()))
	default:
		return append(attrs, attribute.String(key, v.String()))
	}
}

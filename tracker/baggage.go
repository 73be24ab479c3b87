package tracker

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
)

// WithBaggageAttributes records the members of the W3C baggage in a run's
// context (a parent process's BAGGAGE, through StartOrJoin or stagetrack)
// as attributes of the run span, named baggage.<key>: team=ml becomes
// baggage.team = "ml", searchable in a tracing backend. With keys, only
// those members are recorded; with none, every member. Off by default:
// baggage crosses process and team boundaries, and what it carries is not
// always meant to be stored.
func WithBaggageAttributes(keys ...string) Option {
	return optionFunc(func(c config) config {
		c.baggageAttrs = true
		c.baggageKeys = append([]string(nil), keys...)
		return c
	})
}

// baggageAttributes are the run span's attributes from ctx's baggage, as
// WithBaggageAttributes asks; nil when it was not given.
func (c *config) baggageAttributes(ctx context.Context) []attribute.KeyValue {
	if !c.baggageAttrs {
		return nil
	}
	var attrs []attribute.KeyValue
	for _, m := range baggage.FromContext(ctx).Members() {
		if len(c.baggageKeys) > 0 && !slices.Contains(c.baggageKeys, m.Key()) {
			continue
		}
		attrs = append(attrs, attribute.String("baggage."+m.Key(), m.Value()))
	}
	slices.SortFunc(attrs, func(a, b attribute.KeyValue) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	return attrs
}

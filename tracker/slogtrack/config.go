package slogtrack

import "log/slog"

// Option configures a Handler.
type Option interface {
	apply(config) config
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

type config struct {
	events     bool
	eventLevel slog.Level
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		c = o.apply(c)
	}
	return c
}

// WithSpanEvents records every record at level or above as an event of
// the span in the record's context, whether or not the wrapped handler
// handles that level. Off by default: a span event costs memory until the
// span ends, and a chatty stage would carry thousands.
func WithSpanEvents(level slog.Level) Option {
	return optionFunc(func(c config) config {
		c.events, c.eventLevel = true, level
		return c
	})
}

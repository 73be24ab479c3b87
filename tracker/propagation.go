package tracker

import (
	"context"
	"os"
	"sort"
	"strings"

	"go.opentelemetry.io/otel/propagation"
)

// WithPropagator sets how a run's context crosses to child processes
// (Tracker.ChildEnv) and back (StartOrJoin): the propagator's fields become
// environment variables, normalised as the OpenTelemetry specification's
// environment-variable carrier says (upper case, other characters than
// letters, digits and _ as _): traceparent is TRACEPARENT, baggage is
// BAGGAGE, B3's x-b3-traceid is X_B3_TRACEID. A nil propagator is ignored.
// The default is W3C Trace Context and Baggage, whatever the global
// propagator is; setup.Tracker passes the one OTEL_PROPAGATORS names.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c config) config {
		if p != nil {
			c.prop = p
		}
		return c
	})
}

// defaultPropagator is W3C Trace Context and Baggage, the OpenTelemetry
// default for OTEL_PROPAGATORS.
var defaultPropagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

func (t *Tracker) propagator() propagation.TextMapPropagator {
	if t != nil && t.cfg.prop != nil {
		return t.cfg.prop
	}
	return defaultPropagator
}

// ChildEnv returns the environment entries ("KEY=value") that let a child
// process join the run: its id, its journal, and the context of ctx (the
// span whose child the child's stages become, and its baggage) as the
// tracker's propagator writes it. Append them to the child's exec.Cmd.Env.
func (t *Tracker) ChildEnv(ctx context.Context, runID, journal string) []string {
	c := envCarrier{}
	t.propagator().Inject(ctx, c)
	env := []string{EnvRunID + "=" + runID, EnvJournal + "=" + journal}
	keys := make([]string, 0, len(c))
	for k, v := range c {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+c[k])
	}
	return env
}

// ExtractEnv returns ctx with the context that the process's environment
// carries (TRACEPARENT, BAGGAGE, or what the tracker's propagator reads),
// as a parent process's ChildEnv wrote it.
func (t *Tracker) ExtractEnv(ctx context.Context) context.Context {
	c := envCarrier{}
	for _, f := range t.propagator().Fields() {
		k := envKey(f)
		if v, ok := os.LookupEnv(k); ok {
			c[k] = v
		}
	}
	return t.propagator().Extract(ctx, c)
}

// envCarrier is a propagation carrier over environment variables, keyed
// by their normalised names.
type envCarrier map[string]string

func (c envCarrier) Get(key string) string { return c[envKey(key)] }
func (c envCarrier) Set(key, value string) { c[envKey(key)] = value }
func (c envCarrier) Keys() []string {
	ks := make([]string, 0, len(c))
	for k := range c {
		ks = append(ks, k)
	}
	return ks
}

// envKey is the environment variable that carries propagation field key:
// upper case, with every character other than a letter, digit or
// underscore replaced by an underscore.
func envKey(key string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		}
		return '_'
	}, key)
}

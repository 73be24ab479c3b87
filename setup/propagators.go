package setup

import (
	"os"
	"strings"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/propagation"
)

const envPropagators = "OTEL_PROPAGATORS"

// Propagator returns the propagator that OTEL_PROPAGATORS names (the
// specification's names: tracecontext, baggage, b3, b3multi, jaeger,
// xray, ottrace, none), W3C Trace Context and Baggage when it is unset. An
// unknown name is an *EnvError. Tracker passes it to the tracker, so that
// runs reach child processes, and are joined from them, in that format.
func Propagator() (propagation.TextMapPropagator, error) {
	return propagatorFromEnv(os.Getenv)
}

func propagatorFromEnv(getenv func(string) string) (propagation.TextMapPropagator, error) {
	v := strings.TrimSpace(getenv(envPropagators))
	if v == "" {
		return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}), nil
	}
	var names []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			names = append(names, n)
		}
	}
	p, err := autoprop.TextMapPropagator(names...)
	if err != nil {
		return nil, &EnvError{Var: envPropagators, Value: v,
			Reason: "unknown propagator in " + quote(v) + " (want tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace or none)"}
	}
	return p, nil
}

func quote(s string) string { return "\"" + s + "\"" }

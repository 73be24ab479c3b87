package setup

import (
	"fmt"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/tracker"
)

const (
	envSampler    = "OTEL_TRACES_SAMPLER"
	envSamplerArg = "OTEL_TRACES_SAMPLER_ARG"
)

// samplerNames are the OTEL_TRACES_SAMPLER values the Go SDK implements.
var samplerNames = []string{
	"always_on", "always_off", "traceidratio",
	"parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
}

// runSampler returns the sampler Tracker installs: the one the environment
// names (the SDK's default, parentbased_always_on, when unset), with every
// run span and stage span of a run recorded and sampled whatever it says.
// A sampling setting is there to thin other traffic; it must never cost a
// run its file.
func runSampler(getenv func(string) string) (sdktrace.Sampler, error) {
	name := strings.ToLower(strings.TrimSpace(getenv(envSampler)))
	arg := strings.TrimSpace(getenv(envSamplerArg))
	ratio := func() (float64, error) {
		if arg == "" {
			return 1, nil
		}
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil || f < 0 || f > 1 {
			return 0, &EnvError{Var: envSamplerArg, Value: arg, Reason: fmt.Sprintf("sampling ratio %q is not a number from 0 to 1", arg)}
		}
		return f, nil
	}
	var base sdktrace.Sampler
	switch name {
	case "", "parentbased_always_on":
		base = sdktrace.ParentBased(sdktrace.AlwaysSample())
	case "always_on":
		base = sdktrace.AlwaysSample()
	case "always_off":
		base = sdktrace.NeverSample()
	case "parentbased_always_off":
		base = sdktrace.ParentBased(sdktrace.NeverSample())
	case "traceidratio", "parentbased_traceidratio":
		f, err := ratio()
		if err != nil {
			return nil, err
		}
		base = sdktrace.TraceIDRatioBased(f)
		if name == "parentbased_traceidratio" {
			base = sdktrace.ParentBased(base)
		}
	default:
		return nil, &EnvError{Var: envSampler, Value: getenv(envSampler), Reason: fmt.Sprintf(
			"unknown sampler %q (want %s)", name, strings.Join(samplerNames, ", "))}
	}
	return tracker.AlwaysSampleRuns(base), nil
}

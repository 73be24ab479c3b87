package tracker

import (
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// AlwaysSampleRuns returns a sampler that records and samples every run span
// and stage span, and leaves every other span to base. Use it when the
// provider samples other traffic at a low rate but every run must produce its
// run file. A nil base means sdktrace.ParentBased(sdktrace.AlwaysSample()).
func AlwaysSampleRuns(base sdktrace.Sampler) sdktrace.Sampler {
	if base == nil {
		base = sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
	return runSampler{base: base}
}

type runSampler struct{ base sdktrace.Sampler }

func (s runSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	for _, kv := range p.Attributes {
		if kv.Key == keys.RunID {
			return sdktrace.AlwaysSample().ShouldSample(p)
		}
	}
	return s.base.ShouldSample(p)
}

func (s runSampler) Description() string {
	return "AlwaysSampleRuns{" + s.base.Description() + "}"
}

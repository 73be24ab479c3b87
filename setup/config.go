package setup

import (
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// Option configures Tracker.
type Option interface {
	apply(config) config
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

type config struct {
	jsonrunOpts  []jsonrun.Option
	trackerOpts  []tracker.Option
	exporters    []sdktrace.SpanExporter
	providerOpts []sdktrace.TracerProviderOption
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		c = o.apply(c)
	}
	return c
}

// WithDir sets the directory run files are written to (jsonrun.WithDir).
func WithDir(dir string) Option {
	return WithRunFileOptions(jsonrun.WithDir(dir))
}

// WithRunFileOptions passes options to the jsonrun exporter that writes the
// run files.
func WithRunFileOptions(opts ...jsonrun.Option) Option {
	return optionFunc(func(c config) config {
		c.jsonrunOpts = append(c.jsonrunOpts, opts...)
		return c
	})
}

// WithTrackerOptions passes options to the tracker. A WithTracerProvider
// among them is overridden by the provider Tracker builds.
func WithTrackerOptions(opts ...tracker.Option) Option {
	return optionFunc(func(c config) config {
		c.trackerOpts = append(c.trackerOpts, opts...)
		return c
	})
}

// WithExporters sends the same spans to other exporters too, through a batch
// span processor each: stdouttrace, an OTLP exporter, anything that
// implements sdktrace.SpanExporter. Nil exporters are ignored.
func WithExporters(exps ...sdktrace.SpanExporter) Option {
	return optionFunc(func(c config) config {
		for _, e := range exps {
			if e != nil {
				c.exporters = append(c.exporters, e)
			}
		}
		return c
	})
}

// WithProviderOptions passes options to the SDK tracer provider, such as a
// sampler (wrap it in tracker.AlwaysSampleRuns to keep every run), span
// limits or an ID generator.
func WithProviderOptions(opts ...sdktrace.TracerProviderOption) Option {
	return optionFunc(func(c config) config {
		c.providerOpts = append(c.providerOpts, opts...)
		return c
	})
}

package setup

import (
	"io"
	"time"

	"go.opentelemetry.io/otel/attribute"
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
	feed         *Feed // nil: none

	defaultExporters []string  // used when OTEL_TRACES_EXPORTER is unset
	consoleWriter    io.Writer // nil: os.Stdout
	serviceName      string    // "": the program name
	resourceAttrs    []attribute.KeyValue
	exportTimeout    time.Duration                                     // >0: OTLP export timeout when the environment sets none
	wrapOTLP         func(sdktrace.SpanExporter) sdktrace.SpanExporter // nil: none
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
// implements sdktrace.SpanExporter. They come in addition to the exporters
// OTEL_TRACES_EXPORTER selects: do not pass an OTLP exporter here and name
// "otlp" there too, or every span is sent twice. Nil exporters are ignored.
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
// limits or an ID generator. They are applied after Tracker's own, so an
// sdktrace.WithResource here replaces the resource Tracker builds; prefer
// WithServiceName and WithResourceAttributes.
func WithProviderOptions(opts ...sdktrace.TracerProviderOption) Option {
	return optionFunc(func(c config) config {
		c.providerOpts = append(c.providerOpts, opts...)
		return c
	})
}

// WithDefaultExporters sets the exporters used when OTEL_TRACES_EXPORTER is
// unset or empty, by the names that variable takes: ExporterOTLP,
// ExporterConsole, ExporterJSONRun, ExporterNone. The run files are written
// whatever the list says. A program that should send its traces to a
// backend unless told otherwise passes ExporterOTLP; the environment still
// has the last word. The default is no exporter beyond the run files. An
// unknown name makes Tracker return an *EnvError naming this option.
func WithDefaultExporters(names ...string) Option {
	return optionFunc(func(c config) config {
		c.defaultExporters = append([]string(nil), names...)
		return c
	})
}

// WithConsoleWriter sets where the console exporter writes when
// OTEL_TRACES_EXPORTER (or WithDefaultExporters) names it. The default is
// os.Stdout. A nil w is ignored. Tracker writes to w from whichever
// goroutine ends a span, one span at a time.
func WithConsoleWriter(w io.Writer) Option {
	return optionFunc(func(c config) config {
		if w != nil {
			c.consoleWriter = w
		}
		return c
	})
}

// WithServiceName sets the service.name resource attribute, in place of the
// program name. OTEL_SERVICE_NAME and a service.name in
// OTEL_RESOURCE_ATTRIBUTES override it. An empty name is ignored.
func WithServiceName(name string) Option {
	return optionFunc(func(c config) config {
		if name != "" {
			c.serviceName = name
		}
		return c
	})
}

// WithResourceAttributes adds attributes to the resource that every span
// carries. OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME override the same
// keys.
func WithResourceAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(c config) config {
		c.resourceAttrs = append(c.resourceAttrs, attrs...)
		return c
	})
}

// WithOTLPExporterWrapper wraps the OTLP exporter that OTEL_TRACES_EXPORTER
// selects before its batch span processor gets it: to keep what it fails
// to deliver and send it later, as stagetrack exec does, or to count what
// it sends. wrap is called once, when Tracker builds the exporter; a nil
// wrap, or a wrap that returns nil, leaves the exporter as it is.
func WithOTLPExporterWrapper(wrap func(sdktrace.SpanExporter) sdktrace.SpanExporter) Option {
	return optionFunc(func(c config) config {
		c.wrapOTLP = wrap
		return c
	})
}

package tracker

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// Option configures a Tracker.
type Option interface {
	apply(config) config
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

type config struct {
	tp   trace.TracerProvider          // nil: the global provider, looked up at each Start
	mp   metric.MeterProvider          // nil: the global provider, looked up at each Start
	prop propagation.TextMapPropagator // nil: W3C Trace Context and Baggage

	baggageAttrs bool             // WithBaggageAttributes was given
	baggageKeys  []string         // the members it records; empty: all
	now          func() time.Time // nil: the SDK's clock
	waiter       RunFileWaiter    // deprecated WithRunFileWaiter
	spansOnly    bool             // WithoutRunFile: every run is spans only

	redactKeys  []string
	maxDataSize int // 0: no cap

	capture captureConfig // WithCapture, WithoutProvenance, WithEnv, WithToolVersion
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		c = o.apply(c)
	}
	return c
}

// RunFileWaiter is implemented by exporters that write run files, such as
// *jsonrun.Exporter.
//
// Deprecated: Run.Finalize learns the outcome of the run file from any
// jsonrun exporter in the tracer provider's pipeline on its own, however it
// is registered; see WithRunFileWaiter.
type RunFileWaiter interface {
	// WaitRunFile returns the path of the run file of runID once it is
	// written. A result already there is returned even when ctx is done.
	WaitRunFile(ctx context.Context, runID string) (path string, err error)
}

// WithTracerProvider sets the provider the tracker makes spans with. A nil
// provider is ignored. The default is the global provider, looked up when
// each run starts, so a tracker made before otel.SetTracerProvider uses the
// provider set later.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c config) config {
		if tp != nil {
			c.tp = tp
		}
		return c
	})
}

// WithRunFileWaiter makes Run.Finalize ask w for the run file when no
// jsonrun exporter in the tracer provider's pipeline took the run. A nil w
// is ignored.
//
// Deprecated: a jsonrun exporter needs no waiter: Finalize learns the
// outcome from any jsonrun exporter in the provider's pipeline on its own,
// and passing it here changes nothing. Register the exporter with the
// provider (sdktrace.WithSpanProcessor(jsonrun.NewProcessor(exp))) and drop
// this option.
func WithRunFileWaiter(w RunFileWaiter) Option {
	return optionFunc(func(c config) config {
		if w != nil {
			c.waiter = w
		}
		return c
	})
}

// SharedOption is an option that configures either a Tracker, for every
// run it starts, or one run, given to Start.
type SharedOption interface {
	Option
	RunOption
}

// WithoutRunFile records runs as spans only: for a service that wants its
// stages as spans in its own traces and no run file per request. Run.Finalize
// then ends the run's stages and span and returns without flushing the
// tracer provider or waiting for a run file: the spans go out as the
// provider's processors send them. File returns "", and a run the sampler
// dropped is no error. Given to New, it applies to every run the tracker
// starts; given to Start, to that run.
//
// Without it, Finalize expects a run-file exporter (jsonrun.NewProcessor)
// in the provider's pipeline and returns an error wrapping ErrNoRunFile when
// none took the run. A run-file exporter that is there anyway still writes
// the file of a spans-only run; Finalize does not wait for it.
func WithoutRunFile() SharedOption { return withoutRunFile{} }

type withoutRunFile struct{}

func (withoutRunFile) apply(c config) config {
	c.spansOnly = true
	return c
}

func (withoutRunFile) applyRun(c runConfig) runConfig {
	c.spansOnly = true
	return c
}

// WithClock sets the clock that stamps span start and end times, for tests
// and replays that need reproducible run files. A nil clock is ignored. The
// default is the SDK's own clock.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c config) config {
		if now != nil {
			c.now = now
		}
		return c
	})
}

// RunOption configures one run.
type RunOption interface {
	applyRun(runConfig) runConfig
}

type runOptionFunc func(runConfig) runConfig

func (f runOptionFunc) applyRun(c runConfig) runConfig { return f(c) }

type runConfig struct {
	id         string
	name       string
	outputFile string
	spansOnly  bool // WithoutRunFile

	capture captureConfig       // the run's own capture options
	given   *runfile.Provenance // WithProvenance: recorded as given
}

// WithRunID sets the run's id. It must be a UUID (any version); anything else
// is rejected: the run gets a fresh UUIDv4 instead, so nothing is lost, and
// Run.Err and Run.Finalize report ErrInvalidRunID. The default is a fresh
// UUIDv4.
func WithRunID(id string) RunOption {
	return runOptionFunc(func(c runConfig) runConfig {
		c.id = id
		return c
	})
}

// WithRunName names the run span. The default is args when args is a
// non-empty string, else "run".
func WithRunName(name string) RunOption {
	return runOptionFunc(func(c runConfig) runConfig {
		c.name = name
		return c
	})
}

// WithOutputFile writes this run's file to path instead of the exporter's
// default place (<dir>/<run_id>.json).
func WithOutputFile(path string) RunOption {
	return runOptionFunc(func(c runConfig) runConfig {
		c.outputFile = path
		return c
	})
}

// WithRedactKeys names keys of stage data and run args whose values are
// replaced by Redacted before they reach any span or file. Keys match
// case-insensitively, at any depth of nested objects. DefaultRedactKeys
// returns a list of common secret names. Redaction is off by default; it
// costs a JSON round trip of every data value. It fails closed: a value it
// cannot inspect is dropped and marked (see ErrNotRedactable).
func WithRedactKeys(keys ...string) Option {
	return optionFunc(func(c config) config {
		c.redactKeys = append(c.redactKeys, keys...)
		return c
	})
}

// WithMaxDataSize caps the JSON encoding of a stage's data at n bytes. Data
// over the cap is not recorded: the stage's data is null and its data_error
// says how large it was. n <= 0 means no cap, the default.
func WithMaxDataSize(n int) Option {
	return optionFunc(func(c config) config {
		c.maxDataSize = max(n, 0)
		return c
	})
}

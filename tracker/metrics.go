package tracker

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// Metric names and the attributes they carry. The run histogram is the
// OpenTelemetry CI/CD semantic conventions' cicd.pipeline.run.duration; the
// conventions have no task duration yet, so the stage histogram has a name
// of ours and their task attributes.
const (
	MetricRunDuration   = "cicd.pipeline.run.duration"
	MetricStageDuration = "stage_tracker.stage.duration"

	attrPipelineName  = attribute.Key("cicd.pipeline.name")
	attrRunState      = attribute.Key("cicd.pipeline.run.state")
	attrRunResult     = attribute.Key("cicd.pipeline.result")
	attrTaskName      = attribute.Key("cicd.pipeline.task.name")
	attrTaskRunResult = attribute.Key("cicd.pipeline.task.run.result")
)

// durationBuckets are the histograms' bucket boundaries in seconds: from
// 5 ms to a day, so that a stage of a unit test and a training run of
// hours both land in a bucket that tells them apart.
var durationBuckets = [...]float64{
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
	60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400,
}

// DurationBucketBoundaries returns the bucket boundaries, in seconds, of
// the stage and run duration histograms: from 5 ms to a day. The slice is
// a copy, the caller's to keep or change.
func DurationBucketBoundaries() []float64 {
	b := durationBuckets
	return b[:]
}

// DurationBuckets are the histograms' bucket boundaries in seconds.
//
// Deprecated: use DurationBucketBoundaries. Changing this slice changes
// nothing: the histograms use their own copy.
var DurationBuckets = DurationBucketBoundaries()

// WithMeterProvider sets the provider the tracker records stage and run
// duration histograms with. A nil provider is ignored. The default is the
// global provider, looked up when each run starts; while that is the
// default no-op provider, recording costs next to nothing (no clock read,
// no attributes built).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c config) config {
		if mp != nil {
			c.mp = mp
		}
		return c
	})
}

// instruments are one run's histograms. The zero value records nothing.
type instruments struct {
	stage, run metric.Float64Histogram
}

// newInstruments makes the histograms from mp (the global provider when
// nil). An instrument that cannot be made is reported to the OpenTelemetry
// error handler and left out; the run is recorded either way.
func newInstruments(mp metric.MeterProvider) instruments {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version))
	var in instruments
	var err error
	in.stage, err = m.Float64Histogram(MetricStageDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of a stage of a pipeline run."),
		metric.WithExplicitBucketBoundaries(durationBuckets[:]...))
	if err != nil {
		otel.Handle(err)
		in.stage = nil
	}
	in.run, err = m.Float64Histogram(MetricRunDuration,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of a pipeline run grouped by pipeline, state and result."),
		metric.WithExplicitBucketBoundaries(durationBuckets[:]...))
	if err != nil {
		otel.Handle(err)
		in.run = nil
	}
	return in
}

// stageStart is when a stage started, for its histogram; zero when the
// histogram records nothing, so that no clock is read for it.
func (in instruments) stageStart() time.Time {
	if in.stage == nil || !in.stage.Enabled(context.Background()) {
		return time.Time{}
	}
	return time.Now()
}

// recordStage records a stage that started at start (zero: not recorded).
func (in instruments) recordStage(run, stage string, start time.Time, failed bool) {
	if start.IsZero() {
		return
	}
	result := "success"
	if failed {
		result = "failure"
	}
	task, res := attrTaskName.String(stage), attrTaskRunResult.String(result)
	if run == "" {
		// A joined process does not know the run's name: the owner does.
		in.stage.Record(context.Background(), time.Since(start).Seconds(), metric.WithAttributes(task, res))
		return
	}
	in.stage.Record(context.Background(), time.Since(start).Seconds(), metric.WithAttributes(
		attrPipelineName.String(run), task, res))
}

// runStart is when the run started, for its histogram; zero when it
// records nothing.
func (in instruments) runStart() time.Time {
	if in.run == nil || !in.run.Enabled(context.Background()) {
		return time.Time{}
	}
	return time.Now()
}

// recordRun records a run that started at start (zero: not recorded) with
// result, one of the conventions' cicd.pipeline.result values.
func (in instruments) recordRun(run string, start time.Time, result string) {
	if start.IsZero() {
		return
	}
	in.run.Record(context.Background(), time.Since(start).Seconds(), metric.WithAttributes(
		attrPipelineName.String(run), attrRunState.String("executing"), attrRunResult.String(result)))
}

// result is the run's cicd.pipeline.result: cancellation for an
// interrupted run, error for a crashed one, failure when the run has an
// error or its stages fail it by the run file's rule (internal/runstatus),
// else success.
func (r *Run) result(status, msg string) string {
	switch {
	case status == keys.StatusInterrupted:
		return "cancellation"
	case status == keys.StatusCrashed:
		return "error"
	case msg != "":
		return "failure"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.attempts.Failure() != "" {
		return "failure"
	}
	return "success"
}

package tracker_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/tracker"
)

// TestDurationHistograms: stage and run durations read back through the
// SDK's ManualReader, with the counts, buckets and low-cardinality
// attributes the docs promise (and never a run id).
func TestDurationHistograms(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	tr := tracker.New(tracker.WithTracerProvider(tp), tracker.WithMeterProvider(mp))

	ctx := t.Context()
	for i := range 3 {
		rctx, run := tr.Start(ctx, "nightly", tracker.WithRunName("nightly"))
		_ = run.Stage(rctx, "fetch", func(context.Context) (any, error) { return nil, nil })
		if i == 2 {
			_ = run.Stage(rctx, "test", func(context.Context) (any, error) { return nil, errors.New("1 failed") })
		}
		// A retried stage whose last attempt passed does not fail the run.
		_ = run.Stage(rctx, "train", func(context.Context) (any, error) { return nil, errors.New("flaky") })
		_ = run.Stage(rctx, "train", func(context.Context) (any, error) { return nil, nil })
		_ = run.Finalize(ctx)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	hists := map[string]metricdata.Histogram[float64]{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != tracker.ScopeName || sm.Scope.Version != tracker.Version {
			t.Errorf("scope %s %s; want %s %s", sm.Scope.Name, sm.Scope.Version, tracker.ScopeName, tracker.Version)
		}
		for _, m := range sm.Metrics {
			if m.Unit != "s" {
				t.Errorf("%s: unit %q; want s", m.Name, m.Unit)
			}
			hists[m.Name] = m.Data.(metricdata.Histogram[float64])
		}
	}

	count := func(h metricdata.Histogram[float64], want map[string]string) uint64 {
		var n uint64
		for _, dp := range h.DataPoints {
			if !slices.Equal(dp.Bounds, tracker.DurationBucketBoundaries()) {
				t.Errorf("bounds %v; want DurationBucketBoundaries()", dp.Bounds)
			}
			if _, ok := dp.Attributes.Value("stage_tracker.run.id"); ok {
				t.Errorf("a data point carries the run id: %v", dp.Attributes)
			}
			if matches(dp.Attributes, want) {
				n += dp.Count
			}
		}
		return n
	}
	stages := hists[tracker.MetricStageDuration]
	for _, tc := range []struct {
		name string
		want map[string]string
		n    uint64
	}{
		{"fetch passed 3 times", map[string]string{"cicd.pipeline.name": "nightly", "cicd.pipeline.task.name": "fetch", "cicd.pipeline.task.run.result": "success"}, 3},
		{"test failed once", map[string]string{"cicd.pipeline.task.name": "test", "cicd.pipeline.task.run.result": "failure"}, 1},
		{"train failed 3 times", map[string]string{"cicd.pipeline.task.name": "train", "cicd.pipeline.task.run.result": "failure"}, 3},
		{"train passed 3 times", map[string]string{"cicd.pipeline.task.name": "train", "cicd.pipeline.task.run.result": "success"}, 3},
	} {
		if n := count(stages, tc.want); n != tc.n {
			t.Errorf("stage histogram, %s: %d; want %d", tc.name, n, tc.n)
		}
	}
	runs := hists[tracker.MetricRunDuration]
	if n := count(runs, map[string]string{"cicd.pipeline.name": "nightly", "cicd.pipeline.run.state": "executing", "cicd.pipeline.result": "success"}); n != 2 {
		t.Errorf("runs that succeeded: %d; want 2", n)
	}
	if n := count(runs, map[string]string{"cicd.pipeline.result": "failure"}); n != 1 {
		t.Errorf("runs that failed: %d; want 1", n)
	}
}

func matches(set attribute.Set, want map[string]string) bool {
	for k, v := range want {
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.AsString() != v {
			return false
		}
	}
	return true
}

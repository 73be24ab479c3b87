package tracker_test

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/tracker"
)

// BenchmarkStageMetrics is the cost of a stage's duration histogram: the
// same stage with the global meter provider left as the default no-op
// (what a program that installs none gets) and with the SDK's provider and
// a manual reader. The difference between the two is the cost of metrics;
// "no meter provider" against BenchmarkStage's cases is the cost of having
// the feature at all.
func BenchmarkStageMetrics(b *testing.B) {
	data := map[string]any{"rows": 1200, "ok": true, "source": "s3://bucket/key", "ratio": 0.93}
	cases := []struct {
		name string
		mp   func() *sdkmetric.MeterProvider
	}{
		{"no meter provider", func() *sdkmetric.MeterProvider { return nil }},
		{"sdk meter provider", func() *sdkmetric.MeterProvider {
			return sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			tp := sdktrace.NewTracerProvider()
			defer tp.Shutdown(context.Background())
			opts := []tracker.Option{tracker.WithTracerProvider(tp)}
			if mp := tc.mp(); mp != nil {
				defer mp.Shutdown(context.Background())
				opts = append(opts, tracker.WithMeterProvider(mp))
			}
			tr := tracker.New(opts...)
			ctx, run := tr.Start(context.Background(), "bench")
			b.ReportAllocs()
			for b.Loop() {
				_, s := run.StartStage(ctx, "stage")
				s.End(data, nil)
			}
			b.StopTimer()
			_ = run.Finalize(context.Background())
		})
	}
}

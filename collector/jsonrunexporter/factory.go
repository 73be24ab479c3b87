package jsonrunexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/stage-tracker/stage-tracker/collector/jsonrunexporter/internal/metadata"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// Type is the component type of the exporter, "jsonrun".
var Type = metadata.Type

// NewFactory returns the factory of the jsonrun exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithTraces(createTraces, metadata.TracesStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		MaxPendingRuns:  1024,
		RunWait:         30 * time.Second,
		LateSpanWait:    5 * time.Second,
		OpenRunTimeout:  time.Hour,
		FilePermissions: "0644",
		RunRoots:        RunRootsAttribute,
		Journal:         JournalConfig{Enabled: true},
		Store: StoreConfig{
			MaxOpenRuns: jsonrun.DefaultMaxOpenRuns,
			MaxRunBytes: jsonrun.DefaultMaxRunBytes,
			MaxBytes:    jsonrun.DefaultMaxStoreBytes,
		},
		Recover: true,
	}
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	c := cfg.(*Config)
	e, err := newRunExporter(c, set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	// No sending queue and no retry: a span is acknowledged to its sender
	// only once the run holds it (and its journal, when on, has it on disk),
	// so a Collector killed after the answer loses nothing it acknowledged.
	// A retry would add the same stages twice.
	return exporterhelper.NewTraces(ctx, set, cfg, e.pushTraces,
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
	)
}

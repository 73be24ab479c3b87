package jsonrunexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

const (
	// typeStr is the exporter's type in Collector configuration.
	typeStr = "jsonrun"
	// stability of the traces signal, the only one it takes.
	stability = component.StabilityLevelAlpha
)

// Type is the component type of the exporter, "jsonrun".
var Type = component.MustNewType(typeStr)

// NewFactory returns the factory of the jsonrun exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(Type, createDefaultConfig,
		exporter.WithTraces(createTraces, stability))
}

func createDefaultConfig() component.Config {
	return &Config{
		MaxPendingRuns:  1024,
		RunWait:         30 * time.Second,
		LateSpanWait:    5 * time.Second,
		FilePermissions: "0644",
		RunRoots:        RunRootsAttribute,
		Journal:         JournalConfig{Enabled: true},
		Recover:         true,
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

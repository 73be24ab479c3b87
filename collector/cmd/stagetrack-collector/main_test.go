package main

import (
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/otelcol/otelcoltest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The distribution has the components the issue names, and the example
// config in collector/examples loads and validates with them.
func TestExampleConfigValidates(t *testing.T) {
	f, err := components()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"otlp_grpc", "otlp_http", "debug", "jsonrun"} {
		if _, ok := f.Exporters[component.MustNewType(typ)]; !ok {
			t.Errorf("no %s exporter", typ)
		}
	}
	if _, ok := f.Receivers[component.MustNewType("otlp")]; !ok {
		t.Error("no otlp receiver")
	}
	if _, ok := f.Processors[component.MustNewType("batch")]; !ok {
		t.Error("no batch processor")
	}
	cfg, err := otelcoltest.LoadConfigAndValidate(filepath.Join("..", "..", "examples", "config.yaml"), f)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Service.Pipelines) != 2 {
		t.Errorf("pipelines = %v; want traces/runs and traces/forward", cfg.Service.Pipelines)
	}
}

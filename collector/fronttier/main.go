// Command stagetrack-fronttier is the first tier of a sharded
// stagetrack-collector deployment, as docs/collector.md describes it: the
// OTLP receiver and the contrib loadbalancing exporter, which sends every
// span of a trace (so every stage of a run) to one backend.
//
// It is its own module, pinned to the last Collector release the module
// proxy serves the loadbalancing exporter for (contrib v0.161.0, core
// v0.161.0 / v1.67.0), apart from collector/ (which follows newer core
// releases). scripts/collector-e2e.sh builds it once into a cache outside
// the repository, keyed by this module's go.sum, for the two-tier
// end-to-end test (collector/e2e, TestCollectorEndToEndTwoTier).
package main

import (
	"fmt"
	"os"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/loadbalancingexporter"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
)

func components() (otelcol.Factories, error) {
	var f otelcol.Factories
	var err error
	if f.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](otlpreceiver.NewFactory()); err != nil {
		return f, err
	}
	if f.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](loadbalancingexporter.NewFactory()); err != nil {
		return f, err
	}
	f.Telemetry = otelconftelemetry.NewFactory()
	return f, nil
}

func main() {
	set := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "stagetrack-fronttier",
			Description: "OTLP receiver and loadbalancing exporter in front of stagetrack-collector backends",
			Version:     "0.1.0",
		},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{
					fileprovider.NewFactory(),
					envprovider.NewFactory(),
					yamlprovider.NewFactory(),
				},
				DefaultScheme: "env",
			},
		},
	}
	if err := otelcol.NewCommand(set).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "stagetrack-fronttier:", err)
		os.Exit(1)
	}
}

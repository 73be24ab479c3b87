// Command stagetrack-collector is an OpenTelemetry Collector distribution:
// the OTLP receiver, the batch processor, the OTLP (gRPC and HTTP) and debug
// exporters, and the jsonrun exporter that writes stage-tracker run files.
// One binary receives spans from every host, writes run files and forwards
// the same spans to a tracing backend. See docs/collector.md.
package main

import (
	"fmt"
	"os"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"
)

// version of this distribution; the Collector release it is built on is in
// collector/go.mod.
const version = "0.1.0"

func main() {
	info := component.BuildInfo{
		Command:     "stagetrack-collector",
		Description: "OpenTelemetry Collector with the stage-tracker jsonrun exporter",
		Version:     version,
	}
	set := otelcol.CollectorSettings{
		BuildInfo: info,
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
		fmt.Fprintln(os.Stderr, "stagetrack-collector:", err)
		os.Exit(1)
	}
}

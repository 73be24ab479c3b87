// Package jsonrunexporter is an OpenTelemetry Collector exporter, of type
// "jsonrun", that writes stage-tracker run files from the spans of any
// OpenTelemetry SDK, received from any number of hosts. It is the
// exporter/jsonrun span exporter behind the Collector's exporterhelper: the
// same run model, encoder and journal, fed by package otlpspans.
//
// It buffers the stages of each run across requests until the run's root
// span arrives, journals open runs in the output directory so that a
// Collector killed mid-run loses no ended stage (a restarted Collector takes
// the journals of dead owners over and finishes their runs), and bounds the
// runs it holds in memory (max_pending_runs). See docs/collector.md.
package jsonrunexporter

// A pipeline in Node, instrumented with the OpenTelemetry JS SDK and
// nothing of stage-tracker's: run under `stagetrack run`, it finds the
// run's OTLP receiver, credential and parent span in the environment
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_HEADERS,
// TRACEPARENT) as any OTel program would. It records
//
//   extract   rows=3, source="s3"
//     parse   format="csv"
//   load      fails: "disk full" (an exception event and an Error status)
//
// and exits 0 once the exporter has sent them. The packages come from
// testdata/node/packages.txt, installed outside the repository by
// scripts/node-e2e.sh (NODE_PATH). It talks to nothing but the endpoint it
// is given.
//
// Its spans become stages by the run convention (docs/attributes.md):
// they are spans of the run's trace.
'use strict';

const api = require('@opentelemetry/api');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');

async function main() {
  // An export the receiver refuses must show, not pass in silence.
  api.diag.setLogger(new api.DiagConsoleLogger(), api.DiagLogLevel.ERROR);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'node-pipeline' }),
    // The exporter reads its endpoint and headers from the environment.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  const tracer = provider.getTracer('node-pipeline');

  // The run's span, from TRACEPARENT (and TRACESTATE), is the parent.
  const carrier = { traceparent: process.env.TRACEPARENT, tracestate: process.env.TRACESTATE };
  const parent = new W3CTraceContextPropagator().extract(api.ROOT_CONTEXT, carrier, api.defaultTextMapGetter);

  const start = (name, attributes, ctx) => tracer.startSpan(name, { attributes }, ctx);

  const extract = start('extract', { rows: 3, source: 's3' }, parent);
  const parse = start('parse', { format: 'csv' }, api.trace.setSpan(parent, extract));
  parse.end();
  extract.end();

  const load = start('load', {}, parent);
  load.recordException(new Error('disk full'));
  load.setStatus({ code: api.SpanStatusCode.ERROR, message: 'disk full' });
  load.end();

  // Shutdown flushes: the spans are at the receiver when it resolves.
  await provider.shutdown();
}

main().catch((err) => {
  console.error('pipeline.js:', err);
  process.exit(1);
});

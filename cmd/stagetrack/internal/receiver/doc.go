// Package receiver is the OTLP/HTTP traces receiver of `stagetrack run`:
// for the life of one run it serves /v1/traces on a free loopback port,
// with a credential of its own, to the processes the run starts. Requests
// are decoded with the Collector's pdata (protobuf, or OTLP/JSON with hex
// ids), converted by package otlpspans, and handed to a sink, which passes
// them to the run file and the exporters.
//
// Answers follow the OTLP/HTTP specification: 200 with an
// ExportTraceServiceResponse (a partial success counting the spans refused
// for invalid ids or for the run's span limit), else a google.rpc.Status
// with 400, 401, 404, 405, 413, 415 or 503, in the request's media type.
package receiver

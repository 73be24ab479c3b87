// Package otlpspans converts OTLP trace data, as the OpenTelemetry
// Collector's pdata holds it ([ptrace.Traces]), into the SDK's
// [sdktrace.ReadOnlySpan], so that spans received from any OpenTelemetry SDK
// or Collector go through the same span exporters as spans ended in this
// process. It is the one converter: the `stagetrack run` OTLP receiver and
// the Collector's jsonrun exporter both use it. It is public because the
// Collector, a module of its own, imports it.
//
// What it keeps: resource attributes and schema URL, scope name, version,
// schema URL and attributes, trace, span and parent ids, trace state, trace
// flags, kind, start and end times, attributes, events, links, status code
// and message, and the dropped-attribute/event/link counts.
//
// Attribute values map as follows:
//   - string, bool, int, double: the attribute type of the same kind;
//   - an array whose elements are all strings (or all bools, ints, doubles):
//     a typed slice; an empty array: an empty string slice;
//   - an array of mixed or nested values, and a kvlist: a JSON string (an
//     array, an object in the sender's key order), in which bytes are base64
//     strings, empty values null, and NaN or ±Inf doubles the strings "NaN",
//     "+Inf", "-Inf"; values nested deeper than 64 levels are null;
//   - bytes: a standard base64 string;
//   - an empty value, or an empty key: the attribute is left out (and
//     counted as dropped), as the attribute API has no empty value.
//
// Ids: pdata holds ids of fixed size, so an id of the wrong length never
// gets here (decoding the request refuses it, as the Collector does). A span
// whose trace id or span id is all zero is left out and counted in
// [Rejected]; an all-zero parent span id makes a root span. A link with an
// all-zero trace or span id is left out and counted in the span's dropped
// links. An invalid trace state is left out.
//
// Flags: the low byte of a span's flags is its W3C trace flags. A span whose
// flags field is 0 comes from a sender that predates the field; as SDKs
// export only sampled spans it is marked sampled. A parent is remote when
// the flags say so (bits 8 and 9 of OTLP's SpanFlags).
package otlpspans

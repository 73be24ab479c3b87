// Package otlpconv converts OTLP protobuf spans (go.opentelemetry.io/proto/otlp
// trace/v1) into the SDK's [sdktrace.ReadOnlySpan], so that spans received
// from any OpenTelemetry SDK or Collector go through the same exporter code as
// spans ended in this process. It is the one converter: the `stagetrack run`
// OTLP receiver and the Collector exporter both use it.
//
// What it keeps: resource attributes and schema URL, scope name, version,
// schema URL and attributes, trace, span and parent ids, trace state, trace
// flags, kind, start and end times, attributes, events, links, status code and
// message, and the dropped-attribute/event/link counts.
//
// Attribute values map as follows:
//   - string, bool, int, double: the attribute type of the same kind;
//   - an array whose elements are all strings (or all bools, ints, doubles):
//     a typed slice; an empty array: an empty string slice;
//   - an array of mixed or nested values, and a kvlist: a JSON string (an
//     array, an object), in which bytes are base64 strings, empty values null,
//     and NaN or ±Inf doubles the strings "NaN", "+Inf", "-Inf";
//   - bytes: a standard base64 string;
//   - an empty value: the attribute is left out (and counted as dropped), as
//     the attribute API has no empty value.
//
// Ids: a span whose trace id is not 16 non-zero bytes, whose span id is not 8
// non-zero bytes, or whose parent span id is neither empty, all zero nor 8
// bytes is rejected and counted. A link with invalid ids is left out and
// counted in the span's dropped links. An invalid trace state is left out.
//
// Flags: the low byte of a span's flags is its W3C trace flags. A span whose
// flags field is 0 comes from a sender that predates the field; as SDKs export
// only sampled spans it is marked sampled.
package otlpconv

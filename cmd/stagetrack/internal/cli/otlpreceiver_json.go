package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// unmarshalOTLPJSON decodes an OTLP/JSON request body into m. OTLP/JSON is
// the protobuf JSON mapping with one difference: trace and span ids are hex
// strings, not base64 (OTLP specification, "JSON Protobuf Encoding"). So
// the ids are rewritten to base64 first and the result decoded with
// protojson, which also takes both lowerCamelCase and original field names,
// enums as integers or names, and 64-bit integers as numbers or strings.
// Unknown fields are ignored, as the specification asks of receivers.
//
// An id that is not hex of the right length (16 bytes for a trace, 8 for a
// span) is left as it is: base64, as a non-conforming sender may use, still
// decodes, and anything else is an invalid id that otlpconv refuses.
func unmarshalOTLPJSON(b []byte, m *coltracepb.ExportTraceServiceRequest) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // keep 64-bit nanosecond times exact
	var doc any
	if err := d.Decode(&doc); err != nil {
		return fmt.Errorf("JSON: %w", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return errors.New("JSON: data after the request object")
	}
	for _, rs := range field(doc, "resourceSpans", "resource_spans") {
		for _, ss := range field(rs, "scopeSpans", "scope_spans") {
			for _, s := range field(ss, "spans") {
				hexIDs(s)
				for _, l := range field(s, "links") {
					hexIDs(l)
				}
			}
		}
	}
	nb, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("JSON: %w", err)
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(nb, m)
}

// field returns the array that object o holds under the first of names it
// has; nil when o is not an object or holds no such array (protojson then
// says what is wrong).
func field(o any, names ...string) []any {
	obj, ok := o.(map[string]any)
	if !ok {
		return nil
	}
	for _, n := range names {
		if a, ok := obj[n].([]any); ok {
			return a
		}
	}
	return nil
}

// hexIDs rewrites the hex ids of a span or link object to base64.
func hexIDs(o any) {
	obj, ok := o.(map[string]any)
	if !ok {
		return
	}
	for name, v := range obj {
		size := idSize(name)
		s, ok := v.(string)
		if size == 0 || !ok || len(s) != 2*size {
			continue
		}
		if raw, err := hex.DecodeString(s); err == nil {
			obj[name] = base64.StdEncoding.EncodeToString(raw)
		}
	}
}

// idSize is the size in bytes of the id a span or link field holds, or 0
// for a field that is not an id.
func idSize(name string) int {
	switch name {
	case "traceId", "trace_id":
		return 16
	case "spanId", "span_id", "parentSpanId", "parent_span_id":
		return 8
	}
	return 0
}

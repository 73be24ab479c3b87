package tracker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// maxSortedScalars: above this many top-level keys, scalar attributes are
// added in key order so that which ones a span's attribute limit keeps does
// not vary from run to run. Below it the order does not matter.
const maxSortedScalars = 64

// dataAttributes encodes a stage's data as span attributes: the whole value
// as JSON with its length, so the exporter can tell a value that span limits
// truncated, or why it is not recorded. It returns the encoding too, for
// appendScalars, which the caller runs after its other attributes: the SDK
// keeps the earliest attributes when its count limit is reached, and the
// per-key copies matter least.
func dataAttributes(data any, maxSize int) ([]attribute.KeyValue, []byte) {
	if data == nil {
		return make([]attribute.KeyValue, 0, 3), nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		attrs := make([]attribute.KeyValue, 0, 4)
		return append(attrs, attribute.String(keys.StageDataError, "data cannot be encoded as JSON: "+err.Error())), nil
	}
	if maxSize > 0 && len(b) > maxSize {
		attrs := make([]attribute.KeyValue, 0, 4)
		return append(attrs, attribute.String(keys.StageDataError,
			fmt.Sprintf("data is %d bytes encoded, over the %d-byte cap (WithMaxDataSize); not recorded", len(b), maxSize))), nil
	}
	attrs := make([]attribute.KeyValue, 0, 5+scalarCount(data))
	// The size first: if a count limit keeps only one, the exporter can
	// still tell the data was dropped; if both, whether it was cut.
	attrs = append(attrs,
		attribute.Int(keys.StageDataSize, len(b)),
		attribute.String(keys.StageData, string(b)),
	)
	return attrs, b
}

func scalarCount(data any) int {
	switch m := data.(type) {
	case map[string]any:
		return len(m)
	case map[string]string:
		return len(m)
	case map[string]int:
		return len(m)
	case map[string]float64:
		return len(m)
	case map[string]bool:
		return len(m)
	}
	return 0
}

// appendScalars adds an attribute per top-level scalar key of data. Common
// map types are read directly; anything else that encodes as a JSON object
// (a struct, say) is read back from its encoding b.
func appendScalars(attrs []attribute.KeyValue, data any, b []byte) []attribute.KeyValue {
	switch m := data.(type) {
	case map[string]any:
		for _, k := range mapKeys(m) {
			if kv, ok := scalarAttr(k, m[k]); ok {
				attrs = append(attrs, kv)
			}
		}
	case map[string]string:
		for _, k := range mapKeys(m) {
			attrs = append(attrs, attribute.String(keys.DataPrefix+k, m[k]))
		}
	case map[string]int:
		for _, k := range mapKeys(m) {
			attrs = append(attrs, attribute.Int(keys.DataPrefix+k, m[k]))
		}
	case map[string]float64:
		for _, k := range mapKeys(m) {
			attrs = append(attrs, attribute.Float64(keys.DataPrefix+k, m[k]))
		}
	case map[string]bool:
		for _, k := range mapKeys(m) {
			attrs = append(attrs, attribute.Bool(keys.DataPrefix+k, m[k]))
		}
	default:
		if len(b) == 0 || b[0] != '{' {
			return attrs
		}
		var obj map[string]any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if dec.Decode(&obj) != nil {
			return attrs
		}
		for _, k := range mapKeys(obj) {
			if kv, ok := scalarAttr(k, obj[k]); ok {
				attrs = append(attrs, kv)
			}
		}
	}
	return attrs
}

// mapKeys returns m's keys: sorted when there are many, so that which keys
// an attribute count limit keeps is stable; in map order otherwise, to save
// the sort on the hot path.
func mapKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	if len(ks) > maxSortedScalars {
		slices.Sort(ks)
	}
	return ks
}

func scalarAttr(k string, v any) (attribute.KeyValue, bool) {
	key := keys.DataPrefix + k
	switch v := v.(type) {
	case string:
		return attribute.String(key, v), true
	case bool:
		return attribute.Bool(key, v), true
	case int:
		return attribute.Int(key, v), true
	case int64:
		return attribute.Int64(key, v), true
	case int32:
		return attribute.Int64(key, int64(v)), true
	case uint32:
		return attribute.Int64(key, int64(v)), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return attribute.KeyValue{}, false
		}
		return attribute.Float64(key, v), true
	case float32:
		return attribute.Float64(key, float64(v)), true
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return attribute.Int64(key, i), true
		}
		if f, err := v.Float64(); err == nil {
			return attribute.Float64(key, f), true
		}
	}
	return attribute.KeyValue{}, false
}

package tracker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// maxSortedScalars: above this many top-level keys, scalar attributes are
// added in key order so that which ones a span's attribute limit keeps does
// not vary from run to run. Below it the order does not matter.
const maxSortedScalars = 64

// dataAttributes appends a stage's data to attrs as span attributes. A
// flat map of scalars (see typedEntries) goes as typed attributes alone,
// stage_tracker.data.<key>, after its JSON length: searchable, and the
// exporter rebuilds the same JSON from them. Anything else goes as the
// whole value in JSON after its length, so the exporter can tell a value
// that span limits truncated; encoded, the JSON, is returned non-nil when
// the per-key copies of its scalars are still to be added (appendScalars),
// which the caller does after its other attributes: the SDK keeps the
// earliest attributes when its count limit is reached, and the copies
// matter least.
func dataAttributes(attrs []attribute.KeyValue, data any, maxSize int, dk *dataKeys) (_ []attribute.KeyValue, encoded []byte) {
	if data == nil {
		return attrs, nil
	}
	var buf [8]typedKV
	if entries, size, ok := typedEntries(data, buf[:]); ok {
		if maxSize > 0 && size > maxSize {
			return append(attrs, overCap(size, maxSize)), nil
		}
		return appendTyped(attrs, entries, size, dk), nil
	}
	var (
		b   []byte
		err error
	)
	if m, isMap := data.(map[string]any); isMap {
		if fb, _, ok := fastJSON(m); ok {
			b = fb
		}
	}
	if b == nil {
		b, err = json.Marshal(data)
	}
	if err != nil {
		return append(attrs, attribute.String(keys.StageDataError, "data cannot be encoded as JSON: "+err.Error())), nil
	}
	if maxSize > 0 && len(b) > maxSize {
		return append(attrs, overCap(len(b), maxSize)), nil
	}
	// The size first: if a count limit keeps only one, the exporter can
	// still tell the data was dropped; if both, whether it was cut.
	attrs = append(attrs,
		attribute.Int(keys.StageDataSize, len(b)),
		attribute.String(keys.StageData, string(b)),
	)
	return attrs, b
}

func overCap(size, maxSize int) attribute.KeyValue {
	return attribute.String(keys.StageDataError,
		fmt.Sprintf("data is %d bytes encoded, over the %d-byte cap (WithMaxDataSize); not recorded", size, maxSize))
}

// appendScalars adds an attribute per top-level scalar key of data. Common
// map types are read directly; anything else that encodes as a JSON object
// (a struct, say) is read back from its encoding b.
func appendScalars(attrs []attribute.KeyValue, data any, b []byte, dk *dataKeys) []attribute.KeyValue {
	switch m := data.(type) {
	case map[string]any:
		return appendMap(attrs, m, dk, scalarValue)
	case map[string]string:
		return appendMap(attrs, m, dk, func(v string) (attribute.Value, bool) { return attribute.StringValue(v), true })
	case map[string]int:
		return appendMap(attrs, m, dk, func(v int) (attribute.Value, bool) { return attribute.IntValue(v), true })
	case map[string]float64:
		return appendMap(attrs, m, dk, func(v float64) (attribute.Value, bool) { return scalarValue(v) })
	case map[string]bool:
		return appendMap(attrs, m, dk, func(v bool) (attribute.Value, bool) { return attribute.BoolValue(v), true })
	}
	if len(b) == 0 || b[0] != '{' {
		return attrs
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&obj) != nil {
		return attrs
	}
	return appendMap(attrs, obj, dk, scalarValue)
}

// appendMap adds an attribute for each key of m whose value conv takes: in
// key order when there are many, so that which keys an attribute count limit
// keeps is stable; in map order otherwise, to save the sort on the hot path.
func appendMap[V any](attrs []attribute.KeyValue, m map[string]V, dk *dataKeys, conv func(V) (attribute.Value, bool)) []attribute.KeyValue {
	add := func(k string, v V) {
		if val, ok := conv(v); ok {
			attrs = append(attrs, attribute.KeyValue{Key: dk.key(k), Value: val})
		}
	}
	if len(m) <= maxSortedScalars {
		for k, v := range m {
			add(k, v)
		}
		return attrs
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		add(k, m[k])
	}
	return attrs
}

// dataKeys caches the attribute key of each data key seen, so that a
// stage's per-key attributes do not build the same strings again. It holds
// at most maxDataKeys keys, so arbitrary keys cannot make it grow forever.
type dataKeys struct {
	m sync.Map // data key → attribute.Key
	n atomic.Int64
}

const maxDataKeys = 4096

func (d *dataKeys) key(k string) attribute.Key {
	if v, ok := d.m.Load(k); ok {
		return v.(attribute.Key)
	}
	key := attribute.Key(keys.DataPrefix + k)
	if d.n.Load() < maxDataKeys {
		if _, loaded := d.m.LoadOrStore(k, key); !loaded {
			d.n.Add(1)
		}
	}
	return key
}

// scalarValue converts a JSON scalar to an attribute value; objects, arrays,
// null, NaN and infinities are not scalars an attribute can hold.
func scalarValue(v any) (attribute.Value, bool) {
	switch v := v.(type) {
	case string:
		return attribute.StringValue(v), true
	case bool:
		return attribute.BoolValue(v), true
	case int:
		return attribute.IntValue(v), true
	case int64:
		return attribute.Int64Value(v), true
	case int32:
		return attribute.Int64Value(int64(v)), true
	case uint32:
		return attribute.Int64Value(int64(v)), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return attribute.Value{}, false
		}
		return attribute.Float64Value(v), true
	case float32:
		return attribute.Float64Value(float64(v)), true
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return attribute.Int64Value(i), true
		}
		if f, err := v.Float64(); err == nil {
			return attribute.Float64Value(f), true
		}
	}
	return attribute.Value{}, false
}

package tracker

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// maxTypedKeys is the most keys a data map may have to travel as typed
// attributes alone. Under the SDK's default limit of 128 attributes a span
// keeps them all beside its own; a larger map goes as one JSON attribute,
// which a count limit cannot cut key by key.
const maxTypedKeys = 32

// typedKV is one key of data carried as a typed attribute.
type typedKV struct {
	k string
	v attribute.Value
}

// typedEntries returns the keys of data, sorted, with their attribute
// values, and the length of data's JSON encoding, when data is a map that
// typed attributes hold exactly: at most maxTypedKeys keys, each valid
// UTF-8, each value a string (valid UTF-8), a bool, an integer that fits
// an int64 or a finite float64, so that the exporter's JSON from the
// attributes is byte for byte encoding/json's. ok is false otherwise, and
// the data goes as JSON. buf is where the entries go, to spare the
// allocation for small maps.
func typedEntries(data any, buf []typedKV) (entries []typedKV, size int, ok bool) {
	switch m := data.(type) {
	case map[string]any:
		return typedMap(m, buf, nil) // typedValue, called directly
	case map[string]string:
		return typedMap(m, buf, func(v string) (attribute.Value, bool) {
			return attribute.StringValue(v), utf8.ValidString(v)
		})
	case map[string]int:
		return typedMap(m, buf, func(v int) (attribute.Value, bool) { return attribute.IntValue(v), true })
	case map[string]float64:
		return typedMap(m, buf, func(v float64) (attribute.Value, bool) { return typedValue(v) })
	case map[string]bool:
		return typedMap(m, buf, func(v bool) (attribute.Value, bool) { return attribute.BoolValue(v), true })
	}
	return nil, 0, false
}

// sortEntries sorts by key: an insertion sort, as the maps are small and
// slices.SortFunc's comparison calls showed in profiles.
func sortEntries(e []typedKV) {
	for i := 1; i < len(e); i++ {
		for j := i; j > 0 && e[j].k < e[j-1].k; j-- {
			e[j], e[j-1] = e[j-1], e[j]
		}
	}
}

// typedMap is typedEntries for one map type; conv nil means typedValue.
func typedMap[V any](m map[string]V, buf []typedKV, conv func(V) (attribute.Value, bool)) ([]typedKV, int, bool) {
	if len(m) > maxTypedKeys {
		return nil, 0, false
	}
	entries := buf[:0]
	size := 1 // {
	for k, v := range m {
		var (
			val attribute.Value
			ok  bool
		)
		if conv == nil {
			val, ok = typedValue(v)
		} else {
			val, ok = conv(v)
		}
		if !ok || !utf8.ValidString(k) {
			return nil, 0, false
		}
		entries = append(entries, typedKV{k, val})
		size += jsonscalar.StringLen(k) + 2 + valueLen(val) // "k":v and a comma or }
	}
	if len(m) == 0 {
		size++
	}
	// Sorted, as the JSON is: a count limit then keeps the same keys at
	// every run, so what the exporter reports is the same too.
	sortEntries(entries)
	return entries, size, true
}

// appendTyped adds the typed form of data: its JSON length, then one
// attribute per key, in key order.
func appendTyped(attrs []attribute.KeyValue, entries []typedKV, size int, dk *dataKeys) []attribute.KeyValue {
	attrs = append(attrs, attribute.Int(keys.StageDataTypedSize, size))
	for _, e := range entries {
		attrs = append(attrs, attribute.KeyValue{Key: dk.key(e.k), Value: e.v})
	}
	return attrs
}

// valueLen is the length of v's JSON encoding.
func valueLen(v attribute.Value) int {
	switch v.Type() {
	case attribute.STRING:
		return jsonscalar.StringLen(v.AsString())
	case attribute.INT64:
		return jsonscalar.IntLen(v.AsInt64())
	case attribute.FLOAT64:
		return jsonscalar.FloatLen(v.AsFloat64())
	case attribute.BOOL:
		if v.AsBool() {
			return 4
		}
		return 5
	}
	return 0
}

// typedValue converts a scalar of data to the attribute value that
// encodes to the same JSON, or reports that there is none: nil, NaN, the
// infinities, float32 (encoding/json writes it in 32-bit form), integers
// beyond int64, and json.Number literals that would not be spelt the same.
func typedValue(v any) (attribute.Value, bool) {
	switch v := v.(type) {
	case string:
		return attribute.StringValue(v), utf8.ValidString(v)
	case bool:
		return attribute.BoolValue(v), true
	case int:
		return attribute.IntValue(v), true
	case int64:
		return attribute.Int64Value(v), true
	case int32:
		return attribute.Int64Value(int64(v)), true
	case int16:
		return attribute.Int64Value(int64(v)), true
	case int8:
		return attribute.Int64Value(int64(v)), true
	case uint8:
		return attribute.Int64Value(int64(v)), true
	case uint16:
		return attribute.Int64Value(int64(v)), true
	case uint32:
		return attribute.Int64Value(int64(v)), true
	case uint:
		return attribute.Int64Value(int64(v)), uint64(v) <= math.MaxInt64
	case uint64:
		return attribute.Int64Value(int64(v)), v <= math.MaxInt64
	case float64:
		return attribute.Float64Value(v), !math.IsNaN(v) && !math.IsInf(v, 0)
	case json.Number:
		// What redaction's decoding makes of every number.
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return attribute.Int64Value(i), strconv.FormatInt(i, 10) == string(v)
		}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil && !math.IsInf(f, 0) {
			var b [32]byte
			return attribute.Float64Value(f), string(jsonscalar.AppendFloat(b[:0], f)) == string(v)
		}
	}
	return attribute.Value{}, false
}

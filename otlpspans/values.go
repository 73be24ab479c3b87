package otlpspans

import (
	"encoding/base64"
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"

	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
)

// toAttributes converts m in order; dropped counts the entries with no
// value or no key, which the attribute API cannot hold.
func toAttributes(m pcommon.Map) (attrs []attribute.KeyValue, dropped int) {
	if m.Len() == 0 {
		return nil, 0
	}
	attrs = make([]attribute.KeyValue, 0, m.Len())
	for k, v := range m.All() {
		if k == "" {
			dropped++
			continue
		}
		av, ok := toValue(v)
		if !ok {
			dropped++
			continue
		}
		attrs = append(attrs, attribute.KeyValue{Key: attribute.Key(k), Value: av})
	}
	return attrs, dropped
}

// toValue converts one value; ok is false for an empty value.
func toValue(v pcommon.Value) (attribute.Value, bool) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return attribute.StringValue(v.Str()), true
	case pcommon.ValueTypeBool:
		return attribute.BoolValue(v.Bool()), true
	case pcommon.ValueTypeInt:
		return attribute.Int64Value(v.Int()), true
	case pcommon.ValueTypeDouble:
		return attribute.Float64Value(v.Double()), true
	case pcommon.ValueTypeBytes:
		return attribute.StringValue(base64.StdEncoding.EncodeToString(v.Bytes().AsRaw())), true
	case pcommon.ValueTypeSlice:
		return sliceValue(v.Slice()), true
	case pcommon.ValueTypeMap:
		return attribute.StringValue(string(appendJSON(nil, v, 0))), true
	default:
		return attribute.Value{}, false
	}
}

// sliceValue gives a typed slice when every element is the same scalar
// kind, else the array as a JSON string.
func sliceValue(s pcommon.Slice) attribute.Value {
	n := s.Len()
	if n == 0 {
		return attribute.StringSliceValue(nil)
	}
	kind := s.At(0).Type()
	for i := 1; i < n; i++ {
		if s.At(i).Type() != kind {
			return attribute.StringValue(string(appendSliceJSON(nil, s, 0)))
		}
	}
	switch kind {
	case pcommon.ValueTypeStr:
		out := make([]string, n)
		for i := range n {
			out[i] = s.At(i).Str()
		}
		return attribute.StringSliceValue(out)
	case pcommon.ValueTypeBool:
		out := make([]bool, n)
		for i := range n {
			out[i] = s.At(i).Bool()
		}
		return attribute.BoolSliceValue(out)
	case pcommon.ValueTypeInt:
		out := make([]int64, n)
		for i := range n {
			out[i] = s.At(i).Int()
		}
		return attribute.Int64SliceValue(out)
	case pcommon.ValueTypeDouble:
		out := make([]float64, n)
		for i := range n {
			out[i] = s.At(i).Double()
		}
		return attribute.Float64SliceValue(out)
	}
	return attribute.StringValue(string(appendSliceJSON(nil, s, 0)))
}

// maxDepth bounds the recursion on hostile nesting; deeper values become
// null.
const maxDepth = 64

// appendJSON spells v as JSON the way the package doc says. A kvlist is an
// object in the sender's key order (a repeated key is kept twice; most
// JSON decoders then keep the last). Strings are escaped as encoding/json
// does (HTML-safe, invalid UTF-8 replaced).
func appendJSON(b []byte, v pcommon.Value, depth int) []byte {
	if depth > maxDepth {
		return append(b, "null"...)
	}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return jsonscalar.AppendString(b, v.Str())
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(b, v.Bool())
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		d := v.Double()
		switch {
		case math.IsNaN(d):
			return append(b, `"NaN"`...)
		case math.IsInf(d, 1):
			return append(b, `"+Inf"`...)
		case math.IsInf(d, -1):
			return append(b, `"-Inf"`...)
		}
		return jsonscalar.AppendFloat(b, d)
	case pcommon.ValueTypeBytes:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes().AsRaw())
		return append(b, '"')
	case pcommon.ValueTypeSlice:
		return appendSliceJSON(b, v.Slice(), depth)
	case pcommon.ValueTypeMap:
		b = append(b, '{')
		first := true
		for k, e := range v.Map().All() {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = jsonscalar.AppendString(b, k)
			b = append(b, ':')
			b = appendJSON(b, e, depth+1)
		}
		return append(b, '}')
	default:
		return append(b, "null"...)
	}
}

func appendSliceJSON(b []byte, s pcommon.Slice, depth int) []byte {
	b = append(b, '[')
	for i := range s.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSON(b, s.At(i), depth+1)
	}
	return append(b, ']')
}

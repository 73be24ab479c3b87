package otlpconv

import (
	"encoding/base64"
	"encoding/json"
	"math"

	"go.opentelemetry.io/otel/attribute"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

// toAttributes converts kvs in order; dropped counts the entries with no
// value (or no key), which the attribute API cannot hold.
func toAttributes(kvs []*commonpb.KeyValue) (attrs []attribute.KeyValue, dropped int) {
	if len(kvs) == 0 {
		return nil, 0
	}
	attrs = make([]attribute.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		if kv == nil || kv.GetKey() == "" {
			dropped++
			continue
		}
		v, ok := toValue(kv.GetValue())
		if !ok {
			dropped++
			continue
		}
		attrs = append(attrs, attribute.KeyValue{Key: attribute.Key(kv.GetKey()), Value: v})
	}
	return attrs, dropped
}

// toValue converts one AnyValue; ok is false for an empty value.
func toValue(av *commonpb.AnyValue) (attribute.Value, bool) {
	switch v := av.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return attribute.StringValue(v.StringValue), true
	case *commonpb.AnyValue_BoolValue:
		return attribute.BoolValue(v.BoolValue), true
	case *commonpb.AnyValue_IntValue:
		return attribute.Int64Value(v.IntValue), true
	case *commonpb.AnyValue_DoubleValue:
		return attribute.Float64Value(v.DoubleValue), true
	case *commonpb.AnyValue_BytesValue:
		return attribute.StringValue(base64.StdEncoding.EncodeToString(v.BytesValue)), true
	case *commonpb.AnyValue_ArrayValue:
		return arrayValue(v.ArrayValue.GetValues()), true
	case *commonpb.AnyValue_KvlistValue:
		return attribute.StringValue(jsonString(av)), true
	default:
		return attribute.Value{}, false
	}
}

// arrayValue gives a typed slice when every element is the same scalar kind,
// else the array as a JSON string.
func arrayValue(vs []*commonpb.AnyValue) attribute.Value {
	if len(vs) == 0 {
		return attribute.StringSliceValue(nil)
	}
	switch vs[0].GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		out := make([]string, len(vs))
		for i, e := range vs {
			s, ok := e.GetValue().(*commonpb.AnyValue_StringValue)
			if !ok {
				return mixed(vs)
			}
			out[i] = s.StringValue
		}
		return attribute.StringSliceValue(out)
	case *commonpb.AnyValue_BoolValue:
		out := make([]bool, len(vs))
		for i, e := range vs {
			b, ok := e.GetValue().(*commonpb.AnyValue_BoolValue)
			if !ok {
				return mixed(vs)
			}
			out[i] = b.BoolValue
		}
		return attribute.BoolSliceValue(out)
	case *commonpb.AnyValue_IntValue:
		out := make([]int64, len(vs))
		for i, e := range vs {
			n, ok := e.GetValue().(*commonpb.AnyValue_IntValue)
			if !ok {
				return mixed(vs)
			}
			out[i] = n.IntValue
		}
		return attribute.Int64SliceValue(out)
	case *commonpb.AnyValue_DoubleValue:
		out := make([]float64, len(vs))
		for i, e := range vs {
			d, ok := e.GetValue().(*commonpb.AnyValue_DoubleValue)
			if !ok {
				return mixed(vs)
			}
			out[i] = d.DoubleValue
		}
		return attribute.Float64SliceValue(out)
	}
	return mixed(vs)
}

func mixed(vs []*commonpb.AnyValue) attribute.Value {
	return attribute.StringValue(jsonString(&commonpb.AnyValue{
		Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}},
	}))
}

// jsonString spells av as JSON. Its input is built from plain values only,
// so marshalling cannot fail.
func jsonString(av *commonpb.AnyValue) string {
	b, err := json.Marshal(plain(av, 0))
	if err != nil {
		return ""
	}
	return string(b)
}

// maxDepth bounds the recursion on hostile nesting; deeper values become null.
const maxDepth = 64

// plain turns av into values encoding/json spells as the package doc says.
// A kvlist is an object in the sender's key order (a repeated key is kept
// twice; most JSON decoders then keep the last).
func plain(av *commonpb.AnyValue, depth int) any {
	if depth > maxDepth {
		return nil
	}
	switch v := av.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return v.StringValue
	case *commonpb.AnyValue_BoolValue:
		return v.BoolValue
	case *commonpb.AnyValue_IntValue:
		return v.IntValue
	case *commonpb.AnyValue_DoubleValue:
		d := v.DoubleValue
		switch {
		case math.IsNaN(d):
			return "NaN"
		case math.IsInf(d, 1):
			return "+Inf"
		case math.IsInf(d, -1):
			return "-Inf"
		}
		return d
	case *commonpb.AnyValue_BytesValue:
		return base64.StdEncoding.EncodeToString(v.BytesValue)
	case *commonpb.AnyValue_ArrayValue:
		out := make([]any, len(v.ArrayValue.GetValues()))
		for i, e := range v.ArrayValue.GetValues() {
			out[i] = plain(e, depth+1)
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		obj := make(orderedObject, 0, len(v.KvlistValue.GetValues()))
		for _, kv := range v.KvlistValue.GetValues() {
			if kv == nil {
				continue
			}
			obj = append(obj, member{kv.GetKey(), plain(kv.GetValue(), depth+1)})
		}
		return obj
	default:
		return nil
	}
}

// orderedObject is a JSON object that keeps the sender's key order.
type orderedObject []member

type member struct {
	key   string
	value any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	buf := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			buf = append(buf, ',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		buf = append(append(buf, k...), ':')
		b, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		buf = append(buf, b...)
	}
	return append(buf, '}'), nil
}

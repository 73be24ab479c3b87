package jsonrun

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// reservedPrefixes are the attribute namespaces that never become a
// foreign span's data (see stageData): ours, the semantic conventions'
// names for the pipeline, errors, exceptions, the process and the code
// location, and the SDKs' own.
var reservedPrefixes = [...]string{
	"stage_tracker.", "cicd.", "otel.", "error.", "exception.",
	"process.", "telemetry.", "code.", "thread.",
}

// stageData reads a stage span's data, as the run file holds it (JSON, ""
// for none), and why data is missing, from the span's attributes:
//
//   - keys.StageData, JSON, whatever else the span holds; checked against
//     keys.StageDataSize and for validity, as anything may have sent it;
//   - else, with keys.StageDataTypedSize, the object of the typed
//     keys.DataPrefix attributes, prefix stripped, in key order: what the
//     tracker sends for a flat map of scalars, rebuilt byte for byte as
//     encoding/json writes it, and checked against the size so that a
//     value cut or a key dropped by span limits is detected;
//   - else, for a span not of the tracker's scope (another SDK following
//     the run convention), the object of its DataPrefix attributes
//     (prefix stripped) and of its attributes outside reservedPrefixes,
//     in key order, the prefixed one winning a clash; none is no data.
//
// It is pure and safe for concurrent use.
func stageData(s sdktrace.ReadOnlySpan) (data, dataErr string) {
	var (
		jsonData           string
		hasJSON, hasSize   bool
		typedSize, size    = -1, -1
		firstTyped, nTyped int
		typedSorted        = true
		lastTyped          attribute.Key
	)
	attrs := s.Attributes()
	for i, kv := range attrs {
		switch kv.Key {
		case keys.StageData:
			jsonData, hasJSON = kv.Value.AsString(), true
		case keys.StageDataSize:
			size, hasSize = int(kv.Value.AsInt64()), true
		case keys.StageDataTypedSize:
			typedSize = int(kv.Value.AsInt64())
		case keys.StageDataError:
			dataErr = kv.Value.AsString()
		default:
			if strings.HasPrefix(string(kv.Key), keys.DataPrefix) {
				if nTyped == 0 {
					firstTyped = i
				} else if kv.Key < lastTyped {
					typedSorted = false
				}
				lastTyped = kv.Key
				nTyped++
			}
		}
	}
	switch {
	case hasJSON && hasSize && len(jsonData) != size:
		return "", fmt.Sprintf("data truncated by span attribute limits: %d of %d bytes arrived; the value was dropped", len(jsonData), size)
	case hasJSON && !json.Valid([]byte(jsonData)):
		// Checked even when the size matches: a span from anything but
		// this tracker must not be able to make the run file invalid.
		return "", "data attribute is not valid JSON; the value was dropped"
	case hasJSON:
		return jsonData, dataErr
	case hasSize:
		return "", "data dropped by the span attribute count limit"
	case typedSize >= 0:
		got := typedData(attrs, firstTyped, nTyped, typedSorted, typedSize)
		switch {
		case len(got) < typedSize:
			return "", fmt.Sprintf("data truncated by span attribute limits: %d of %d bytes arrived; the value was dropped", len(got), typedSize)
		case len(got) > typedSize:
			// Another stage_tracker.data.<key> set on the span by hand.
			return "", fmt.Sprintf("data attributes make %d bytes, not the %d recorded; the value was dropped", len(got), typedSize)
		}
		return got, dataErr
	case dataErr == "" && s.InstrumentationScope().Name != keys.ScopeName:
		return foreignData(attrs), ""
	case dataErr == "" && s.DroppedAttributes() > 0:
		return "", "span attribute limits dropped " + strconv.Itoa(s.DroppedAttributes()) + " attributes; data may be missing"
	}
	return "", dataErr
}

// typedData writes the object of the n DataPrefix attributes of attrs,
// the first at index first, prefix stripped, in key order. size, the
// length the tracker computed, is the capacity: right for every span that
// arrived whole. The tracker sends them sorted, and then they are written
// as they come, with one allocation.
func typedData(attrs []attribute.KeyValue, first, n int, sorted bool, size int) string {
	typed := attrs[first:]
	if !sorted {
		typed = make([]attribute.KeyValue, 0, n)
		for _, kv := range attrs[first:] {
			if strings.HasPrefix(string(kv.Key), keys.DataPrefix) {
				typed = append(typed, kv)
			}
		}
		slices.SortStableFunc(typed, func(a, b attribute.KeyValue) int { return cmp.Compare(a.Key, b.Key) })
	}
	var sb strings.Builder
	sb.Grow(max(size, 2))
	var scratch [128]byte // one member at a time, on the stack unless longer
	b := append(scratch[:0], '{')
	wrote := 0
	for _, kv := range typed {
		k, ok := strings.CutPrefix(string(kv.Key), keys.DataPrefix)
		if !ok {
			continue
		}
		if wrote > 0 {
			b = append(b, ',')
		}
		wrote++
		b = jsonscalar.AppendString(b, k)
		b = append(b, ':')
		b = appendValue(b, kv.Value)
		sb.Write(b)
		b = scratch[:0]
		if wrote == n {
			break
		}
	}
	if wrote == 0 {
		sb.Write(b) // the {
	}
	sb.WriteByte('}')
	return sb.String()
}

// foreignData writes the object of a foreign span's data attributes (see
// stageData), or "" when it has none.
func foreignData(attrs []attribute.KeyValue) string {
	type entry struct {
		key      string
		v        attribute.Value
		prefixed bool
	}
	var entries []entry
	for _, kv := range attrs {
		k := string(kv.Key)
		if rest, ok := strings.CutPrefix(k, keys.DataPrefix); ok {
			entries = append(entries, entry{rest, kv.Value, true})
		} else if !reserved(k) {
			entries = append(entries, entry{k, kv.Value, false})
		}
	}
	if len(entries) == 0 {
		return ""
	}
	slices.SortStableFunc(entries, func(a, b entry) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		// The prefixed attribute first, so it is the one kept.
		switch {
		case a.prefixed == b.prefixed:
			return 0
		case a.prefixed:
			return -1
		}
		return 1
	})
	b := []byte{'{'}
	for i, e := range entries {
		if i > 0 && e.key == entries[i-1].key {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = jsonscalar.AppendString(b, e.key)
		b = append(b, ':')
		b = appendValue(b, e.v)
	}
	return string(append(b, '}'))
}

func reserved(k string) bool {
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// appendValue appends v as JSON: scalars as encoding/json writes them,
// NaN and the infinities (which JSON cannot hold) as null, slices as
// arrays, bytes as base64 (encoding/json's []byte), maps as objects.
func appendValue(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		return strconv.AppendBool(b, v.AsBool())
	case attribute.INT64:
		return strconv.AppendInt(b, v.AsInt64(), 10)
	case attribute.FLOAT64:
		return appendFloat(b, v.AsFloat64())
	case attribute.STRING:
		return jsonscalar.AppendString(b, v.AsString())
	case attribute.BOOLSLICE:
		return appendArray(b, v.AsBoolSlice(), strconv.AppendBool)
	case attribute.INT64SLICE:
		return appendArray(b, v.AsInt64Slice(), func(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) })
	case attribute.FLOAT64SLICE:
		return appendArray(b, v.AsFloat64Slice(), appendFloat)
	case attribute.STRINGSLICE:
		return appendArray(b, v.AsStringSlice(), jsonscalar.AppendString)
	case attribute.BYTESLICE:
		return jsonscalar.AppendString(b, base64.StdEncoding.EncodeToString(v.AsByteSlice()))
	case attribute.SLICE:
		return appendArray(b, v.AsSlice(), appendValue)
	case attribute.MAP:
		b = append(b, '{')
		for i, kv := range v.AsMap() {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonscalar.AppendString(b, string(kv.Key))
			b = append(b, ':')
			b = appendValue(b, kv.Value)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return jsonscalar.AppendFloat(b, f)
}

func appendArray[T any](b []byte, vs []T, app func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = app(b, v)
	}
	return append(b, ']')
}

package tracker

import (
	"math"
	"slices"
	"strconv"

	"github.com/stage-tracker/stage-tracker/internal/jsonscalar"
)

// fastJSON encodes the most common shape of stage data, a map of plain
// ASCII keys to plain ASCII strings, numbers and booleans, exactly as
// encoding/json would (keys sorted, same number format), without its
// reflection: that was a third of the cost of a stage. ok is false for
// anything else, which the caller hands to encoding/json. keys are the
// map's keys, sorted.
func fastJSON(m map[string]any) (b []byte, keys []string, ok bool) {
	keys = make([]string, 0, len(m))
	size := 2
	for k, v := range m {
		if !plain(k) {
			return nil, nil, false
		}
		keys = append(keys, k)
		size += len(k) + 4
		if s, isString := v.(string); isString {
			size += len(s) + 2
		} else {
			size += 24
		}
	}
	slices.Sort(keys)
	b = make([]byte, 0, size)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		switch v := m[k].(type) {
		case string:
			if !plain(v) {
				return nil, nil, false
			}
			b = append(b, '"')
			b = append(b, v...)
			b = append(b, '"')
		case bool:
			b = strconv.AppendBool(b, v)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case int32:
			b = strconv.AppendInt(b, int64(v), 10)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, false // encoding/json's error says why
			}
			b = jsonscalar.AppendFloat(b, v)
		case nil:
			b = append(b, "null"...)
		default:
			return nil, nil, false
		}
	}
	return append(b, '}'), keys, true
}

// plain reports whether s is printable ASCII that encoding/json writes as
// is: no quote, backslash, control character or HTML-escaped <, > and &.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

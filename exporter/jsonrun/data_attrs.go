package jsonrun

import (
	"encoding/json"
	"strings"

	"go.opentelemetry.io/otel/attribute"
)

// PLACEHOLDER until htrack's data rule lands (the coordinator reconciles):
// dataFromAttributes is the data of a span of another scope that has no
// stage_tracker.stage.data: stage_tracker.data (a JSON object) when
// present, else an object of the typed stage_tracker.data.<key> attributes
// (prefix stripped) and the span's other attributes outside reserved
// namespaces, in attribute order. "" when there are none.
func dataFromAttributes(attrs []attribute.KeyValue) string {
	var (
		keys []string
		vals []any
	)
	for _, kv := range attrs {
		k := string(kv.Key)
		switch {
		case k == "stage_tracker.data":
			if v := kv.Value.AsString(); json.Valid([]byte(v)) {
				return v
			}
			continue
		case strings.HasPrefix(k, "stage_tracker.data."):
			k = strings.TrimPrefix(k, "stage_tracker.data.")
		case reservedAttr(k):
			continue
		}
		keys = append(keys, k)
		vals = append(vals, kv.Value.AsInterface())
	}
	if len(keys) == 0 {
		return ""
	}
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(vals[i])
		if err != nil {
			vb = []byte("null") // NaN or ±Inf
		}
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return string(append(b, '}'))
}

func reservedAttr(k string) bool {
	for _, p := range []string{"stage_tracker.", "cicd.", "otel.", "exception.", "process.", "telemetry.", "code."} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return k == "error.type"
}

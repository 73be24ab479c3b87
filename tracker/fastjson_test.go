package tracker

import (
	"encoding/json"
	"math"
	"testing"
)

func TestFastJSONMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		m    map[string]any
		ok   bool
	}{
		{"empty", map[string]any{}, true},
		{"scalars", map[string]any{"b": true, "i": 3, "i64": int64(-9), "i32": int32(7), "s": "clean", "n": nil}, true},
		{"floats", map[string]any{"a": 0.93, "b": 1e21, "c": 1e-7, "d": 123456789.125, "e": math.Copysign(0, -1), "f": 1e20, "g": 5e-324, "h": math.MaxFloat64}, true},
		{"html", map[string]any{"s": "<b>&"}, false},
		{"unicode", map[string]any{"s": "café"}, false},
		{"nested", map[string]any{"m": map[string]any{}}, false},
		{"NaN", map[string]any{"x": math.NaN()}, false},
		{"quote key", map[string]any{`a"b`: 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, keys, ok := fastJSON(tc.m)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			want, err := json.Marshal(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("fastJSON = %s\nencoding/json = %s", got, want)
			}
			if len(keys) != len(tc.m) {
				t.Errorf("keys = %v", keys)
			}
		})
	}
}

func FuzzFastJSON(f *testing.F) {
	f.Add("k", "v", 1.5, int64(3), true)
	f.Add("", "", 1e-7, int64(-1), false)
	f.Fuzz(func(t *testing.T, k, s string, fl float64, i int64, bo bool) {
		m := map[string]any{k + "s": s, k + "f": fl, k + "i": i, k + "b": bo}
		got, _, ok := fastJSON(m)
		if !ok {
			return
		}
		want, err := json.Marshal(m)
		if err != nil || string(got) != string(want) {
			t.Fatalf("fastJSON = %s, encoding/json = %s (%v)", got, want, err)
		}
	})
}

package tracker_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// endOne ends one stage of a fresh run with data and returns the stage
// span's attributes and the stage record ToRun makes of the spans.
func endOne(t *testing.T, data any, o pipelineOpt) (map[attribute.Key]attribute.Value, runfile.Stage) {
	t.Helper()
	p := newPipeline(t, o)
	ctx, run := p.tr.Start(t.Context(), "data")
	_, s := run.StartStage(ctx, "s")
	s.End(data, nil)
	if err := run.Finalize(t.Context()); err != nil {
		t.Fatal(err)
	}
	var spans []sdktrace.ReadOnlySpan
	attrs := map[attribute.Key]attribute.Value{}
	for _, sp := range p.rec.Ended() {
		spans = append(spans, sp)
		if sp.Name() == "s" {
			for _, a := range sp.Attributes() {
				attrs[a.Key] = a.Value
			}
		}
	}
	r, err := jsonrun.ToRun(spans)
	if err != nil || len(r.Stages) != 1 {
		t.Fatalf("ToRun: %v, %v", r, err)
	}
	return attrs, r.Stages[0]
}

// wantJSON is the data as the tracker recorded it before typed attributes
// became the data: encoding/json's encoding.
func wantJSON(t *testing.T, data any) string {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTypedAttributesAreTheData(t *testing.T) {
	for _, tc := range []struct {
		name string
		data any
	}{
		{"four scalars", map[string]any{"rows": 1234, "loss": 0.25, "status": "ok", "cached": false}},
		{"empty map", map[string]any{}},
		{"escapes and HTML", map[string]any{`q"k\`: "<a href='x'>&amp;</a>\n\t\b\f\x01\x7f", "é": "日本\u2028\u2029"}},
		{"float forms", map[string]any{"a": 1.0, "b": 1e21, "c": 1e-7, "d": math.Copysign(0, -1), "e": 123456789.125, "f": math.MaxFloat64, "g": 5e-324}},
		{"integer kinds", map[string]any{"i": math.MinInt64, "i8": int8(-8), "i16": int16(16), "i32": int32(-32), "u8": uint8(255), "u16": uint16(65535), "u32": uint32(math.MaxUint32), "u": uint(7), "u64": uint64(math.MaxInt64)}},
		{"map of strings", map[string]string{"b": "2", "a": "1"}},
		{"map of ints", map[string]int{"x": -1, "y": 0}},
		{"map of floats", map[string]float64{"x": 0.1, "y": 2}},
		{"map of bools", map[string]bool{"t": true, "f": false}},
		{"32 keys", func() map[string]any {
			m := map[string]any{}
			for i := range 32 {
				m[fmt.Sprint("k", i)] = i
			}
			return m
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs, st := endOne(t, tc.data, pipelineOpt{})
			want := wantJSON(t, tc.data)
			if string(st.Data) != want || st.DataError != "" {
				t.Errorf("data %s (data_error %q), want %s", st.Data, st.DataError, want)
			}
			if v, ok := attrs[keys.StageData]; ok {
				t.Errorf("%s = %s beside the typed attributes: the data costs twice", keys.StageData, v.String())
			}
			if _, ok := attrs[keys.StageDataSize]; ok {
				t.Errorf("%s set for typed data", keys.StageDataSize)
			}
			if got := attrs[keys.StageDataTypedSize].AsInt64(); got != int64(len(want)) {
				t.Errorf("%s = %d, want %d", keys.StageDataTypedSize, got, len(want))
			}
		})
	}
}

func TestTypedDataSearchable(t *testing.T) {
	attrs, _ := endOne(t, map[string]any{"rows": 1234, "loss": 0.25, "status": "ok", "cached": false}, pipelineOpt{})
	for k, want := range map[attribute.Key]attribute.Value{
		"stage_tracker.data.rows":   attribute.Int64Value(1234),
		"stage_tracker.data.loss":   attribute.Float64Value(0.25),
		"stage_tracker.data.status": attribute.StringValue("ok"),
		"stage_tracker.data.cached": attribute.BoolValue(false),
	} {
		if got, ok := attrs[k]; !ok || got != want {
			t.Errorf("%s = %v (%v), want %v", k, got.String(), ok, want.String())
		}
	}
}

func TestDataTypedAttributesCannotHoldGoesAsJSON(t *testing.T) {
	wide := map[string]any{}
	for i := range 33 {
		wide[fmt.Sprint("k", i)] = i
	}
	type point struct{ X, Y int }
	for _, tc := range []struct {
		name       string
		data       any
		wantCopies []attribute.Key // scalar copies still searchable
	}{
		{"nested object", map[string]any{"n": 1, "o": map[string]any{"x": 1}}, []attribute.Key{"stage_tracker.data.n"}},
		{"array", map[string]any{"n": 1, "a": []any{1, "x"}}, []attribute.Key{"stage_tracker.data.n"}},
		{"null value", map[string]any{"n": 1, "z": nil}, []attribute.Key{"stage_tracker.data.n"}},
		{"float32", map[string]any{"f": float32(0.1)}, nil},
		{"uint64 beyond int64", map[string]any{"u": uint64(math.MaxUint64)}, nil},
		{"invalid UTF-8 key", map[string]any{"\xff": 1}, nil},
		{"invalid UTF-8 value", map[string]any{"s": "\xfe"}, nil},
		{"json.Number spelt otherwise", map[string]any{"n": json.Number("1.50")}, nil},
		{"more than 32 keys", wide, []attribute.Key{"stage_tracker.data.k32"}},
		{"struct", point{1, 2}, []attribute.Key{"stage_tracker.data.X"}},
		{"not a map", []int{1, 2}, nil},
		{"string", "done", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs, st := endOne(t, tc.data, pipelineOpt{})
			want := wantJSON(t, tc.data)
			if string(st.Data) != want || st.DataError != "" {
				t.Errorf("data %s (data_error %q), want %s", st.Data, st.DataError, want)
			}
			if got := attrs[keys.StageData].AsString(); got != want {
				t.Errorf("%s = %q, want %q", keys.StageData, got, want)
			}
			if _, ok := attrs[keys.StageDataTypedSize]; ok {
				t.Errorf("%s set beside the JSON", keys.StageDataTypedSize)
			}
			for _, k := range tc.wantCopies {
				if _, ok := attrs[k]; !ok {
					t.Errorf("no searchable copy %s", k)
				}
			}
		})
	}
}

func TestTypedDataRedacted(t *testing.T) {
	// Redaction decodes numbers as json.Number: they still go typed.
	data := map[string]any{"token": "s3cr3t", "rows": 12, "ratio": 0.5, "big": 1e21}
	attrs, st := endOne(t, data, pipelineOpt{trOpts: []tracker.Option{tracker.WithRedactKeys("token")}})
	want := wantJSON(t, map[string]any{"token": tracker.Redacted, "rows": 12, "ratio": 0.5, "big": 1e21})
	if string(st.Data) != want {
		t.Errorf("data %s, want %s", st.Data, want)
	}
	if _, ok := attrs[keys.StageData]; ok {
		t.Errorf("redacted flat data went as JSON")
	}
}

func TestTypedDataOverMaxSize(t *testing.T) {
	_, st := endOne(t, map[string]any{"s": strings.Repeat("x", 100)}, pipelineOpt{trOpts: []tracker.Option{tracker.WithMaxDataSize(50)}})
	if len(st.Data) != 0 || st.DataError != "data is 108 bytes encoded, over the 50-byte cap (WithMaxDataSize); not recorded" {
		t.Errorf("data %s, data_error %q", st.Data, st.DataError)
	}
}

func TestTypedDataCutBySpanLimits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limits  sdktrace.SpanLimits
		wantErr string
	}{
		// name, run id, the typed size, then the keys in key order: a
		// count limit of 5 keeps "a" and "b", at every run.
		{"count limit", sdktrace.SpanLimits{AttributeCountLimit: 5, AttributeValueLengthLimit: -1}, "data truncated by span attribute limits: 64 of 70 bytes arrived; the value was dropped"},
		{"value length limit", sdktrace.SpanLimits{AttributeCountLimit: 128, AttributeValueLengthLimit: 40}, "data truncated by span attribute limits: 60 of 70 bytes arrived; the value was dropped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limits := tc.limits
			limits.EventCountLimit, limits.LinkCountLimit = 128, 128
			limits.AttributePerEventCountLimit, limits.AttributePerLinkCountLimit = 128, 128
			limits.AttributeValueDepthLimit = -1
			for range 3 { // the same outcome each time, whatever the map order
				_, st := endOne(t, map[string]any{"a": 1, "b": strings.Repeat("x", 50), "c": 3}, pipelineOpt{provOpts: []sdktrace.TracerProviderOption{sdktrace.WithRawSpanLimits(limits)}})
				if len(st.Data) != 0 || st.DataError != tc.wantErr {
					t.Fatalf("data %s, data_error %q, want null and %q", st.Data, st.DataError, tc.wantErr)
				}
			}
		})
	}
}

// FuzzTypedDataRoundTrip: any map data, through a span and back into a
// stage record, is the JSON encoding/json makes of it, as the tracker
// recorded before, whether it travelled typed or as JSON.
func FuzzTypedDataRoundTrip(f *testing.F) {
	f.Add("rows\x00loss\x00status\x00cached", []byte{2, 3, 0, 1}, 0.25, int64(1234), false)
	f.Add("a\x00<b>\x00\xff\x00\u2028", []byte{0, 0, 0, 0, 4}, 1e21, int64(-1), true)
	f.Add("x\x00y", []byte{5, 6, 7, 8, 9, 10, 11}, math.Copysign(0, -1), int64(math.MaxInt64), false)
	f.Fuzz(func(t *testing.T, keyBlob string, kinds []byte, x float64, n int64, redact bool) {
		if len(kinds) > 40 {
			kinds = kinds[:40]
		}
		names := strings.Split(keyBlob, "\x00")
		m := map[string]any{}
		for i, k := range kinds {
			key := names[i%len(names)]
			s := names[(i+1)%len(names)]
			switch k % 12 {
			case 0:
				m[key] = s
			case 1:
				m[key] = n%2 == 0
			case 2:
				m[key] = n + int64(i)
			case 3:
				m[key] = x * float64(i+1)
			case 4:
				m[key] = int(n)
			case 5:
				m[key] = nil
			case 6:
				m[key] = float32(x)
			case 7:
				m[key] = uint64(n)
			case 8:
				m[key] = map[string]any{s: x}
			case 9:
				m[key] = []any{s, n}
			case 10:
				m[key] = json.Number(s)
			case 11:
				m[key] = uint8(n)
			}
		}
		want, err := json.Marshal(m)
		if err != nil {
			return // not encodable: data_error, as before (other tests)
		}
		var o pipelineOpt
		if redact {
			o.trOpts = []tracker.Option{tracker.WithRedactKeys("\x00none")}
			if want, err = json.Marshal(redactedForm(t, want)); err != nil {
				return
			}
		}
		_, st := endOne(t, m, o)
		if string(st.Data) != string(want) {
			t.Errorf("data %s (data_error %q), want %s", st.Data, st.DataError, want)
		}
	})
}

// redactedForm is what redaction passes on: the value decoded from JSON
// with numbers as json.Number.
func redactedForm(t *testing.T, b []byte) any {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

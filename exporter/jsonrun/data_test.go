package jsonrun

import (
	"encoding/json"
	"math"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stage-tracker/stage-tracker/internal/keys"
)

func TestStageData(t *testing.T) {
	ours := instrumentation.Scope{Name: keys.ScopeName}
	other := instrumentation.Scope{Name: "opentelemetry-python"}
	for _, tc := range []struct {
		name     string
		scope    instrumentation.Scope
		attrs    []attribute.KeyValue
		dropped  int
		wantData string
		wantErr  string
	}{
		{
			name:  "typed, in any order",
			scope: ours,
			attrs: []attribute.KeyValue{
				attribute.Int(keys.StageDataTypedSize, 48),
				attribute.String(keys.DataPrefix+"s", "<ok>"),
				attribute.Bool(keys.DataPrefix+"b", true),
				attribute.Int(keys.DataPrefix+"n", -3),
				attribute.Float64(keys.DataPrefix+"f", 1e21),
			},
			wantData: `{"b":true,"f":1e+21,"n":-3,"s":"\u003cok\u003e"}`,
		},
		{
			name:     "typed empty map",
			scope:    ours,
			attrs:    []attribute.KeyValue{attribute.Int(keys.StageDataTypedSize, 2)},
			wantData: `{}`,
		},
		{
			name:    "typed with a key more than the size says",
			scope:   ours,
			attrs:   []attribute.KeyValue{attribute.Int(keys.StageDataTypedSize, 7), attribute.Int(keys.DataPrefix+"a", 1), attribute.Int(keys.DataPrefix+"b", 2)},
			wantErr: "data attributes make 13 bytes, not the 7 recorded; the value was dropped",
		},
		{
			name:     "JSON wins over its searchable copies",
			scope:    ours,
			attrs:    []attribute.KeyValue{attribute.Int(keys.StageDataSize, 16), attribute.String(keys.StageData, `{"a":1,"o":{}}  `), attribute.Int(keys.DataPrefix+"a", 1)},
			wantData: `{"a":1,"o":{}}  `,
		},
		{
			name:    "JSON not valid",
			scope:   other,
			attrs:   []attribute.KeyValue{attribute.String(keys.StageData, `{"a":`)},
			wantErr: "data attribute is not valid JSON; the value was dropped",
		},
		{
			name:  "our span without data: attributes a user added stay out",
			scope: ours,
			attrs: []attribute.KeyValue{attribute.String(keys.StageName, "s"), attribute.String("user.added", "x")},
		},
		{
			name:  "foreign span: attributes outside reserved namespaces, in key order",
			scope: other,
			attrs: []attribute.KeyValue{
				attribute.String(keys.StageName, "load"),
				attribute.String(keys.RunID, "3f2c1e9a-8d4b-4c55-9a57-2f1d0c3b4a5e"),
				attribute.String("http.request.method", "GET"),
				attribute.Int(keys.DataPrefix+"rows", 3),
				attribute.Int("rows", 4), // the prefixed one wins
				attribute.String("cicd.pipeline.task.name", "load"),
				attribute.String("error.type", "timeout"),
				attribute.String("exception.message", "boom"),
				attribute.StringSlice("process.command_args", []string{"x"}),
				attribute.String("code.function.name", "f"),
				attribute.String("thread.name", "main"),
				attribute.String("otel.status_code", "ERROR"),
				attribute.String("telemetry.sdk.name", "opentelemetry"),
				attribute.Float64("nan", math.NaN()),
				attribute.Int64Slice("ids", []int64{1, 2}),
				attribute.StringSlice("tags", []string{"a", "<b>"}),
				attribute.BoolSlice("flags", []bool{true}),
				attribute.Float64Slice("xs", []float64{0.5, math.Inf(1)}),
			},
			wantData: `{"flags":[true],"http.request.method":"GET","ids":[1,2],"nan":null,"rows":3,"tags":["a","\u003cb\u003e"],"xs":[0.5,null]}`,
		},
		{
			name:  "foreign span with nothing but reserved attributes",
			scope: other,
			attrs: []attribute.KeyValue{attribute.String(keys.StageName, "load"), attribute.String("exception.type", "E")},
		},
		{
			name:    "our span, data attributes dropped by the count limit",
			scope:   ours,
			attrs:   []attribute.KeyValue{attribute.String(keys.StageName, "s")},
			dropped: 3,
			wantErr: "span attribute limits dropped 3 attributes; data may be missing",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tracetest.SpanStub{Name: "s", InstrumentationScope: tc.scope, Attributes: tc.attrs, DroppedAttributes: tc.dropped}.Snapshot()
			data, dataErr := stageData(s)
			if data != tc.wantData || dataErr != tc.wantErr {
				t.Errorf("stageData = %s, %q; want %s, %q", data, dataErr, tc.wantData, tc.wantErr)
			}
			if data != "" && !json.Valid([]byte(data)) {
				t.Errorf("data %s is not valid JSON", data)
			}
		})
	}
}

package tracker_test

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stage-tracker/stage-tracker/tracker"
)

// TestBaggageAttributes: with WithBaggageAttributes, a run records the
// baggage of its context as baggage.<key> attributes of the run span; the
// keys given select members; without the option, none.
func TestBaggageAttributes(t *testing.T) {
	team, _ := baggage.NewMember("team", "ml")
	ticket, _ := baggage.NewMember("ticket", "OPS-1")
	bag, _ := baggage.New(team, ticket)
	cases := []struct {
		name string
		opts []tracker.Option
		want map[attribute.Key]string
	}{
		{"off by default", nil, map[attribute.Key]string{}},
		{"every member", []tracker.Option{tracker.WithBaggageAttributes()}, map[attribute.Key]string{"baggage.team": "ml", "baggage.ticket": "OPS-1"}},
		{"the members named", []tracker.Option{tracker.WithBaggageAttributes("team")}, map[attribute.Key]string{"baggage.team": "ml"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			tr := tracker.New(append(tc.opts, tracker.WithTracerProvider(tp))...)
			_, run := tr.Start(baggage.ContextWithBaggage(t.Context(), bag), "r")
			_ = run.Finalize(t.Context())
			got := map[attribute.Key]string{}
			for _, kv := range rec.Ended()[0].Attributes() {
				if len(kv.Key) > 8 && kv.Key[:8] == "baggage." {
					got[kv.Key] = kv.Value.AsString()
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("baggage attributes %v; want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q; want %q", k, got[k], v)
				}
			}
		})
	}
}

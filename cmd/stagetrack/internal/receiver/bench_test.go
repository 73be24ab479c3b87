package receiver_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/receiver"
	"github.com/stage-tracker/stage-tracker/otlpspans"
)

// realisticJSON is an OTLP/HTTP JSON request as the JS SDK's exporter
// sends it: one resource with the SDK's attributes, one scope, n spans of
// one trace with hex ids, 8 attributes each, times as strings (about 860
// bytes a span).
func realisticJSON(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"resourceSpans":[{"resource":{"attributes":[` +
		`{"key":"service.name","value":{"stringValue":"checkout-pipeline"}},` +
		`{"key":"telemetry.sdk.language","value":{"stringValue":"nodejs"}},` +
		`{"key":"telemetry.sdk.name","value":{"stringValue":"opentelemetry"}},` +
		`{"key":"telemetry.sdk.version","value":{"stringValue":"2.12.1"}},` +
		`{"key":"host.name","value":{"stringValue":"ci-runner-17"}},` +
		`{"key":"process.pid","value":{"intValue":48213}}],"droppedAttributesCount":0},` +
		`"scopeSpans":[{"scope":{"name":"node-pipeline","version":"1.4.0"},"spans":[`)
	const t0 = 1764666000000000000
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		parent := ""
		if i > 0 {
			parent = fmt.Sprintf(`"parentSpanId":"%016x",`, 0x00f067aa0ba90000+uint64(i/8))
		}
		fmt.Fprintf(&b, `{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"%016x",%s"name":"stage-%d","kind":1,`+
			`"startTimeUnixNano":"%d","endTimeUnixNano":"%d","attributes":[`+
			`{"key":"stage_tracker.run.id","value":{"stringValue":"7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a01"}},`+
			`{"key":"stage_tracker.stage.name","value":{"stringValue":"stage-%d"}},`+
			`{"key":"http.request.method","value":{"stringValue":"GET"}},`+
			`{"key":"url.full","value":{"stringValue":"https://storage.example.com/bucket/part-%05d.csv"}},`+
			`{"key":"http.response.status_code","value":{"intValue":200}},`+
			`{"key":"rows","value":{"intValue":%d}},`+
			`{"key":"ratio","value":{"doubleValue":0.%d}},`+
			`{"key":"cached","value":{"boolValue":%t}}],"droppedAttributesCount":0,`+
			`"events":[],"droppedEventsCount":0,"status":{"code":0},"links":[],"droppedLinksCount":0}`,
			0x00f067aa0ba90000+uint64(i+1), parent, i, t0+int64(i)*1e6, t0+int64(i+1)*1e6, i, i, i*37, i+1, i%2 == 0)
	}
	b.WriteString(`]}]}]}`)
	return b.Bytes()
}

// realisticProto is realisticJSON(n) in protobuf.
func realisticProto(tb testing.TB, n int) []byte {
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(realisticJSON(n))
	if err != nil {
		tb.Fatal(err)
	}
	var m ptrace.ProtoMarshaler
	b, err := m.MarshalTraces(td)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkReceiver: one request of an SDK's default batch (512 spans)
// over loopback, in protobuf and in JSON (as the JS SDK sends). The sink
// drops the spans: this is the receiver's own cost, HTTP included.
func BenchmarkReceiver(b *testing.B) {
	const spans = 512
	for _, bc := range []struct {
		name, media string
		body        []byte
	}{
		{"protobuf", "application/x-protobuf", realisticProto(b, spans)},
		{"JSON", "application/json", realisticJSON(spans)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r, err := receiver.Start(b.Context(), func(got []sdktrace.ReadOnlySpan) {
				if len(got) != spans {
					b.Errorf("the sink got %d spans, want %d", len(got), spans)
				}
			}, receiver.WithMaxSpans(1<<62))
			if err != nil {
				b.Fatal(err)
			}
			defer r.Shutdown(b.Context())
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				hreq, _ := http.NewRequest("POST", r.URL(), bytes.NewReader(bc.body))
				hreq.Header.Set("Content-Type", bc.media)
				hreq.Header.Set("Authorization", "Bearer "+r.Token())
				resp, err := client.Do(hreq)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("%v %v", resp, err)
				}
				resp.Body.Close()
			}
		})
	}
}

// BenchmarkDecode splits BenchmarkReceiver/JSON's work: pdata's decoding
// alone (the Collector's own cost) and with the conversion to SDK spans.
func BenchmarkDecode(b *testing.B) {
	body := realisticJSON(512)
	b.Run("pdata", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var u ptrace.JSONUnmarshaler
			if _, err := u.UnmarshalTraces(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pdata+otlpspans", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var u ptrace.JSONUnmarshaler
			td, err := u.UnmarshalTraces(body)
			if err != nil {
				b.Fatal(err)
			}
			if spans, _ := otlpspans.FromTraces(td); len(spans) != 512 {
				b.Fatal(len(spans))
			}
		}
	})
}

package cli_test

import (
	"bytes"
	"net/http"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// BenchmarkOTLPReceiver: one request of an SDK's default batch (512 spans)
// over loopback, protobuf against JSON (which is decoded twice, to turn
// its hex ids into base64). The sink drops the spans: this is the
// receiver's own cost.
func BenchmarkOTLPReceiver(b *testing.B) {
	req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: toProto(testStubs(512))}
	pb, _ := proto.Marshal(req)
	js, _ := protojson.Marshal(req) // base64 ids: the receiver leaves them, so same work minus the rewrite
	for _, bc := range []struct {
		name, media string
		body        []byte
	}{
		{"protobuf", "application/x-protobuf", pb},
		{"JSON", "application/json", js},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r, err := cli.StartOTLPReceiver(func([]sdktrace.ReadOnlySpan) {}, cli.OTLPMaxBody, 1<<62)
			if err != nil {
				b.Fatal(err)
			}
			defer cli.OTLPShutdown(r, b.Context())
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

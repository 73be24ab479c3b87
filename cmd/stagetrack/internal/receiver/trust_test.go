package receiver_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/receiver"
)

// slowBody is a request body the test controls: its first Read reports on
// started and then blocks until release is closed (or the request ends).
// With "Expect: 100-continue", the client's transport reads the body only
// once the server's handler has started reading it.
type slowBody struct {
	started chan<- struct{}
	release <-chan struct{}
	once    sync.Once
}

func (b *slowBody) Read(p []byte) (int, error) {
	b.once.Do(func() { b.started <- struct{}{} })
	<-b.release
	return 0, errors.New("sender gave up")
}

// TestSlowSendersDoNotStarve: four authenticated senders whose bodies
// trickle (here: stop) hold no decode slot, so a fifth, normal request is
// answered at once; on the receiver that took a slot before reading, it
// waited for one of them to time out (30 s).
func TestSlowSendersDoNotStarve(t *testing.T) {
	r, sink := startReceiver(t, receiver.DefaultMaxBody, 100)
	auth := map[string]string{"Content-Type": "application/x-protobuf", "Authorization": "Bearer " + r.Token()}

	const slow = 4
	started := make(chan struct{}, slow)
	release := make(chan struct{})
	tr := &http.Transport{ExpectContinueTimeout: time.Hour}
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)
	for range slow {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL(), &slowBody{started: started, release: release})
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = 1 << 20
		req.Header.Set("Expect", "100-continue")
		for k, v := range auth {
			req.Header.Set(k, v)
		}
		wg.Go(func() {
			if resp, err := (&http.Client{Transport: tr}).Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	for range slow {
		<-started // each handler is reading its body
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL(), strings.NewReader(string(requestBody(t, testStubs(2)))))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range auth {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatalf("a normal request behind four slow ones: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(sink.names()) != 2 {
		t.Errorf("status %d, %d spans taken; want 200 and 2", resp.StatusCode, len(sink.names()))
	}
}

// TestBodyTimeout: a body that does not arrive within the body timeout
// ends its request; the receiver goes on serving.
func TestBodyTimeout(t *testing.T) {
	sink := &spanSink{}
	r, err := receiver.Start(t.Context(), sink.end, receiver.WithBodyTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	defer close(release)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL(), &slowBody{started: started, release: release})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 1 << 20
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Authorization", "Bearer "+r.Token())
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("status 200 for a body that never came")
		}
	}
	if got := post(t, http.MethodPost, r.URL(), map[string]string{"Content-Type": "application/x-protobuf", "Authorization": "Bearer " + r.Token()}, requestBody(t, testStubs(1))); got.code != http.StatusOK {
		t.Errorf("after a timed-out body: status %d, want 200", got.code)
	}
}

// TestTokenRedactedInSpans: a child that puts the run's credential in its
// spans (its environment as an attribute, an error quoting its headers)
// does not write it into the run: the exact token becomes [REDACTED]
// wherever it is, whatever surrounds it.
func TestTokenRedactedInSpans(t *testing.T) {
	r, sink := startReceiver(t, receiver.DefaultMaxBody, 100)
	tok := r.Token()
	stubs := testStubs(2)
	stubs[0].Attributes = append(stubs[0].Attributes,
		attribute.String("env", "OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20"+tok),
		attribute.StringSlice("argv", []string{"curl", "-H", "Authorization: Bearer " + tok}),
		attribute.String("log", "token "+tok+" kept whole?"),
	)
	stubs[1].Status = sdktrace.Status{Code: codes.Error, Description: "401 with Authorization: [REDACTED] " + tok}
	stubs[1].Name = "span " + tok
	if err := exportSDK(t, r, stubs); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.spans) != 2 {
		t.Fatalf("%d spans, want 2", len(sink.spans))
	}
	var all []string
	for _, s := range sink.spans {
		all = append(all, s.Name(), s.Status().Description)
		for _, kv := range s.Attributes() {
			all = append(all, kv.Value.String())
		}
	}
	text := strings.Join(all, "\n")
	if strings.Contains(text, tok) {
		t.Errorf("the token reached the sink:\n%s", text)
	}
	if strings.Count(text, "[REDACTED]") < 6 {
		t.Errorf("want the token replaced by [REDACTED] in each place:\n%s", text)
	}
}

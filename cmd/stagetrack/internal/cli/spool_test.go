package cli_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// flakyOTLP is an OTLP/HTTP endpoint that answers 503 while down is set,
// as a Collector does while it restarts, and takes spans otherwise.
func flakyOTLP(t *testing.T) (*httptest.Server, *collector, *atomic.Bool) {
	t.Helper()
	var down atomic.Bool
	h, c := otlpHandler(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, c, &down
}

// TestExecSpoolsWhatTheEndpointRefused: exec exporting over OTLP while
// the endpoint is down keeps its spans in the spool (a 0600 file), says so
// in one line, and exits with CMD's code; once the endpoint is back,
// "stagetrack send" delivers them, exactly once, and empties the spool.
// On main the stage was gone after a warning.
func TestExecSpoolsWhatTheEndpointRefused(t *testing.T) {
	const runID = "af3c980c-3d22-46e8-83cd-7ff99abee586"
	for _, tc := range []struct {
		name      string
		args      []string
		wantCode  int
		sendArgs  []string
		join      []string // TRACEPARENT and STAGE_TRACKER_RUN_ID: a step of a run a Collector writes
		wantSpans int
	}{
		{name: "default", wantCode: 0, sendArgs: nil, wantSpans: 2},
		{name: "strict export", args: []string{"--strict-export"}, wantCode: 1, sendArgs: []string{"--spool"}, wantSpans: 2},
		{
			name:      "a step joined by TRACEPARENT, its run id in upper case",
			join:      []string{tracker.EnvTraceParent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracker.EnvRunID, strings.ToUpper(runID)},
			wantSpans: 2, // the stage and its process's count span
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Outside any run the test itself runs in.
			for _, k := range []string{tracker.EnvRunID, tracker.EnvJournal, tracker.EnvTraceParent, tracker.EnvTraceState} {
				t.Setenv(k, "")
			}
			srv, got, down := flakyOTLP(t)
			spool := t.TempDir()
			env := setenv(t, append([]string{"OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL, cli.EnvSpool, spool}, tc.join...)...)
			down.Store(true)

			args := append([]string{"exec", "--dir", t.TempDir(), "--stage", "build"}, tc.args...)
			r := invocation{env: env}.run(t, append(args, "--", "true")...)
			if r.code != tc.wantCode {
				t.Fatalf("exec: exit %d, want %d; stderr %q", r.code, tc.wantCode, r.stderr)
			}
			if n := strings.Count(r.stderr, "kept in "+spool); n != 1 {
				t.Errorf("exec's stderr says %d times where the spans are kept, want once:\n%s", n, r.stderr)
			}
			files, _ := filepath.Glob(filepath.Join(spool, "*.otlp.json"))
			if len(files) != 1 {
				t.Fatalf("spool holds %v, want one file", files)
			}
			if tc.join != nil && !strings.HasPrefix(filepath.Base(files[0]), runID+"-") {
				t.Errorf("spool file %s, want it named by the run's id in lower case", files[0])
			}
			if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("spool file mode %v (%v), want 0600", fi.Mode().Perm(), err)
			}
			got.mu.Lock()
			before := len(got.spans)
			got.mu.Unlock()
			if before != 0 {
				t.Fatalf("the endpoint took %d spans while down", before)
			}

			down.Store(false)
			s := invocation{env: env}.run(t, append([]string{"send"}, tc.sendArgs...)...)
			if s.code != 0 || !strings.Contains(s.stdout, "sent spool file") {
				t.Fatalf("send: exit %d stdout %q stderr %q", s.code, s.stdout, s.stderr)
			}
			if left, _ := filepath.Glob(filepath.Join(spool, "*")); len(left) != 0 {
				t.Errorf("spool after send: %v, want empty", left)
			}
			// Sent again: nothing left to send, nothing sent twice.
			if s := (invocation{env: env}).run(t, "send"); s.code != 0 || !strings.Contains(s.stderr, "holds nothing") {
				t.Errorf("second send: exit %d stdout %q stderr %q", s.code, s.stdout, s.stderr)
			}
			got.mu.Lock()
			defer got.mu.Unlock()
			ids := map[string]int{}
			for _, sp := range got.spans {
				ids[fmt.Sprintf("%s %x", sp.GetName(), sp.GetSpanId())]++
			}
			if len(got.spans) != tc.wantSpans || len(ids) != tc.wantSpans {
				t.Errorf("the endpoint got %d spans %v; want %d (the run's, if its own, or the count span of a joined step, and the stage's), once each", len(got.spans), ids, tc.wantSpans)
			}
			for _, sp := range got.spans {
				for _, kv := range sp.GetAttributes() {
					if (kv.GetKey() == keys.RunID || kv.GetKey() == keys.ProcessRunID) && tc.join != nil && kv.GetValue().GetStringValue() != runID {
						t.Errorf("span %s has run id %q, want %s", sp.GetName(), kv.GetValue().GetStringValue(), runID)
					}
				}
			}
		})
	}
}

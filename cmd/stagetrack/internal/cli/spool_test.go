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
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		sendArgs []string
	}{
		{name: "default", wantCode: 0, sendArgs: nil},
		{name: "strict export", args: []string{"--strict-export"}, wantCode: 1, sendArgs: []string{"--spool"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outsideRun(t)
			srv, got, down := flakyOTLP(t)
			spool := t.TempDir()
			env := setenv(t, "OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL, cli.EnvSpool, spool)
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
			if len(got.spans) != 2 || len(ids) != 2 {
				t.Errorf("the endpoint got %d spans %v; want the run's and the stage's, once each", len(got.spans), ids)
			}
		})
	}
}

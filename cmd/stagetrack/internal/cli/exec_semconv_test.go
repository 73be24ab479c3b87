package cli_test

import (
	"net/http"
	"slices"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// TestExecProcessAttributes: an exec stage's span carries the semantic
// conventions' process.command_args and process.exit.code.
func TestExecProcessAttributes(t *testing.T) {
	srv, col := otlpHTTP(t, http.StatusOK)
	env := setenv(t, "OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL, "OTEL_EXPORTER_OTLP_INSECURE", "true")
	invocation{env: env}.run(t, "exec", "--dir", t.TempDir(), "--stage", "s", "--", "sh", "-c", "exit 3")
	col.mu.Lock()
	defer col.mu.Unlock()
	found := false
	for _, s := range col.spans {
		if !slices.ContainsFunc(s.GetAttributes(), func(kv *commonpb.KeyValue) bool { return kv.GetKey() == keys.StageName }) {
			continue // the run span
		}
		found = true
		var args []string
		code := int64(-1)
		for _, kv := range s.GetAttributes() {
			switch kv.GetKey() {
			case "process.command_args":
				for _, v := range kv.GetValue().GetArrayValue().GetValues() {
					args = append(args, v.GetStringValue())
				}
			case "process.exit.code":
				code = kv.GetValue().GetIntValue()
			}
		}
		if !slices.Equal(args, []string{"sh", "-c", "exit 3"}) || code != 3 {
			t.Errorf("process.command_args %q, process.exit.code %d; want [sh -c exit 3] and 3", args, code)
		}
	}
	if !found {
		t.Fatalf("no stage span among %d spans", len(col.spans))
	}
}

//go:build e2e

package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestJaegerPythonClient (issue 24) runs the Python stage-tracker's README
// quick start, verbatim (testdata/python/quickstart.py), on our Python
// package (python/stage_tracker, standard library only) with
// OTEL_EXPORTER_OTLP_ENDPOINT pointing at Jaeger: its run file is written
// as the user asked, and Jaeger has the run, in the file's trace, the run
// span with its two stages under it.
func TestJaegerPythonClient(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is not on PATH: in CI the Python client must be tested")
		}
		t.Skip("python3 is not on PATH")
	}
	ep := jaegerEndpoints(t)
	pkg, err := filepath.Abs(filepath.Join("..", "python"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join("..", "testdata", "python", "quickstart.py"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "quickstart.py"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OTEL_") || strings.HasPrefix(k, "STAGE_TRACKER_") || k == "TRACEPARENT" || k == "TRACESTATE" || k == "PYTHONPATH" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PYTHONPATH="+pkg, "PYTHONDONTWRITEBYTECODE=1",
		"OTEL_EXPORTER_OTLP_ENDPOINT="+ep.otlpHTTP, "OTEL_SERVICE_NAME="+serviceName+"-python")
	cmd := exec.CommandContext(t.Context(), "python3", "quickstart.py")
	cmd.Dir, cmd.Env = work, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python3 quickstart.py: %v\n%s", err, out)
	}
	rf, err := runfile.ReadFile(filepath.Join(work, "run_output.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rf.Status != runfile.StatusOK || len(rf.Stages) != 2 {
		t.Fatalf("run_output.json: status %q, %d stages; want ok, 2", rf.Status, len(rf.Stages))
	}

	res := waitTrace(t, ep.query, rf.TraceID, 3)
	if len(res.Data) != 1 {
		t.Fatalf("Jaeger returned %d traces for %s, want 1", len(res.Data), rf.TraceID)
	}
	spans := map[string]jaegerSpan{}
	for _, s := range res.Data[0].Spans {
		spans[normID(s.SpanID, 16)] = s
	}
	root, ok := spans[rf.SpanID]
	if !ok {
		t.Fatalf("Jaeger has no run span %s in trace %s", rf.SpanID, rf.TraceID)
	}
	if got := tagString(root.Tags, "stage_tracker.run.id"); got != rf.RunID {
		t.Errorf("run span: stage_tracker.run.id = %q, want %s", got, rf.RunID)
	}
	for _, st := range rf.Stages {
		s, ok := spans[st.SpanID]
		if !ok {
			t.Errorf("Jaeger has no span for stage %s (%s)", st.Name, st.SpanID)
			continue
		}
		if s.OperationName != st.Name {
			t.Errorf("stage %s: Jaeger span named %q", st.Name, s.OperationName)
		}
		parent := ""
		for _, r := range s.References {
			if r.RefType == "CHILD_OF" {
				parent = normID(r.SpanID, 16)
			}
		}
		if parent != rf.SpanID {
			t.Errorf("stage %s: parent %s in Jaeger, want the run span %s", st.Name, parent, rf.SpanID)
		}
		if got := tagString(s.Tags, "stage_tracker.stage.name"); got != st.Name {
			t.Errorf("stage %s: stage_tracker.stage.name = %q", st.Name, got)
		}
	}
}

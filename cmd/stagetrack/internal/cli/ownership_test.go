//go:build unix

package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// postRunSpan is a standard-library Python program that sends, by OTLP/HTTP
// JSON to the run's receiver, one span that carries the run's id and no
// stage name, in the run's trace: a span that looks like a run span, from
// a process that does not own the run.
const postRunSpan = `
import json, os, secrets, time, urllib.parse, urllib.request
_, trace_id, parent, _ = os.environ["TRACEPARENT"].split("-")
now = time.time_ns()
span = {
    "traceId": trace_id, "spanId": secrets.token_hex(8), "parentSpanId": parent,
    "name": "not-the-root", "kind": 1,
    "startTimeUnixNano": str(now - 1000000), "endTimeUnixNano": str(now),
    "attributes": [{"key": "stage_tracker.run.id",
                    "value": {"stringValue": os.environ["STAGE_TRACKER_RUN_ID"]}}],
}
body = json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "impostor"}, "spans": [span]}]}]}).encode()
headers = {"Content-Type": "application/json"}
for kv in os.environ["OTEL_EXPORTER_OTLP_TRACES_HEADERS"].split(","):
    k, v = kv.split("=", 1)
    headers[k] = urllib.parse.unquote(v)
req = urllib.request.Request(os.environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], data=body, headers=headers)
urllib.request.urlopen(req, timeout=10).read()
`

// TestRunChildSpanWithRunIDDoesNotEndRun: under stagetrack run, a child
// sends a span with the run's id and no stage name. It is not the run's
// root (the run has one owner), so the run goes on: the exec step after it
// joins the run and runs, and the run file holds both exec stages, ok.
func TestRunChildSpanWithRunIDDoesNotEndRun(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not on PATH")
	}
	dir := filepath.Dir(buildBinaries(t).stagetrack)
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "post.py"), []byte(postRunSpan), 0o644); err != nil {
		t.Fatal(err)
	}
	env := userEnv("PATH=" + dir + ":" + os.Getenv("PATH"))
	r := runAsUser(t, work, env, filepath.Join(dir, "stagetrack"), "run", "-q", "--", "sh", "-ec",
		`stagetrack exec --stage a -- true; python3 post.py; stagetrack exec --stage b -- touch b.done`)
	if r.code != 0 {
		t.Fatalf("stagetrack run exited %d; want 0\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "b.done")); err != nil {
		t.Errorf("the exec step after the child's span did not run: %v", err)
	}
	_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	var keys []string
	for _, st := range rf.Stages {
		keys = append(keys, st.Key)
	}
	if got := strings.Join(keys, ","); got != "a,b" || rf.Status != "ok" || rf.Error != "" {
		t.Errorf("run file: stages %q, status %q, error %q; want a,b, ok, no error", got, rf.Status, rf.Error)
	}
}

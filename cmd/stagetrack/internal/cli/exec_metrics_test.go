//go:build unix

package cli_test

import (
	"strings"
	"testing"
)

// TestExecStagesRecordStageDuration checks that a stage that stagetrack exec
// records exports the stage_tracker.stage.duration histogram
// (docs/attributes.md, Metrics), as the tracker's stages do: in a run of
// its own, and in a run it joins (stagetrack run, stagetrack start).
func TestExecStagesRecordStageDuration(t *testing.T) {
	bin := buildBinaries(t)
	tests := []struct {
		name   string
		script string
	}{
		{name: "a run of its own", script: `"$ST" exec --stage compile -- true`},
		{name: "joined under run", script: `"$ST" run -q -- "$ST" exec --stage compile -- true`},
		{name: "joined under start", script: `"$ST" start --env-file job.env && set -a && . ./job.env && set +a && "$ST" exec --stage compile -- true && "$ST" finish -q >/dev/null`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			r := step(t, work, bin, []string{"OTEL_METRICS_EXPORTER=console"}, tc.script)
			if r.code != 0 {
				t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
			}
			// The console exporter prints each process's metrics as
			// indented JSON on stderr; the stage's process prints the
			// histogram with the stage's name.
			i := strings.Index(r.stderr, `"Name": "stage_tracker.stage.duration"`)
			if i < 0 {
				t.Fatalf("no stage_tracker.stage.duration histogram exported\nstderr:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr[i:], `"Value": "compile"`) {
				t.Errorf("the histogram does not name stage compile\nstderr:\n%s", r.stderr[i:])
			}
		})
	}
}

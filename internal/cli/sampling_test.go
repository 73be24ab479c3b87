//go:build unix

package cli_test

import (
	"path/filepath"
	"testing"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
)

// An unsampled caller (a CI system that traces at 0%) or a sampler that
// drops everything must not cost stagetrack run its run file.
func TestRunUnderSamplingStillWritesItsFile(t *testing.T) {
	bin := buildBinaries(t)
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	tests := []struct {
		name string
		env  []string
	}{
		{name: "unsampled TRACEPARENT", env: []string{"TRACEPARENT=" + parent}},
		{name: "OTEL_TRACES_SAMPLER=always_off", env: []string{"OTEL_TRACES_SAMPLER=always_off"}},
		{name: "traceidratio 0 under an unsampled TRACEPARENT", env: []string{"TRACEPARENT=" + parent, "OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			r := runAsUser(t, work, userEnv(tc.env...), bin.stagetrack, "run", "--", "sh", "-c", "stagetrack_exec=$0; $stagetrack_exec exec --stage step -- true", bin.stagetrack)
			if r.code != 0 {
				t.Fatalf("exit %d, want 0\nstderr:\n%s", r.code, r.stderr)
			}
			_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
			if rf.Status != jsonrun.StatusOK || len(rf.Stages) != 1 || rf.Stages[0].Key != "step" {
				t.Errorf("run status %q with %d stages, want ok with stage step", rf.Status, len(rf.Stages))
			}
			if tc.env[0] == "TRACEPARENT="+parent && rf.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Errorf("trace id %s, want the caller's", rf.TraceID)
			}
		})
	}
}

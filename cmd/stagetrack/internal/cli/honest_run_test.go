//go:build unix

package cli_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/runfile"
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
			if rf.Status != runfile.StatusOK || len(rf.Stages) != 1 || rf.Stages[0].Key != "step" {
				t.Errorf("run status %q with %d stages, want ok with stage step", rf.Status, len(rf.Stages))
			}
			if tc.env[0] == "TRACEPARENT="+parent && rf.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Errorf("trace id %s, want the caller's", rf.TraceID)
			}
		})
	}
}

// A pipeline whose command exits 0 after a stage failed: the run file, the
// run span and the exit code agree that the run failed, and say why. A stage
// that passed on retry fails nothing.
func TestRunStatusAgreesWithExitCode(t *testing.T) {
	bin := buildBinaries(t)
	tests := []struct {
		name       string
		script     string
		code       int
		wantStatus string
		wantErr    string
	}{
		{name: "failed stage, command exits 0", script: `"$0" exec --stage test -- false; exit 0`, code: 1,
			wantStatus: runfile.StatusFailed, wantErr: `stage "test" failed: exit status 1`},
		{name: "failed then passed on retry", script: `"$0" exec --stage test -- false; "$0" exec --stage test -- true`,
			wantStatus: runfile.StatusOK},
		{name: "set -e pipeline names the failed stage", script: `set -e; "$0" exec --stage test -- false; "$0" exec --stage deploy -- true`, code: 1,
			wantStatus: runfile.StatusFailed, wantErr: `stage "test" failed: exit status 1`},
		{name: "stage named, command's exit code kept", script: `"$0" exec --stage test -- false; exit 3`, code: 3,
			wantStatus: runfile.StatusFailed, wantErr: `stage "test" failed: exit status 1`},
		{name: "command fails, no stage failed", script: `"$0" exec --stage test -- false; "$0" exec --stage test -- true; exit 3`, code: 3,
			wantStatus: runfile.StatusFailed, wantErr: "exit status 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			r := runAsUser(t, work, userEnv("OTEL_TRACES_EXPORTER=console"), bin.stagetrack, "run", "--", "sh", "-c", tc.script, bin.stagetrack)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, tc.code, r.stderr)
			}
			_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
			if rf.Status != tc.wantStatus || rf.Error != tc.wantErr {
				t.Errorf("run file status %q error %q, want %q %q", rf.Status, rf.Error, tc.wantStatus, tc.wantErr)
			}
			if len(rf.Stages) == 0 || rf.Stages[0].Error != "exit status 1" {
				t.Errorf("first attempt %+v, want its error kept", rf.Stages)
			}
			if tc.wantErr != "" && !regexp.MustCompile(`(?m)^stagetrack: run failed in \S+: `+regexp.QuoteMeta(tc.wantErr)+`$`).MatchString(r.stderr) {
				t.Errorf("stderr does not say the run failed with %q:\n%s", tc.wantErr, r.stderr)
			}
			runSpan := consoleSpanStatus(t, r.stderr, rf.SpanID)
			wantCode := "Unset"
			if tc.wantErr != "" {
				wantCode = "Error"
			}
			if runSpan.Status.Code != wantCode || runSpan.Status.Description != tc.wantErr {
				t.Errorf("run span status %+v, want %s %q", runSpan.Status, wantCode, tc.wantErr)
			}
		})
	}
}

type spanStatus struct {
	SpanContext struct{ SpanID string }
	Status      struct{ Code, Description string }
}

// consoleSpanStatus returns the span spanID among the console exporter's
// output in text (each span a JSON object from a line "{" to a line "}").
func consoleSpanStatus(t *testing.T, text, spanID string) spanStatus {
	t.Helper()
	var block []string
	for line := range strings.Lines(text) {
		switch {
		case line == "{\n":
			block = []string{line}
		case block != nil:
			block = append(block, line)
			if line != "}\n" {
				continue
			}
			var s spanStatus
			if err := json.Unmarshal([]byte(strings.Join(block, "")), &s); err != nil {
				t.Fatalf("console span: %v", err)
			}
			if s.SpanContext.SpanID == spanID {
				return s
			}
			block = nil
		}
	}
	t.Fatalf("span %s not printed:\n%s", spanID, text)
	return spanStatus{}
}

//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// TestGitHubAnnotationLevels: under GitHub Actions the annotation of a
// stage follows the attempt that decides it: a stage that passed on retry
// is a ::warning and a green job has no ::error; a stage that failed every
// attempt is an ::error.
func TestGitHubAnnotationLevels(t *testing.T) {
	// Fails the first time (no counter file yet), succeeds the second.
	flaky := `if [ -e counter ]; then exit 0; fi; touch counter; echo flaky >&2; exit 1`
	tests := []struct {
		name     string
		script   string
		wantCode int
		want     string
		dontWant string
	}{
		{name: "flaky stage is a warning", script: flaky, wantCode: 0,
			want: "::warning title=stage fetch is flaky (passed on attempt 2 after 1 failed)::attempt 1: exit status 1%0Aflaky\n", dontWant: "::error"},
		{name: "failed stage is an error", script: `echo broken >&2; exit 1`, wantCode: 1,
			want: "::error title=stage fetch failed::exit status 1%0Abroken\n", dontWant: "::warning"},
		{name: "passing stage says nothing", script: `exit 0`, wantCode: 0, dontWant: "::"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outsideRun(t)
			work := t.TempDir()
			t.Chdir(work)
			t.Setenv("GITHUB_ACTIONS", "true")
			t.Setenv("GITHUB_STEP_SUMMARY", filepath.Join(work, "summary.md"))
			var stdout, stderr strings.Builder
			code := cli.Main(t.Context(), []string{"exec", "--dir", "runs", "--stage", "fetch", "--retry", "1", "--", "sh", "-c", tt.script},
				&cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv})
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			out := stdout.String()
			if !strings.Contains(out, tt.want) {
				t.Errorf("stdout lacks %q:\n%s", tt.want, out)
			}
			if tt.dontWant != "" && strings.Contains(out, tt.dontWant) {
				t.Errorf("stdout has %q:\n%s", tt.dontWant, out)
			}
		})
	}
}

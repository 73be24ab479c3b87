//go:build unix

package cli_test

import (
	"strings"
	"testing"
)

// TestStepAnnotations: on GitHub Actions, each exec step annotates its own
// stage (issue 21): a flaky stage's ::warning comes from the step that
// passed, a failing attempt is a ::warning of its own step (a later retry
// may pass: a green job must show no red), and the finaliser adds only the
// ::error of the stages that failed for good, never a second warning.
func TestStepAnnotations(t *testing.T) {
	bin := buildBinaries(t)
	gh := []string{"GITHUB_ACTIONS=true"}
	// Fails the first time (no counter file yet), passes the second.
	const flaky = `sh -c 'if [ -e counter ]; then exit 0; fi; touch counter; echo flaky >&2; exit 1'`
	type stepCase struct {
		script   string
		code     int
		want     []string // lines stdout must hold
		dontWant string   // text stdout must not hold
	}
	tests := []struct {
		name  string
		steps []stepCase
	}{
		{name: "start, steps, finish", steps: []stepCase{
			{script: `"$ST" start --name ci --env-file job.env`},
			{script: `"$ST" exec --stage fetch -- false`, code: 1,
				want: []string{"::warning title=stage fetch failed (attempt 1)::exit status 1"}, dontWant: "::error"},
			{script: `"$ST" exec --stage fetch -- true`,
				want: []string{"::warning title=stage fetch is flaky (passed on attempt 2 after 1 failed)::attempt 1: exit status 1"}, dontWant: "::error"},
			{script: `"$ST" exec --stage lint --retry 1 -- ` + flaky,
				want: []string{"::warning title=stage lint is flaky (passed on attempt 2 after 1 failed)::attempt 1: exit status 1%0Aflaky"}, dontWant: "::error"},
			{script: `"$ST" exec --stage build -- true`, dontWant: "::"},
			{script: `"$ST" exec --stage test -- sh -c 'echo broken >&2; exit 1'`, code: 1,
				want: []string{"::warning title=stage test failed (attempt 1)::exit status 1%0Abroken"}, dontWant: "::error"},
			{script: `"$ST" finish -q=false > out; grep '^::' out || true`,
				want: []string{"::error title=stage test failed::exit status 1%0Abroken"}, dontWant: "::warning"},
		}},
		{name: "nested stage, named by its path", steps: []stepCase{
			{script: `"$ST" run -- "$ST" exec --stage build -- sh -c '"$ST" exec --stage compile -- false; "$ST" exec --stage compile -- true' 2>/dev/null`,
				want: []string{"::warning title=stage build/compile failed (attempt 1)::exit status 1", "::warning title=stage build/compile is flaky (passed on attempt 2 after 1 failed)"}, dontWant: "::error"},
		}},
		{name: "run", steps: []stepCase{
			{script: `"$ST" run -- sh -c '"$ST" exec --stage fetch -- false; "$ST" exec --stage fetch -- true' 2>/dev/null`,
				want: []string{"::warning title=stage fetch failed (attempt 1)::exit status 1", "::warning title=stage fetch is flaky"}, dontWant: "::error"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			for i, s := range tc.steps {
				r := step(t, work, bin, gh, s.script)
				if r.code != s.code {
					t.Fatalf("step %d (%s): exit %d, want %d; stderr %q", i, s.script, r.code, s.code, r.stderr)
				}
				lines := strings.Split(r.stdout, "\n")
				for _, w := range s.want {
					n := 0
					for _, l := range lines {
						if strings.HasPrefix(l, w) {
							n++
						}
					}
					if n != 1 {
						t.Errorf("step %d (%s): %d lines start %q, want 1; stdout:\n%s", i, s.script, n, w, r.stdout)
					}
				}
				if s.dontWant != "" && strings.Contains(r.stdout, s.dontWant) {
					t.Errorf("step %d (%s): stdout has %q:\n%s", i, s.script, s.dontWant, r.stdout)
				}
			}
		})
	}
}

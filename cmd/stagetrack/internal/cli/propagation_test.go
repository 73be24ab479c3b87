//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExecPropagation: exec hands its child the context in the format
// OTEL_PROPAGATORS names, the parent's baggage included, and refuses an
// unknown propagator with one line.
func TestExecPropagation(t *testing.T) {
	bin := buildBinaries(t)
	show := `echo "traceparent=$TRACEPARENT"; echo "b3=$B3"; echo "baggage=$BAGGAGE"`
	cases := []struct {
		name        string
		env         []string
		want, never []string
	}{
		{"default: W3C trace context and baggage",
			[]string{"BAGGAGE=team=ml,pipeline=nightly"},
			[]string{"traceparent=00-", "baggage=", "team=ml", "pipeline=nightly"}, []string{"b3=?"}},
		{"b3 only",
			[]string{"OTEL_PROPAGATORS=b3", "BAGGAGE=team=ml"},
			[]string{"traceparent=\n", "b3="}, []string{"traceparent=00-"}},
		{"tracecontext and baggage named",
			[]string{"OTEL_PROPAGATORS=tracecontext,baggage", "BAGGAGE=team=ml"},
			[]string{"traceparent=00-", "team=ml"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runAsUser(t, t.TempDir(), userEnv(tc.env...), bin.stagetrack, "exec", "--", "sh", "-c", show)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("child saw\n%s\nwant %q in it", r.stdout, w)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(r.stdout, n) {
					t.Errorf("child saw\n%s\nwant no %q", r.stdout, n)
				}
			}
			if strings.Contains(tc.name, "b3") && strings.Contains(r.stdout, "b3=\n") {
				t.Errorf("b3 propagator wrote no B3 variable:\n%s", r.stdout)
			}
		})
	}
	t.Run("b3: an exec inside a run joins it", func(t *testing.T) {
		work := t.TempDir()
		env := userEnv("OTEL_PROPAGATORS=b3", "PATH="+filepath.Dir(bin.stagetrack)+string(os.PathListSeparator)+os.Getenv("PATH"))
		r := runAsUser(t, work, env, bin.stagetrack, "run", "-q", "--", "sh", "-c", "stagetrack exec --stage inner -- true")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
		if len(rf.Stages) != 1 || rf.Stages[0].Name != "inner" {
			t.Errorf("stages %v; want the joined exec's stage", rf.Stages)
		}
	})
	t.Run("unknown propagator", func(t *testing.T) {
		r := runAsUser(t, t.TempDir(), userEnv("OTEL_PROPAGATORS=b4"), bin.stagetrack, "exec", "--", "true")
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 || !strings.Contains(r.stderr, "OTEL_PROPAGATORS") {
			t.Errorf("exit %d, stderr %q; want 2 and a line naming OTEL_PROPAGATORS", r.code, r.stderr)
		}
	})
}

//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRetriedStageStatusSameUnderEveryPath runs the same steps under
// stagetrack start/exec/finish and under stagetrack run: a stage that fails
// once and passes on retry, alone or beside a stage that really fails. The
// run file's status and error come from the one status rule, so both paths
// write the same: ok with no error, or failed naming the stage that failed,
// never the retried one.
func TestRetriedStageStatusSameUnderEveryPath(t *testing.T) {
	bin := buildBinaries(t)
	const (
		flaky  = `"$ST" exec --stage flaky --retry 2 -- ./flaky.sh`
		broken = `"$ST" exec --stage broken -- sh -c 'exit 3'`
	)
	tests := []struct {
		name       string
		steps      []string
		wantStatus string
		wantErr    string
	}{
		{name: "retried stage passed", steps: []string{flaky}, wantStatus: "ok"},
		{name: "another stage failed", steps: []string{flaky, broken}, wantStatus: "failed", wantErr: `stage "broken" failed: exit status 3`},
	}
	paths := []struct {
		name string
		run  func(t *testing.T, work string, steps []string)
	}{
		{name: "start/finish", run: func(t *testing.T, work string, steps []string) {
			all := append(append([]string{`"$ST" start --name ci --env-file job.env`}, steps...), `"$ST" finish`)
			for _, s := range all {
				if r := step(t, work, bin, nil, s); r.code != 0 && !strings.Contains(s, "broken") {
					t.Fatalf("%s: exit %d\nstderr:\n%s", s, r.code, r.stderr)
				}
			}
		}},
		{name: "run", run: func(t *testing.T, work string, steps []string) {
			script := strings.Join(steps, "; ") + "; exit 0"
			if r := step(t, work, bin, nil, `"$ST" run --name ci -- sh -c '`+strings.ReplaceAll(script, `'`, `'\''`)+`'`); r.stderr == "" {
				t.Fatalf("run printed nothing on stderr (exit %d)", r.code)
			}
		}},
	}
	for _, tc := range tests {
		for _, p := range paths {
			t.Run(tc.name+"/"+p.name, func(t *testing.T) {
				work := t.TempDir()
				// Fails the first time, passes the next.
				if err := os.WriteFile(filepath.Join(work, "flaky.sh"), []byte("#!/bin/sh\nif [ -f flag ]; then exit 0; fi\ntouch flag\nexit 1\n"), 0o755); err != nil {
					t.Fatal(err)
				}
				p.run(t, work, tc.steps)
				_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
				if rf.Status != tc.wantStatus || rf.Error != tc.wantErr {
					t.Errorf("run file status %q error %q, want %q %q", rf.Status, rf.Error, tc.wantStatus, tc.wantErr)
				}
				if len(rf.Stages) < 2 || rf.Stages[0].Error != "exit status 1" || rf.Stages[1].Error != "" {
					t.Errorf("stages %+v: want the failed first attempt of flaky kept, then the one that passed", rf.Stages)
				}
			})
		}
	}
}

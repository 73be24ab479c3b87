package report_test

import (
	"bytes"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/report"
	"github.com/stage-tracker/stage-tracker/runfile"
)

var failuresRE = regexp.MustCompile(`(?s)<ol class="failures">.*?</ol>`)

// The newest failures name the stage that decided each run, with its
// stderr tail one click away, also for a run file whose error says only
// what its command exited with.
func TestWriteFailuresNameTheStage(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	stage := func(key, name, errMsg, tail string, at int) runfile.Stage {
		st := runfile.Stage{Key: key, Name: name, Error: errMsg, StartTime: t0.Add(time.Duration(at) * time.Second), DurationSec: 1}
		st.EndTime = st.StartTime.Add(time.Second)
		if errMsg != "" {
			st.Status = runfile.StageError
		} else {
			st.Status = runfile.StageOK
		}
		if tail != "" {
			b, err := json.Marshal(map[string]string{"stderr_tail": tail})
			if err != nil {
				t.Fatal(err)
			}
			st.Data = b
		}
		return st
	}
	run := func(errMsg string, stages ...runfile.Stage) *runfile.Run {
		return &runfile.Run{RunID: "6f1c0c8e-0000-4000-8000-000000000001", Name: "ci", Status: runfile.StatusFailed, Error: errMsg,
			StartTime: t0, CompletedAt: t0.Add(time.Minute), Stages: stages}
	}
	tests := []struct {
		name      string
		run       *runfile.Run
		wantWhy   string // the reason, unescaped
		wantTail  string // the tail, unescaped; "" for none
		wantStage string
	}{
		{
			name:    "error says only exit status",
			run:     run("exit status 1", stage("build", "build", "", "", 0), stage("test", "test", "exit status 1", "--- FAIL: TestParse", 1)),
			wantWhy: `stage "test" failed: exit status 1`, wantTail: "--- FAIL: TestParse", wantStage: "test",
		},
		{
			name:    "error names the stage already",
			run:     run(`stage "test" failed: exit status 1`, stage("test", "test", "exit status 1", "boom", 1)),
			wantWhy: `stage "test" failed: exit status 1`, wantTail: "boom", wantStage: "test",
		},
		{
			name:    "a recovered earlier attempt decides nothing",
			run:     run("exit status 2", stage("fetch#1", "fetch", "exit status 1", "flaky", 0), stage("fetch", "fetch", "", "", 1), stage("lint", "lint", "exit status 2", "", 2)),
			wantWhy: `stage "lint" failed: exit status 2`,
		},
		{
			name:    "no stage failed",
			run:     run("exit status 3", stage("build", "build", "", "", 0)),
			wantWhy: "exit status 3",
		},
		{
			name:    "hostile tail is text",
			run:     run("exit status 1", stage("test", "test", "exit status 1", "</pre></details><script>alert(1)</script>", 0)),
			wantWhy: `stage "test" failed: exit status 1`, wantTail: "</pre></details><script>alert(1)</script>", wantStage: "test",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Write(&b, []report.Input{{File: "a.json", Run: tc.run}}, report.Options{}); err != nil {
				t.Fatal(err)
			}
			list := failuresRE.FindString(b.String())
			if list == "" {
				t.Fatalf("no failures list in\n%s", b.String())
			}
			if !strings.Contains(list, `<div class="why">`+html.EscapeString(tc.wantWhy)+`</div>`) && !strings.Contains(html.UnescapeString(list), `<div class="why">`+tc.wantWhy+`</div>`) {
				t.Errorf("reason is not %q:\n%s", tc.wantWhy, list)
			}
			if strings.Contains(list, "<script>") {
				t.Errorf("unescaped markup in the failures list:\n%s", list)
			}
			hasTail := strings.Contains(list, `<details class="tail">`)
			if hasTail != (tc.wantTail != "") {
				t.Fatalf("stderr tail shown %v, want %v:\n%s", hasTail, tc.wantTail != "", list)
			}
			if tc.wantTail != "" {
				if got := html.UnescapeString(list); !strings.Contains(got, "<summary>stderr of "+tc.wantStage+"</summary><pre>"+tc.wantTail+"</pre>") {
					t.Errorf("tail of %s is not %q:\n%s", tc.wantStage, tc.wantTail, list)
				}
			}
		})
	}
}

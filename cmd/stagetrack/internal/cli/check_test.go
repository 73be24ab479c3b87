package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/gate"
)

// baseline writes n runs of the experiment into a new directory: train
// takes 9 to 11 s, evaluate's accuracy 0.89 to 0.91.
func baseline(t *testing.T, n int, stage string) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		experiment{id: 100 + i, train: 9 + float64(i%3), accuracy: 0.89 + 0.01*float64(i%3), stage: stage}.write(t, dir)
	}
	return dir
}

// TestCheck is issue 22's regression gate: a run whose train stage took
// three times the baseline's fails, one that did not passes; a stage is
// judged only against enough baseline runs; only the attempt that decides
// a stage counts; data values are held to bounds.
func TestCheck(t *testing.T) {
	base5, base3 := baseline(t, 5, ""), baseline(t, 3, "")
	retried := t.TempDir()
	for i := range 5 { // every baseline run retried train after a 100 s failure
		experiment{id: 200 + i, train: 10, retried: true}.write(t, retried)
	}
	cases := []struct {
		name   string
		run    experiment
		flags  []string
		code   int
		want   []string // lines of stdout, spaced as they are
		reject []string // text stdout must not have
	}{
		{"three times slower fails", experiment{id: 1, train: 30}, []string{"--baseline", base5}, cli.ExitFailure,
			[]string{"slower: stage train took 30s; baseline p95 11s over 5 runs; limit 13.75s (+25% and at least +1s)",
				"FAILED: RUN against 5 baseline runs: 3 stages and 0 metrics judged, 1 failed"}, nil},
		{"as fast passes", experiment{id: 1, train: 12}, []string{"--baseline", base5}, cli.ExitOK,
			[]string{"ok: RUN against 5 baseline runs: 3 stages and 0 metrics judged, 0 failed"}, []string{"slower"}},
		{"a short stage's noise is not a regression", experiment{id: 1, train: 10.9}, []string{"--baseline", base5, "--max-slower", "1"}, cli.ExitOK,
			nil, []string{"slower"}},
		{"the thresholds are flags", experiment{id: 1, train: 12}, []string{"--baseline", base5, "--max-slower", "5", "--min-slower", "500ms"}, cli.ExitFailure,
			[]string{"slower: stage train took 12s; baseline p95 11s over 5 runs; limit 11.55s (+5% and at least +500ms)"}, nil},
		{"too few baseline runs is not judged", experiment{id: 1, train: 30}, []string{"--baseline", base3}, cli.ExitOK,
			[]string{"not judged: stage train: 3 baseline runs, need 5", "ok: RUN against 3 baseline runs: 0 stages and 0 metrics judged, 0 failed"}, nil},
		{"--min-runs", experiment{id: 1, train: 30}, []string{"--baseline", base3, "--min-runs", "3"}, cli.ExitFailure,
			[]string{"slower: stage train took 30s; baseline p95 11s over 3 runs; limit 13.75s (+25% and at least +1s)"}, nil},
		{"a failed first attempt does not count", experiment{id: 1, train: 10, retried: true}, []string{"--baseline", base5}, cli.ExitOK,
			nil, []string{"slower"}},
		{"a baseline's failed attempts do not count", experiment{id: 1, train: 30}, []string{"--baseline", retried}, cli.ExitFailure,
			[]string{"slower: stage train took 30s; baseline p95 10s over 5 runs; limit 12.5s (+25% and at least +1s)"}, []string{"train#1"}},
		{"a stage the baseline lacks", experiment{id: 1, stage: "fit"}, []string{"--baseline", base5}, cli.ExitOK,
			[]string{"not judged: stage fit: 0 baseline runs, need 5"}, nil},
		{"metric bound crossed", experiment{id: 1, accuracy: 0.85}, []string{"--baseline", base5, "--metric", "evaluate.accuracy>=0.9"}, cli.ExitFailure,
			[]string{"metric evaluate.accuracy is 0.85; bound >=0.9"}, nil},
		{"metric bound kept", experiment{id: 1, accuracy: 0.95}, []string{"--baseline", base5, "--metric", "evaluate.accuracy>=0.9", "--metric", "train.loss<0.5"}, cli.ExitOK,
			[]string{"ok: RUN against 5 baseline runs: 3 stages and 2 metrics judged, 0 failed"}, nil},
		{"worse than the median", experiment{id: 1, accuracy: 0.88}, []string{"--baseline", base5, "--metric", "evaluate.accuracy:-0.01"}, cli.ExitFailure,
			[]string{"metric evaluate.accuracy is 0.88; baseline median 0.9 over 5 runs; more than 0.01 below it"}, nil},
		{"within the median's margin", experiment{id: 1, accuracy: 0.895}, []string{"--baseline", base5, "--metric", "evaluate.accuracy:-0.01"}, cli.ExitOK,
			nil, []string{"metric evaluate"}},
		{"higher is worse", experiment{id: 1}, []string{"--baseline", base5, "--metric", "train.loss:+0"}, cli.ExitOK, nil, []string{"metric train"}},
		{"metric the run lacks", experiment{id: 1}, []string{"--baseline", base5, "--metric", "evaluate.f1>=0.5"}, cli.ExitFailure,
			[]string{"metric evaluate.f1: no data key f1"}, nil},
		{"metric of a stage the run lacks", experiment{id: 1}, []string{"--baseline", base5, "--metric", "test.f1>=0.5"}, cli.ExitFailure,
			[]string{"metric test.f1: the run has no stage test"}, nil},
		{"relative metric, too few runs", experiment{id: 1, accuracy: 0.5}, []string{"--baseline", base3, "--metric", "evaluate.accuracy:-0.01"}, cli.ExitOK,
			[]string{"not judged: metric evaluate.accuracy: 3 baseline runs, need 5"}, nil},
		{"the run in its own baseline is left out", experiment{id: 104, train: 30}, []string{"--baseline", base5, "--min-runs", "4"}, cli.ExitFailure,
			[]string{"FAILED: RUN against 4 baseline runs: 3 stages and 0 metrics judged, 1 failed"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := c.run.write(t, t.TempDir())
			if c.run.id == 104 { // a copy of a baseline run, slower
				run = c.run.write(t, base5)
				t.Cleanup(func() { experiment{id: 104, train: 10, accuracy: 0.9}.write(t, base5) })
			}
			r := stagetrack(t, append([]string{"check", run}, c.flags...)...)
			wantCode(t, r, c.code)
			for _, w := range c.want {
				w = strings.ReplaceAll(w, "RUN", run)
				if !strings.Contains("\n"+r.stdout, "\n"+w+"\n") {
					t.Errorf("no line %q in\n%s", w, r.stdout)
				}
			}
			for _, w := range c.reject {
				if strings.Contains(r.stdout, w) {
					t.Errorf("%q in\n%s", w, r.stdout)
				}
			}
		})
	}
}

func TestCheckUsage(t *testing.T) {
	base := baseline(t, 1, "")
	run := experiment{id: 1}.write(t, t.TempDir())
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no baseline", []string{"check", run}, cli.ExitUsage, "needs --baseline"},
		{"no run", []string{"check", "--baseline", base}, cli.ExitUsage, "accepts 1 arg"},
		{"two runs", []string{"check", run, run, "--baseline", base}, cli.ExitUsage, "accepts 1 arg"},
		{"unknown operator", []string{"check", run, "--baseline", base, "--metric", "evaluate.accuracy=0.9"}, cli.ExitUsage, `unknown operator "="`},
		{"not a number", []string{"check", run, "--baseline", base, "--metric", "evaluate.accuracy>=high"}, cli.ExitUsage, "is not a number"},
		{"margin without direction", []string{"check", run, "--baseline", base, "--metric", "evaluate.accuracy:0.01"}, cli.ExitUsage, "evaluate.accuracy:-0.01 (lower is worse)"},
		{"no bound", []string{"check", run, "--baseline", base, "--metric", "evaluate.accuracy"}, cli.ExitUsage, "want stage.key>=0.9"},
		{"negative threshold", []string{"check", run, "--baseline", base, "--max-slower", "-5"}, cli.ExitUsage, "must not be negative"},
		{"missing run", []string{"check", filepath.Join(base, "nope.json"), "--baseline", base}, cli.ExitFailure, "no such file"},
		{"missing baseline", []string{"check", run, "--baseline", filepath.Join(base, "nope")}, cli.ExitFailure, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := stagetrack(t, c.args...)
			wantCode(t, r, c.code)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q does not say %q", r.stderr, c.want)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	base := baseline(t, 5, "")
	run := experiment{id: 1, train: 30, accuracy: 0.8}.write(t, t.TempDir())
	r := stagetrack(t, "check", "--json", run, "--baseline", base, "--metric", "evaluate.accuracy>=0.9", "--metric", "nope.x:+1")
	wantCode(t, r, cli.ExitFailure)
	var got struct {
		Run string `json:"run"`
		OK  bool   `json:"ok"`
		gate.Result
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	var kinds []string
	for _, f := range got.Findings {
		kinds = append(kinds, f.Level+" "+f.Kind+" "+f.Stage)
	}
	if want := "error duration train,error metric evaluate,error metric nope"; strings.Join(kinds, ",") != want {
		t.Errorf("findings %q, want %q\n%s", strings.Join(kinds, ","), want, r.stdout)
	}
	if d := got.Findings[0]; got.OK || got.Run != run || got.BaselineRuns != 5 || *d.Value != 30 || *d.Baseline != 11 || *d.Limit != 13.75 {
		t.Errorf("result %+v, duration finding %s", got, mustJSON(t, d))
	}
	if m := got.Findings[1]; *m.Value != 0.8 || *m.Limit != 0.9 || m.Metric != "evaluate.accuracy" {
		t.Errorf("metric finding %s", mustJSON(t, m))
	}
}

// TestCheckGitHubAnnotations: under GitHub Actions each finding is also a
// workflow command, escaped as the runner reads them: a stage name cannot
// end the title or start a command of its own.
func TestCheckGitHubAnnotations(t *testing.T) {
	hostile := "train:a,b%0A\n::error::owned"
	base := baseline(t, 5, hostile)
	few := baseline(t, 2, hostile)
	run := experiment{id: 1, train: 30, stage: hostile}.write(t, t.TempDir())
	gh := invocation{env: map[string]string{"GITHUB_ACTIONS": "true"}}

	r := gh.run(t, "check", run, "--baseline", base)
	wantCode(t, r, cli.ExitFailure)
	want := "::error title=stagetrack check%3A stage train%3Aa%2Cb%250A%0A%3A%3Aerror%3A%3Aowned slower::slower: stage train:a,b%250A%0A::error::owned took 30s; baseline p95 11s over 5 runs; limit 13.75s (+25%25 and at least +1s)\n"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("no annotation %q in\n%s", want, r.stdout)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "::") && !strings.HasPrefix(l, "::error title=stagetrack check%3A") {
			t.Errorf("a line starts a workflow command of its own: %q", l)
		}
	}
	if want := "slower: stage train:a,b%0A ::error::owned took 30s;"; !strings.Contains(r.stdout, "\n"+want) && !strings.HasPrefix(r.stdout, want) {
		t.Errorf("the finding is not one line %q in\n%s", want, r.stdout)
	}
	r = gh.run(t, "check", run, "--baseline", few)
	wantCode(t, r, cli.ExitOK)
	if !strings.Contains(r.stdout, "::warning title=stagetrack check%3A stage train%3Aa%2Cb%250A%0A%3A%3Aerror%3A%3Aowned not judged::not judged: stage ") {
		t.Errorf("no warning for the stage not judged in\n%s", r.stdout)
	}
	if r := stagetrack(t, "check", run, "--baseline", base); strings.Contains(r.stdout, "::error") && strings.Contains(r.stdout, "title=") {
		t.Errorf("annotations outside GitHub Actions:\n%s", r.stdout)
	}
}

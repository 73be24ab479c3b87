package cli_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// metricRuns writes four runs whose evaluate stage recorded accuracy
// 0.91, 0.85, 0.88 and 0.80 (the newest) and a nested loss; in two of
// them fetch failed once and passed on retry, in one it failed for good.
func metricRuns(t *testing.T, dir string) {
	t.Helper()
	t0 := time.Date(2025, 5, 5, 10, 0, 0, 0, time.UTC)
	acc := []float64{0.91, 0.85, 0.88, 0.80}
	var runs []lsRun
	for i, a := range acc {
		start := t0.Add(time.Duration(i) * time.Hour)
		at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
		st := func(key, name, status string, from int, data string) runfile.Stage {
			s := runfile.Stage{Key: key, Name: name, Attempt: 1, StartTime: at(from), EndTime: at(from + 1), DurationSec: 1,
				Status: status, SpanID: fmt.Sprintf("%016x", from+1)}
			if status == runfile.StageError {
				s.Error = "exit status 1"
			}
			if data != "" {
				s.Data = json.RawMessage(data)
			}
			return s
		}
		var stages runfile.Stages
		status := runfile.StatusOK
		switch i {
		case 0, 2: // failed, then passed on retry
			stages = append(stages, st("fetch#1", "fetch", runfile.StageError, 0, ""), st("fetch", "fetch", runfile.StageOK, 1, ""))
			stages[1].Attempt = 2
		case 1: // failed for good
			stages = append(stages, st("fetch", "fetch", runfile.StageError, 0, ""))
			status = runfile.StatusFailed
		default:
			stages = append(stages, st("fetch", "fetch", runfile.StageOK, 0, ""))
		}
		stages = append(stages, st("evaluate", "evaluate", runfile.StageOK, 2,
			fmt.Sprintf(`{"accuracy":%g,"model":"m%d","detail":{"loss":%d},"ok":true}`, a, i, 10*(i+1))))
		runs = append(runs, lsRun{id: fmt.Sprintf("%08x-0000-4000-8000-000000000000", 0xc0000000+i), name: "p", status: status, start: start, stages: stages})
	}
	writeRuns(t, dir, runs...)
}

// TestStatsDataAndFlakeRate: stats summarises the numbers in the stages'
// data (count, mean, min, p50, max, last) and says in what share of runs
// a stage failed and then passed on retry (on main it summarised
// durations only).
func TestStatsDataAndFlakeRate(t *testing.T) {
	t.Chdir(t.TempDir())
	metricRuns(t, "runs")
	t.Run("text", func(t *testing.T) {
		r := stagetrack(t, "stats", "runs")
		if r.code != cli.ExitOK {
			t.Fatalf("code %d, stderr %q", r.code, r.stderr)
		}
		for _, want := range []string{
			"STAGE     COUNT  FAILED  FAIL%  FLAKY%",
			"fetch         6       3  50.0%   50.0%",
			"evaluate      4       0   0.0%    0.0%",
			"\nDATA\n",
			"STAGE     KEY          COUNT  MEAN  MIN   P50   MAX  LAST\n",
			"evaluate  accuracy         4  0.86  0.8  0.85  0.91   0.8\n",
			"evaluate  detail.loss      4    25   10    20    40    40\n",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stats lacks %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "model") || strings.Contains(r.stdout, " ok ") {
			t.Errorf("stats summarises a string or a boolean:\n%s", r.stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := stagetrack(t, "stats", "--json", "runs")
		var s struct {
			Run struct {
				Flaky     int     `json:"flaky"`
				FlakeRate float64 `json:"flake_rate"`
			} `json:"run"`
			Stages []struct {
				Path      string  `json:"path"`
				Flaky     int     `json:"flaky"`
				FlakeRate float64 `json:"flake_rate"`
				Data      []struct {
					Key                       string
					Count                     int
					Mean, Min, P50, Max, Last float64
				} `json:"data"`
			} `json:"stages"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatalf("%v\n%s", err, r.stdout)
		}
		if s.Run.Flaky != 2 || s.Run.FlakeRate != 0.5 {
			t.Errorf("run row: %d flaky runs, rate %v; want 2, 0.5", s.Run.Flaky, s.Run.FlakeRate)
		}
		got := map[string]string{}
		for _, st := range s.Stages {
			got[st.Path] = fmt.Sprintf("flaky %d %.2f", st.Flaky, st.FlakeRate)
			for _, m := range st.Data {
				got[st.Path+"."+m.Key] = fmt.Sprintf("%d %.4g %g %g %g %g", m.Count, m.Mean, m.Min, m.P50, m.Max, m.Last)
			}
		}
		for k, want := range map[string]string{
			"fetch":                "flaky 2 0.50",
			"evaluate":             "flaky 0 0.00",
			"evaluate.accuracy":    "4 0.86 0.8 0.85 0.91 0.8",
			"evaluate.detail.loss": "4 25 10 20 40 40",
		} {
			if got[k] != want {
				t.Errorf("%s: %q, want %q", k, got[k], want)
			}
		}
	})
}

// TestShowData: show prints each stage's data under the waterfall, as
// key=value with nested keys dotted, hostile keys and values cleaned (on
// main the data could be seen only with jq).
func TestShowData(t *testing.T) {
	t.Chdir(t.TempDir())
	metricRuns(t, "runs")
	r := stagetrack(t, "show", "latest")
	if r.code != cli.ExitOK {
		t.Fatalf("code %d, stderr %q", r.code, r.stderr)
	}
	if want := "\nDATA\nevaluate  accuracy=0.8 model=m3 detail.loss=40 ok=true\n"; !strings.HasSuffix(r.stdout, want) {
		t.Errorf("show ends %q, want %q", r.stdout[max(0, len(r.stdout)-120):], want)
	}

	t0 := time.Date(2025, 5, 5, 10, 0, 0, 0, time.UTC)
	writeRuns(t, "hostile", lsRun{id: "0badc0de-0000-4000-8000-000000000000", name: "x", status: runfile.StatusOK, start: t0,
		stages: runfile.Stages{{Key: "s\x1b[31m", Name: "s\x1b[31m", Attempt: 1, StartTime: t0, EndTime: t0.Add(time.Second), DurationSec: 1,
			Status: runfile.StageOK, SpanID: "00000000000000c1",
			Data: json.RawMessage(`{"k\u001b]0;t\u0007":"two\nlines","sp":"a b","empty":"","stderr_tail":"not here"}`)}}})
	r = stagetrack(t, "show", "hostile/latest")
	if r.code != cli.ExitOK {
		t.Fatalf("code %d, stderr %q", r.code, r.stderr)
	}
	if strings.ContainsAny(r.stdout, "\x1b\x07") {
		t.Errorf("show printed a control character: %q", r.stdout)
	}
	// stderr_tail has its own block, after DATA.
	if want := "\nDATA\ns\ufffd[31m  k\ufffd]0;t\ufffd=two … sp=\"a b\" empty=\"\"\n\nstderr of"; !strings.Contains(r.stdout, want) {
		t.Errorf("show lacks %q:\n%s", want, r.stdout)
	}
}

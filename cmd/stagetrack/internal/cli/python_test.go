package cli_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// pyHistory is the Python stage-tracker's history/pipeline_history.json as
// its finalize writes it (testdata/python/make_history.py reimplements it
// from its documented behaviour): 4 runs, in array order
//
//	[0] af3c980c  2025-05-05  durations null, computed from end_time
//	[1] 0b7e6a52  2025-05-06  whole seconds (no fraction), one duration passed
//	[2] 5c1d…0002 2025-05-04  naive timestamps
//	[3] 5c1d…0003 2025-05-07  Detection: duration null and no end_time
const pyHistory = "../../../../testdata/python/history/pipeline_history.json"

func pyRun(i int) string { return pyHistory + "[" + string(rune('0'+i)) + "]" }

// TestPythonHistoryShow: show reads the array, shows its runs oldest first,
// args on one line, an unknown duration as —, and notes the naive run.
func TestPythonHistoryShow(t *testing.T) {
	r := stagetrack(t, "show", "--width", "100", pyHistory)
	wantCode(t, r, cli.ExitOK)
	ids := regexp.MustCompile(`(?m)^run (\S+)`).FindAllStringSubmatch(r.stdout, -1)
	var got []string
	for _, m := range ids {
		got = append(got, m[1][:8])
	}
	if want := "5c1d2e3f af3c980c 0b7e6a52 5c1d2e3f"; strings.Join(got, " ") != want {
		t.Errorf("runs shown %v; want %s (by start time)", got, want)
	}
	for _, want := range []string{`args {"target":"10.0.0.0/24","depth":2}`, `args ["--fast","--dry-run"]`, "args 42"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "pipeline_history.json[2]: timestamps have no UTC offset; read as UTC") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q; want one note for the naive run", r.stderr)
	}

	one := stagetrack(t, "show", "--width", "100", pyRun(3))
	wantCode(t, one, cli.ExitOK)
	if !regexp.MustCompile(`(?m)^Detection .* — +ok$`).MatchString(one.stdout) {
		t.Errorf("unknown duration not shown as —:\n%s", one.stdout)
	}
}

// TestPythonHistoryFiguresAgree: show, diff and stats give the same
// figures for the same stages, and an unknown duration is never 0.
func TestPythonHistoryFiguresAgree(t *testing.T) {
	show := stagetrack(t, "show", "--width", "100", pyRun(0))
	wantCode(t, show, cli.ExitOK)
	if !regexp.MustCompile(`(?m)^Detection .* 2\.00s  ok$`).MatchString(show.stdout) {
		t.Errorf("show: Detection not 2.00s:\n%s", show.stdout)
	}

	diff := stagetrack(t, "diff", pyRun(0), pyRun(3))
	wantCode(t, diff, cli.ExitOK)
	if !regexp.MustCompile(`(?m)^Detection +2\.00s +— `).MatchString(diff.stdout) {
		t.Errorf("diff: Detection not 2.00s → —:\n%s", diff.stdout)
	}
	var d struct {
		Stages []struct {
			Key  string   `json:"key"`
			ASec *float64 `json:"a_sec"`
			BSec *float64 `json:"b_sec"`
		} `json:"stages"`
	}
	dj := stagetrack(t, "diff", "--json", pyRun(0), pyRun(3))
	wantCode(t, dj, cli.ExitOK)
	if err := json.Unmarshal([]byte(dj.stdout), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Stages) == 0 || d.Stages[0].ASec == nil || *d.Stages[0].ASec != 2 || d.Stages[0].BSec != nil {
		t.Errorf("diff --json Detection: %+v; want a_sec 2 and b_sec null", d.Stages)
	}

	st := stagetrack(t, "stats", "--json", pyHistory)
	wantCode(t, st, cli.ExitOK)
	var s struct {
		Runs   int `json:"runs"`
		Stages []struct {
			Path   string  `json:"path"`
			Count  int     `json:"count"`
			Timed  int     `json:"timed"`
			P50Sec float64 `json:"p50_sec"`
			MaxSec float64 `json:"max_sec"`
		} `json:"stages"`
	}
	if err := json.Unmarshal([]byte(st.stdout), &s); err != nil {
		t.Fatal(err)
	}
	if s.Runs != 4 || len(s.Stages) != 2 {
		t.Fatalf("stats: %+v; want 4 runs of 2 stages", s)
	}
	// Detection: 2 s, 3 s (passed), 4 s (naive), unknown: the median of
	// the three known is 3 s; counting the unknown as 0 would make it 2 s.
	if det := s.Stages[0]; det.Path != "Detection" || det.Count != 4 || det.Timed != 3 || det.P50Sec != 3 || det.MaxSec != 4 {
		t.Errorf("stats Detection: %+v; want count 4, timed 3, p50 3, max 4", det)
	}
	if !strings.Contains(st.stderr, "1 of 4 runs have timestamps with no UTC offset") {
		t.Errorf("stats stderr %q lacks the naive-timestamp note", st.stderr)
	}
}

// TestPythonHistoryDirectoryAndReport: stats of the history directory and
// report of the history file read every run in it.
func TestPythonHistoryDirectoryAndReport(t *testing.T) {
	st := stagetrack(t, "stats", filepath.Dir(pyHistory))
	wantCode(t, st, cli.ExitOK)
	if !strings.HasPrefix(st.stdout, "4 runs") {
		t.Errorf("stats history/: %q; want 4 runs", st.stdout)
	}
	out := filepath.Join(t.TempDir(), "r.html")
	rep := stagetrack(t, "report", pyHistory, "-o", out)
	wantCode(t, rep, cli.ExitOK)
}

// TestPythonHistoryDiffNeedsOneRun: diff of a whole history says how to
// pick a run instead of guessing.
func TestPythonHistoryDiffNeedsOneRun(t *testing.T) {
	r := stagetrack(t, "diff", pyHistory, pyRun(1))
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "holds 4 runs; pick one as") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("code %d, stderr %q; want one line saying how to pick a run", r.code, r.stderr)
	}
	r = stagetrack(t, "show", pyHistory+"[9]")
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "no run at index 9 (the file holds 4)") {
		t.Errorf("code %d, stderr %q", r.code, r.stderr)
	}
}

// TestPythonHistorySend: send replays every run of the history.
func TestPythonHistorySend(t *testing.T) {
	srv, col := otlpHTTP(t, http.StatusOK)
	env := setenv(t, "OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL, "OTEL_EXPORTER_OTLP_INSECURE", "true")
	r := invocation{env: env}.run(t, "send", pyHistory)
	wantCode(t, r, cli.ExitOK)
	if n := strings.Count(r.stdout, "sent run "); n != 4 {
		t.Errorf("stdout reports %d runs sent, want 4:\n%s", n, r.stdout)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.spans) != 4+8 {
		t.Errorf("collector got %d spans; want 12 (4 runs, 8 stages)", len(col.spans))
	}
}

// TestValidatePython: what a Python stage-tracker file lacks compared with
// the schema is noted, not failed, unless --strict; a Python run that
// cannot be read still fails.
func TestValidatePython(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`[{"run_id": "x", "start_time": "2025-05-05T23:14:10+00:00", "stages": {"a": {"duration_sec": "slow"}}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		want    []string
		notWant []string
	}{
		{"history noted", []string{"validate", pyHistory}, cli.ExitOK,
			[]string{
				"pipeline_history.json[0]: ok as a Python stage-tracker run (",
				"pipeline_history.json[3]: ok as a Python stage-tracker run (",
				"pipeline_history.json[3]:94: note: got null, want number (at /stages/Detection/duration_sec)",
				`pipeline_history.json[1]:31: note: "2025-05-06T08:00:00+00:00" is not a run file timestamp`,
			}, []string{"does not match pattern"}},
		{"history strict", []string{"validate", "--strict", pyHistory}, cli.ExitFailure,
			[]string{"pipeline_history.json[3]:94: got null, want number (at /stages/Detection/duration_sec)"}, []string{"note:", ": ok"}},
		{"history quiet", []string{"validate", "-q", pyHistory}, cli.ExitOK, nil, []string{"note:", "ok"}},
		{"unreadable Python run fails", []string{"validate", broken}, cli.ExitFailure,
			[]string{"broken.json[0]:1: got string, want number (at /stages/a/duration_sec)"}, []string{"note:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := stagetrack(t, tc.args...)
			wantCode(t, r, tc.code)
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(r.stdout, w) {
					t.Errorf("stdout has %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// TestShowOrdersRunsByStartTime: several run files are shown oldest
// first, whatever the order of the arguments (UUID file names sort
// randomly).
func TestShowOrdersRunsByStartTime(t *testing.T) {
	// train-b starts 2025-05-06 23:14, security 01:14 the same day,
	// train-a 2025-05-05.
	r := stagetrack(t, "show", runFile("train-b"), runFile("security"), runFile("train-a"))
	wantCode(t, r, cli.ExitOK)
	var starts []string
	for _, m := range regexp.MustCompile(`started (\S+ \S+)`).FindAllStringSubmatch(r.stdout, -1) {
		starts = append(starts, m[1])
	}
	if want := "2025-05-05 23:14:10.235 2025-05-06 01:14:10.235 2025-05-06 23:14:10.235"; strings.Join(starts, " ") != want {
		t.Errorf("runs shown starting %v; want %s", starts, want)
	}
}

package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// hostileRun is a run file whose every printed string carries terminal
// control sequences: OSC 52 (write the clipboard), ESC[2J (clear the
// screen), a C1 CSI, a bidi override and a bell.
const hostileRun = `{
  "run_id": "run\u001b[2J-id",
  "name": "name\u001b]52;c;aGVsbG8=\u0007",
  "status": "\u001b]52;c;cHduZWQ=\u0007failed\u001b[2J",
  "start_time": "2025-05-06T01:14:10Z",
  "completed_at": "2025-05-06T01:14:20Z",
  "total_duration_sec": 10,
  "trace_id": "\u009b31m",
  "error": "boom\u001b[2J\u202e",
  "args": {"k": "\u001b]0;title\u0007"},
  "stages": {
    "fetch\u001b[2J": {
      "start_time": "2025-05-06T01:14:10Z",
      "end_time": "2025-05-06T01:14:12Z",
      "duration_sec": 2,
      "status": "\u001b]52;c;cHduZWQ=\u0007ok",
      "error": "bad\u001b]52;c;eA==\u0007",
      "data": {"key\u001b[2J": 1}
    }
  }
}`

// sgr matches the colour codes the views write themselves.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

func writeHostile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTerminalSafeOutput checks that no escape (ESC or the C1 CSI), bell or
// bidi override from a run file reaches the terminal, whatever command
// prints it and whatever field it is in (status included).
func TestTerminalSafeOutput(t *testing.T) {
	dir := t.TempDir()
	a := writeHostile(t, dir, "a.json", hostileRun)
	b := writeHostile(t, dir, "b.json", strings.Replace(hostileRun, `"data": {"key\u001b[2J": 1}`, `"data": {"key\u001b[2J": 2, "new\u001b]52;c;eA==\u0007": 3}`, 1))
	cases := []struct {
		name string
		args []string
	}{
		{"show", []string{"show", a}},
		{"diff", []string{"diff", a, b}},
		{"stats", []string{"stats", a, b}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, color := range []bool{false, true} {
				in := invocation{}
				if color {
					in = invocation{terminal: true, termW: 100, env: map[string]string{"NO_COLOR": ""}}
				}
				r := in.run(t, c.args...)
				wantCode(t, r, cli.ExitOK)
				out := r.stdout
				if color { // our own colour codes are the only escapes allowed
					out = sgr.ReplaceAllString(out, "")
				}
				for _, bad := range []string{"\x1b", "\u009b", "\a", "\u202e"} {
					if strings.Contains(out, bad) {
						t.Errorf("color=%v: output holds %q:\n%q", color, bad, r.stdout)
					}
				}
			}
		})
	}
}

// TestWidthClamped checks that absurd widths from COLUMNS or --width are
// clamped: no panic, and no line wider than the maximum.
func TestWidthClamped(t *testing.T) {
	cases := []struct {
		name string
		in   invocation
		args []string
		max  int
	}{
		{"huge COLUMNS", invocation{env: map[string]string{"COLUMNS": "9223372036854775807"}}, nil, 1000},
		{"huge --width", invocation{}, []string{"--width", "9223372036854775807"}, 1000},
		{"huge terminal", invocation{terminal: true, termW: 1 << 40}, nil, 1000},
		{"tiny --width", invocation{}, []string{"--width", "1"}, 200}, // fixed columns may overflow, but nothing breaks
	}
	for _, c := range cases {
		for _, cmd := range [][]string{{"show", runFile("security")}, {"diff", runFile("train-a"), runFile("train-b")}, {"stats", runFile("train-a"), runFile("train-b")}} {
			t.Run(c.name+"/"+cmd[0], func(t *testing.T) {
				args := append(append([]string{cmd[0]}, c.args...), cmd[1:]...)
				r := c.in.run(t, args...)
				wantCode(t, r, cli.ExitOK)
				for line := range strings.Lines(r.stdout) {
					if n := len([]rune(strings.TrimRight(line, "\n"))); n > c.max {
						t.Fatalf("line of %d columns, want at most %d: %q", n, c.max, line)
					}
				}
			})
		}
	}
}

// TestExtremeTimes checks that every viewer finishes on run files with
// absurd times: a run from 1677 to 2262 (durations saturate at the limits
// of time.Duration), one with zero duration, one that starts after it ends.
func TestExtremeTimes(t *testing.T) {
	dir := t.TempDir()
	file := func(name, start, end string, dur float64) string {
		return writeHostile(t, dir, name+".json", `{"run_id":"`+name+`","status":"ok","start_time":"`+start+`","completed_at":"`+end+`","total_duration_sec":`+strconv.FormatFloat(dur, 'g', -1, 64)+`,
"stages":{"s":{"start_time":"`+start+`","end_time":"`+end+`","duration_sec":`+strconv.FormatFloat(dur, 'g', -1, 64)+`,"status":"ok"}}}`)
	}
	files := []string{
		file("centuries", "1677-09-21T00:12:44Z", "2262-04-11T23:47:16Z", 1.8e10),
		file("zero", "2025-05-06T01:14:10Z", "2025-05-06T01:14:10Z", 0),
		file("backwards", "2025-05-06T01:14:10Z", "2025-05-06T01:00:00Z", -850),
	}
	for _, cmd := range [][]string{
		append([]string{"show"}, files...),
		{"diff", files[0], files[2]},
		append([]string{"stats"}, files...),
		append([]string{"report", "-o", "-"}, files...),
	} {
		t.Run(cmd[0], func(t *testing.T) {
			r := stagetrack(t, cmd...)
			wantCode(t, r, cli.ExitOK)
			if len(r.stdout) > 1<<20 {
				t.Errorf("%d bytes of output", len(r.stdout))
			}
		})
	}
}

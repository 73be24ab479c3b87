package cli

// White-box tests of the "still running" lines: progress is given the
// time, so no test waits for a clock.

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestProgressStillRunning(t *testing.T) {
	const run, train, eval = "aaaaaaaaaaaaaaaa", "1111111111111111", "2222222222222222"
	at := func(d time.Duration) int64 { return t0 + int64(d) }
	runLine := fmt.Sprintf(`{"e":"run","t":%d,"run_id":"r","span_id":%q,"name":"p"}`, t0, run)
	start := func(span, name string, d time.Duration) string {
		return fmt.Sprintf(`{"e":"start","t":%d,"span_id":%q,"parent_span_id":%q,"name":%s,"start":%d}`, at(d), span, run, jsonString(name), at(d))
	}
	end := func(span, name string, from, to time.Duration) string {
		return fmt.Sprintf(`{"e":"end","t":%d,"span_id":%q,"parent_span_id":%q,"name":%s,"start":%d,"end":%d}`, at(to), span, run, jsonString(name), at(from), at(to))
	}
	type step struct {
		line string        // a journal line fed, or
		now  time.Duration // a time asked at, with the line due ("" for none)
		want string
	}
	tests := []struct {
		name  string
		every time.Duration
		steps []step
	}{
		{
			name: "a long stage, every 5m of quiet", every: 5 * time.Minute,
			steps: []step{
				{line: runLine}, {line: start(train, "train", 0)},
				{now: 4*time.Minute + 59*time.Second},
				{now: 5 * time.Minute, want: "»  5m00s  still running: train 5m00s"},
				{now: 9 * time.Minute},
				{now: 10 * time.Minute, want: "» 10m00s  still running: train 10m00s"},
				{line: end(train, "train", 0, 11*time.Minute)},
				{now: 30 * time.Minute},
			},
		},
		{
			name: "a line shown restarts the quiet time", every: time.Minute,
			steps: []step{
				{line: runLine}, {line: start(train, "train", 0)},
				{line: start(eval, "eval\x1b[2J", 50*time.Second)},
				{now: time.Minute},
				{now: 110 * time.Second, want: "»  1m50s  still running: train 1m50s, eval\uFFFD[2J 1m00s"},
			},
		},
		{
			name: "off", every: 0,
			steps: []step{
				{line: runLine}, {line: start(train, "train", 0)},
				{now: 3 * time.Hour},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newProgress(false, 0)
			p.stillEvery = tc.every
			for i, s := range tc.steps {
				if s.line != "" {
					p.line([]byte(s.line))
					continue
				}
				got, ok := p.stillRunning(at(s.now))
				if ok != (s.want != "") || got != s.want {
					t.Errorf("step %d, at %v: %q (%v), want %q", i, s.now, got, ok, s.want)
				}
			}
		})
	}
}

// More than three stages running: the line names three and counts the rest.
func TestProgressStillRunningNamesThree(t *testing.T) {
	p := newProgress(false, 0)
	p.stillEvery = time.Minute
	for i := range 5 {
		p.line(fmt.Appendf(nil, `{"e":"start","t":%d,"span_id":"%016x","name":"s%d","start":%d}`, t0+int64(i), i+1, i, t0+int64(i)))
	}
	got, ok := p.stillRunning(t0 + int64(time.Minute) + 10)
	if want := "»  1m00s  still running: s0 1m00s, s1 1m00s, s2 1m00s, and 2 more"; !ok || got != want {
		t.Errorf("got %q (%v), want %q", got, ok, want)
	}
}

// STAGETRACK_STILL_RUNNING sets the interval; a value that is not a
// duration is one warning line, and the default.
func TestProgressStillRunningSetting(t *testing.T) {
	tests := []struct {
		name, value string
		want        time.Duration
		warn        bool
	}{
		{name: "unset", want: defaultStillEvery},
		{name: "a minute", value: "1m", want: time.Minute},
		{name: "off", value: "0", want: 0},
		{name: "not a duration", value: "soon\x1b[2J", want: defaultStillEvery, warn: true},
		{name: "negative", value: "-1m", want: defaultStillEvery, warn: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			env := &Env{Stderr: &stderr, Getenv: func(k string) string {
				if k == EnvStillRunning {
					return tc.value
				}
				return ""
			}}
			p := env.progress()
			if p.stillEvery != tc.want {
				t.Errorf("interval %v, want %v", p.stillEvery, tc.want)
			}
			if got := stderr.String(); (got != "") != tc.warn || strings.Contains(got, "\x1b") || strings.Count(got, "\n") > 1 {
				t.Errorf("stderr %q, want a warning line: %v", got, tc.warn)
			}
		})
	}
}

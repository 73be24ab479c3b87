package cli

// White-box tests of the status line that stagetrack run keeps in place on
// a terminal: the output it writes is checked byte for byte, and the time
// is given, so nothing waits for a clock.

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func TestStatusLine(t *testing.T) {
	const erase = "\r\x1b[K"
	type step struct {
		write string // CMD's output or a progress line written through, or
		set   string // a new status text, or
		clear bool   // the end
		want  string // what reaches the terminal
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "drawn while CMD is silent, erased before its output, drawn again after its newline", steps: []step{
			{set: "running: train 1.00s", want: "running: train 1.00s"},
			{set: "running: train 2.00s", want: erase + "running: train 2.00s"},
			{write: "epoch 1 done\n", want: erase + "epoch 1 done\nrunning: train 2.00s"},
			{write: "» 2.50s  ▶ eval\n", want: erase + "» 2.50s  ▶ eval\nrunning: train 2.00s"},
			{clear: true, want: erase},
			{set: "running: late 1.00s", want: "running: late 1.00s"},
		}},
		{name: "an open line keeps it away until CMD ends the line", steps: []step{
			{set: "running: train 1.00s", want: "running: train 1.00s"},
			{write: "Password: ", want: erase + "Password: "},
			{set: "running: train 2.00s"},
			{write: "\r50%", want: "\r50%"},
			{write: "\r100%\n", want: "\r100%\nrunning: train 2.00s"},
		}},
		{name: "the same text is not drawn twice", steps: []step{
			{set: "running: train 1.00s", want: "running: train 1.00s"},
			{set: "running: train 1.00s"},
		}},
		{name: "no stage running: nothing drawn, the old one erased", steps: []step{
			{write: "hello\n", want: "hello\n"},
			{set: "running: a 1.00s", want: "running: a 1.00s"},
			{set: "", want: erase},
			{write: "bye\n", want: "bye\n"},
			{clear: true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var term bytes.Buffer
			s := newStatusLine(&term)
			for i, st := range tc.steps {
				term.Reset()
				switch {
				case st.write != "":
					if n, err := s.Write([]byte(st.write)); n != len(st.write) || err != nil {
						t.Fatalf("step %d: Write = %d, %v", i, n, err)
					}
				case st.clear:
					s.clear()
				default:
					s.set(st.set)
				}
				if term.String() != st.want {
					t.Errorf("step %d: the terminal got %q, want %q", i, term.String(), st.want)
				}
			}
		})
	}
}

// TestProgressStatus: the status line names the running stages with their
// time in whole seconds, is cut to the width, and is empty when no stage
// runs.
func TestProgressStatus(t *testing.T) {
	const run, train, eval = "aaaaaaaaaaaaaaaa", "1111111111111111", "2222222222222222"
	at := func(d time.Duration) int64 { return t0 + int64(d) }
	lines := []string{
		fmt.Sprintf(`{"e":"run","t":%d,"run_id":"r","span_id":%q,"name":"p"}`, t0, run),
		fmt.Sprintf(`{"e":"start","t":%d,"span_id":%q,"parent_span_id":%q,"name":"train","start":%d}`, at(time.Second), train, run, at(time.Second)),
		fmt.Sprintf(`{"e":"start","t":%d,"span_id":%q,"parent_span_id":%q,"name":"eval","start":%d}`, at(3*time.Second), eval, run, at(3*time.Second)),
	}
	tests := []struct {
		name  string
		width int
		fed   int // journal lines fed
		now   time.Duration
		want  string
	}{
		{name: "nothing running", fed: 1, now: time.Second, want: ""},
		{name: "no stage has run a second", fed: 2, now: 1999 * time.Millisecond, want: ""},
		{name: "one stage", fed: 2, now: 65*time.Second + 400*time.Millisecond, want: "»  1m05s  running: train 1m04s"},
		{name: "two stages", fed: 3, now: 4*time.Second + 999*time.Millisecond, want: "»  4.00s  running: train 3.00s, eval 1.00s"},
		{name: "cut to the width", width: 30, fed: 3, now: 4 * time.Second, want: "»  4.00s  running: train 3.00…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newProgress(false, tc.width)
			for _, l := range lines[:tc.fed] {
				p.line([]byte(l))
			}
			if got := p.status(at(tc.now)); got != tc.want {
				t.Errorf("status = %q, want %q", got, tc.want)
			}
		})
	}
}

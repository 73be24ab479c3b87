package journal_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/journal"
)

func TestReaderSkipsAndCountsBadLines(t *testing.T) {
	run := `{"e":"run","t":1,"run_id":"r","span_id":"0900000000000000"}` + "\n"
	start := `{"e":"start","t":2,"span_id":"0000000000000001","name":"a","start":2}` + "\n"
	end := `{"e":"end","t":3,"span_id":"0000000000000001","name":"a","start":2,"end":3}` + "\n"
	tests := []struct {
		name      string
		in        string
		wantKinds string // the kinds read, joined by ","
		wantBad   int
	}{
		{name: "empty"},
		{name: "whole", in: run + start + end, wantKinds: "run,start,end"},
		{name: "torn last line", in: run + start + end[:20], wantKinds: "run,start", wantBad: 1},
		{name: "NUL padding of a mapped chunk", in: run + start + strings.Repeat("\x00", 100) + end + "\x00\x00", wantKinds: "run,start,end"},
		{name: "line torn at a chunk's NUL", in: run + start[:10] + "\x00" + end, wantKinds: "run,end", wantBad: 1},
		{name: "blank lines", in: run + "\n  \n" + end, wantKinds: "run,end"},
		{name: "garbage, unknown kind, bad span id, run without id", in: run + "garbage\n" + `{"e":"nope","t":1}` + "\n" +
			`{"e":"end","t":1,"span_id":"zz"}` + "\n" + `{"e":"run","t":1}` + "\n" + end, wantKinds: "run,end", wantBad: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := journal.NewReader(strings.NewReader(tc.in))
			var kinds []string
			for r.Next() {
				kinds = append(kinds, r.Event().Kind)
			}
			if got := strings.Join(kinds, ","); got != tc.wantKinds {
				t.Errorf("kinds %q, want %q", got, tc.wantKinds)
			}
			if len(r.Bad()) != tc.wantBad {
				t.Errorf("bad lines %v, want %d", r.Bad(), tc.wantBad)
			}
			for _, err := range r.Bad() {
				var le *journal.LineError
				if !errors.As(err, &le) || le.Line < 1 {
					t.Errorf("bad line %v is not a *LineError with its line", err)
				}
			}
		})
	}
}

func TestDecodeTornLine(t *testing.T) {
	if _, err := journal.Decode([]byte(`{"e":"run","t":1,"run_id":"r"}`)); !errors.Is(err, journal.ErrTorn) {
		t.Errorf("Decode of a line without its newline: %v, want ErrTorn", err)
	}
}

func TestRunEventOfAStartedRun(t *testing.T) {
	ev := journal.Event{Kind: journal.KindRun, T: 5, RunID: "3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		SpanID: "00f067aa0ba902b7", TraceState: "k=v", Name: "ci", Args: []byte(`{"branch":"main"}`), Host: "h", Detached: true,
		CI: map[string]string{"provider": "github", "job": "build\n"}}
	line := journal.Append(nil, &ev)
	got, err := journal.Decode(line)
	if err != nil {
		t.Fatal(err)
	}
	if string(journal.Append(nil, &got)) != string(line) {
		t.Errorf("read back differently:\n%s\n%s", journal.Append(nil, &got), line)
	}
	first := line[:len(line)-1]
	if !journal.IsRunEventOf(first, ev.RunID) || journal.IsRunEventOf(first, "another") {
		t.Errorf("IsRunEventOf wrong for %s", first)
	}
	if !journal.IsDetached(first) {
		t.Errorf("IsDetached(%s) = false", first)
	}
}

func TestIsDetached(t *testing.T) {
	tests := []struct {
		name string
		line string
		want bool
	}{
		{name: "marked", line: `{"e":"run","t":1,"run_id":"r","detached":true}`, want: true},
		{name: "not marked", line: `{"e":"run","t":1,"run_id":"r"}`},
		{name: "args that spell the marker", line: `{"e":"run","t":1,"run_id":"r","args":{"detached":true}}`},
		{name: "a stage event", line: `{"e":"end","t":1,"span_id":"0000000000000001","detached":true}`},
		{name: "cut short after the marker", line: `{"e":"run","t":1,"run_id":"r","args":"x","detached":true,"ci":{"a":"`, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := journal.IsDetached([]byte(tc.line)); got != tc.want {
				t.Errorf("IsDetached = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestAnnotatedEvent: a step's annotated event reads back as written, and
// one without a span or with an unknown level is not an event.
func TestAnnotatedEvent(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		wantErr bool
	}{
		{name: "warning", line: `{"e":"annotated","t":7,"span_id":"00f067aa0ba902b7","level":"warning"}` + "\n"},
		{name: "error", line: `{"e":"annotated","t":7,"span_id":"00f067aa0ba902b7","level":"error"}` + "\n"},
		{name: "no span", line: `{"e":"annotated","t":7,"level":"warning"}` + "\n", wantErr: true},
		{name: "unknown level", line: `{"e":"annotated","t":7,"span_id":"00f067aa0ba902b7","level":"notice"}` + "\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := journal.Decode([]byte(tc.line))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Decode: %v, want error %v", err, tc.wantErr)
			}
			if err == nil && string(journal.Append(nil, &ev)) != tc.line {
				t.Errorf("read back differently:\n%s%s", journal.Append(nil, &ev), tc.line)
			}
		})
	}
}

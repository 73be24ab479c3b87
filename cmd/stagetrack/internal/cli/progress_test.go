package cli

// White-box tests of progress, the pure conversion of journal lines into
// the lines stagetrack run prints, and of the tailer that feeds it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// t0 is the start of the runs of these tests, Unix nanoseconds.
const t0 = int64(1_750_000_000_000_000_000)

func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

func ms(n int64) int64 { return t0 + n*int64(time.Millisecond) }

func TestProgressLines(t *testing.T) {
	const (
		run     = "aaaaaaaaaaaaaaaa"
		lint    = "1111111111111111"
		build   = "2222222222222222"
		compile = "3333333333333333"
		remote  = "4444444444444444" // a stage of a joined process, child of compile
	)
	runLine := fmt.Sprintf(`{"e":"run","t":%d,"run_id":"6f1e0a52-8c0e-4f7e-9d55-1f0b7a3c2d11","trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":%q,"name":"pipeline","pid":7,"host":"h"}`, t0, run)
	start := func(span, parent, name string, at int64) string {
		return fmt.Sprintf(`{"e":"start","t":%d,"span_id":%q,"parent_span_id":%q,"name":%s,"start":%d}`, at, span, parent, jsonString(name), at)
	}
	end := func(span, parent, name string, from, at int64, extra string) string {
		return fmt.Sprintf(`{"e":"end","t":%d,"span_id":%q,"parent_span_id":%q,"name":%s,"start":%d,"end":%d%s}`, at, span, parent, jsonString(name), from, at, extra)
	}
	tests := []struct {
		name  string
		color bool
		width int
		lines []string
		want  []string
	}{
		{
			name: "a run of nested stages, one failing",
			lines: []string{
				runLine,
				start(lint, run, "lint", ms(10)),
				end(lint, run, "lint", ms(10), ms(30), `,"failed":true,"error":"exit status 3"`),
				start(build, run, "build", ms(40)),
				start(compile, build, "compile", ms(41)),
				start(remote, compile, "link", ms(1500)),
				end(remote, compile, "link", ms(1500), ms(1700), `,"data":{"ok":true}`),
				end(compile, build, "compile", ms(41), ms(2041), ""),
				end(build, run, "build", ms(40), ms(62040), ""),
			},
			want: []string{
				"» 10.0ms  ▶ lint",
				"» 30.0ms  ✘ lint  20.0ms  exit status 3",
				"» 40.0ms  ▶ build",
				"» 41.0ms    ▶ compile",
				"»  1.50s      ▶ link",
				"»  1.70s      ✔ link  200ms",
				"»  2.04s    ✔ compile  2.00s",
				"»  1m02s  ✔ build  1m02s",
			},
		},
		{
			name: "stages still open when the run ends",
			lines: []string{
				runLine,
				start(lint, run, "lint", ms(5)),
				end(lint, run, "lint", ms(5), ms(900), `,"status":"unfinished"`),
			},
			want: []string{
				"» 5.00ms  ▶ lint",
				"»  900ms  ■ unfinished lint  895ms",
			},
		},
		{
			name: "an end whose start was not seen is placed by its parent",
			lines: []string{
				runLine,
				start(build, run, "build", ms(1)),
				end(compile, build, "compile", ms(2), ms(3), ""),
			},
			want: []string{
				"» 1.00ms  ▶ build",
				"» 3.00ms    ✔ compile  1.00ms",
			},
		},
		{
			name: "without a run event, time counts from the first event",
			lines: []string{
				start(lint, run, "lint", ms(100)),
				end(lint, run, "lint", ms(100), ms(350), ""),
			},
			want: []string{
				"»     0s  ▶ lint",
				"»  250ms  ✔ lint  250ms",
			},
		},
		{
			name: "control characters and second lines are not printed",
			lines: []string{
				runLine,
				start(lint, run, "li\x1b[2Jnt", ms(1)),
				end(lint, run, "li\x1b[2Jnt", ms(1), ms(2), `,"failed":true,"error":"first line\nsecond line\u0007"`),
			},
			want: []string{
				"» 1.00ms  ▶ li\uFFFD[2Jnt",
				"» 2.00ms  ✘ li\uFFFD[2Jnt  1.00ms  first line …",
			},
		},
		{
			name:  "colour",
			color: true,
			lines: []string{
				runLine,
				start(lint, run, "lint", ms(10)),
				end(lint, run, "lint", ms(10), ms(30), `,"failed":true,"error":"exit status 3"`),
				end(build, run, "build", ms(10), ms(30), ""),
			},
			want: []string{
				"\x1b[2m» 10.0ms\x1b[0m  \x1b[2m▶\x1b[0m lint",
				"\x1b[2m» 30.0ms\x1b[0m  \x1b[31m✘\x1b[0m lint  20.0ms  \x1b[31mexit status 3\x1b[0m",
				"\x1b[2m» 30.0ms\x1b[0m  \x1b[32m✔\x1b[0m build  20.0ms",
			},
		},
		{
			name:  "lines fit the width",
			width: 30,
			lines: []string{
				runLine,
				end(lint, run, "lint", ms(10), ms(30), `,"failed":true,"error":"exit status 3, and a long story"`),
				end(build, run, "build", ms(10), ms(30), ""),
			},
			want: []string{
				"» 30.0ms  ✘ lint  20.0ms  exi…",
				"» 30.0ms  ✔ build  20.0ms",
			},
		},
		{
			name:  "lines fit the width, in colour",
			width: 30,
			color: true,
			lines: []string{
				runLine,
				end(lint, run, "lint", ms(10), ms(30), `,"failed":true,"error":"exit status 3, and a long story"`),
			},
			want: []string{
				"\x1b[2m» 30.0ms\x1b[0m  \x1b[31m✘\x1b[0m lint  20.0ms  \x1b[31mexi…\x1b[0m",
			},
		},
		{
			name: "lines that are not events show nothing",
			lines: []string{
				runLine,
				`not json`,
				`{"e":"mystery","t":1}`,
				`{"e":"start","t":`, // a torn line
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProgress(tt.color, tt.width)
			var got []string
			for _, l := range tt.lines {
				if s, ok := p.line([]byte(l)); ok {
					got = append(got, s)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestProgressOfARealJournal feeds progress the journal that setup.Tracker
// writes for a run, with a clock that advances 250ms per reading.
func TestProgressOfARealJournal(t *testing.T) {
	dir := t.TempDir()
	var (
		mu  sync.Mutex
		now = time.Unix(0, t0)
	)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(250 * time.Millisecond)
		return now
	}
	t.Setenv(tracker.EnvRunID, "")
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(dir), setup.WithTrackerOptions(tracker.WithClock(clock)))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.WithoutCancel(t.Context()))
	ctx, run := tr.Start(t.Context(), nil, tracker.WithRunName("real"))
	run.Stage(ctx, "fetch", func(context.Context) (any, error) { return nil, nil })
	run.Stage(ctx, "train", func(ctx context.Context) (any, error) {
		return nil, run.Stage(ctx, "epoch", func(context.Context) (any, error) { return nil, errors.New("diverged") })
	})
	run.StartStage(ctx, "upload")

	journal, err := journalPath(dir, run.ID())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	p := newProgress(false, 0)
	var got []string
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if s, ok := p.line(l); ok {
			got = append(got, s)
		}
	}
	want := []string{
		"»  250ms  ▶ fetch",
		"»  500ms  ✔ fetch  250ms",
		"»  750ms  ▶ train",
		"»  1.00s    ▶ epoch",
		"»  1.25s    ✘ epoch  250ms  diverged",
		"»  1.50s  ✘ train  750ms  diverged",
		"»  1.75s  ▶ upload",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := run.Finalize(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestTailer checks that the tailer passes on complete lines only, once
// each, however the writes cut them.
func TestTailer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.journal")
	tl := &tailer{path: path}
	defer tl.close()
	p := newProgress(false, 0)
	var out bytes.Buffer

	tl.read(&out, p, false) // no file yet: nothing, and no error
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := fmt.Sprintf(`{"e":"start","t":%d,"span_id":"1111111111111111","name":"fetch","start":%d}`+"\n", ms(0), ms(0))
	owned := fmt.Sprintf(`{"e":"start","t":%d,"span_id":"2222222222222222","name":"own","start":%d}`+"\n", ms(1), ms(1))
	joined := fmt.Sprintf(`{"e":"start","t":%d,"span_id":"3333333333333333","name":"joined","start":%d}`+"\n", ms(2), ms(2))
	steps := []struct {
		name  string
		write string
		want  string
	}{
		{name: "half a line", write: line[:20], want: ""},
		{name: "the rest and half of the next", write: line[20:] + line[:7], want: "»     0s  ▶ fetch\n"},
		{name: "the rest of the next", write: line[7:], want: "»     0s  ▶ fetch\n"},
		{name: "nothing new", write: "", want: ""},
		// The owner's mapped chunk: NUL where it has not written yet, and
		// a joined process's lines after it.
		{name: "a line and NUL padding", write: owned + strings.Repeat("\x00", 64), want: "» 1.00ms  ▶ own\n"},
		{name: "a joined line after the padding waits a read", write: joined, want: ""},
		{name: "then the padding is skipped", write: "", want: "» 2.00ms  ▶ joined\n"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if _, err := f.WriteString(s.write); err != nil {
				t.Fatal(err)
			}
			out.Reset()
			tl.read(&out, p, false)
			if out.String() != s.want {
				t.Errorf("read %q, want %q", out.String(), s.want)
			}
		})
	}
}

// TestFollowJournalStopReadsTheRest checks that stop prints what was
// appended since the last tick before returning.
func TestFollowJournalStopReadsTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.journal")
	var lines strings.Builder
	for i := range 3 {
		fmt.Fprintf(&lines, `{"e":"start","t":%d,"span_id":"%016d","name":"s%d","start":%d}`+"\n", ms(int64(i)), i+1, i, ms(int64(i)))
	}
	var out bytes.Buffer
	stop := followJournal(path, time.Hour, &out, newProgress(false, 0), nil)
	if err := os.WriteFile(path, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	stop()
	stop() // a second call does nothing
	want := "»     0s  ▶ s0\n» 1.00ms  ▶ s1\n» 2.00ms  ▶ s2\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

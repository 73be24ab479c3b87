package cli

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/view"
	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/journal"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// progress turns the lines of a run's journal (JSON Lines: a "run" event,
// then a "start" and an "end" event per stage, times in Unix nanoseconds;
// docs/reliability.md) into the lines stagetrack run prints on stderr while
// the run goes on:
//
//	»   0s  ▶ fetch
//	» 1.20s  ✔ fetch  1.20s
//	» 1.21s    ▶ compile
//	» 2.60s    ✘ compile  1.39s  exit status 3
//
// The first column is the time of the event since the run started, then the
// stage, indented by its depth in the stage tree (stages of joined
// processes included: they name their parent span), then, for an end, its
// duration and error. It is a pure function of the lines fed to it, with no
// clock of its own: stillRunning is given the time.
//
// A progress is not safe for concurrent use.
type progress struct {
	color  bool
	width  int               // columns a line may take; 0: no limit
	origin int64             // the run's start, Unix ns; 0 until known
	depth  map[string]int    // span id → depth of every stage seen
	names  map[string]string // span id → name, for ends that carry none
	// running holds the start (Unix ns) of each stage started and not
	// yet ended, by span id.
	running map[string]int64
	// stillEvery is the quiet time after which stillRunning says which
	// stages are running; 0: never.
	stillEvery time.Duration
	last       int64 // when the last line shown happened, Unix ns
}

func newProgress(color bool, width int) *progress {
	return &progress{color: color, width: width, depth: map[string]int{}, names: map[string]string{}, running: map[string]int64{}}
}

// defaultStillEvery is how long stagetrack run stays quiet while a stage
// runs before it prints a "still running" line: often enough that a CI
// log, and CI systems that end a job silent for 10 minutes, see the run
// alive; rarely enough that a three-hour stage adds 36 lines.
const defaultStillEvery = 5 * time.Minute

// maxStillNames bounds the stages a "still running" line names.
const maxStillNames = 3

// stillRunning returns, when stages are running and no line was shown
// for p.stillEvery before now (Unix ns), the line that says so:
//
//	» 5m0s  still running: train 5m0s
//
// naming the running stages in start order with the time since each
// started, at most maxStillNames of them ("and 2 more"). It counts as a
// line shown.
func (p *progress) stillRunning(now int64) (string, bool) {
	if p.stillEvery <= 0 || len(p.running) == 0 || now-p.last < int64(p.stillEvery) {
		return "", false
	}
	p.last = now
	return p.format(now, 0, p.paint(sgrYellow, "still running:")+" "+p.runningNames(now)), true
}

// status returns the status line that stagetrack run keeps updated in
// place on a terminal (statusLine), or "" when no stage runs:
//
//	»  1m05s  running: train 1m04s
//
// the running stages as stillRunning names them, once one has run a
// second. Its times are in whole seconds, so it changes about once a
// second.
func (p *progress) status(now int64) string {
	oldest := now
	for _, start := range p.running {
		oldest = min(oldest, start)
	}
	if now-oldest < int64(time.Second) {
		return "" // no stage, or none has run a second: no flicker for short ones
	}
	names := p.runningNames(now)
	if now > p.origin && p.origin != 0 {
		now -= (now - p.origin) % int64(time.Second)
	}
	return p.format(now, 0, p.paint(sgrYellow, "running:")+" "+names)
}

// runningNames names the running stages in start order with the time
// since each started, at most maxStillNames of them ("and 2 more").
func (p *progress) runningNames(now int64) string {
	ids := make([]string, 0, len(p.running))
	for id := range p.running {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(cmp.Compare(p.running[a], p.running[b]), cmp.Compare(a, b))
	})
	var names []string
	for i, id := range ids {
		if i == maxStillNames {
			names = append(names, fmt.Sprintf("and %d more", len(ids)-i))
			break
		}
		el := time.Duration(max(now-p.running[id], 0))
		names = append(names, view.Clean(p.names[id])+" "+view.Duration(el.Truncate(time.Second)))
	}
	return strings.Join(names, ", ")
}

// line returns the display line for one journal line, without a newline,
// and false when the journal line shows nothing (the run event, a line that
// is not an event).
func (p *progress) line(journalLine []byte) (string, bool) {
	if n := len(journalLine); n == 0 || journalLine[n-1] != '\n' {
		journalLine = append(journalLine[:n:n], '\n') // the tailer passes whole lines without it
	}
	ev, err := journal.Decode(journalLine)
	if err != nil {
		return "", false
	}
	if p.origin == 0 && ev.T != 0 {
		p.origin = ev.T
	}
	switch ev.Kind {
	case journal.KindStart:
		p.last = max(p.last, ev.T)
		p.running[ev.SpanID] = cmp.Or(ev.Start, ev.T)
		d := p.place(&ev)
		return p.format(ev.T, d, p.paint(sgrDim, "▶")+" "+view.Clean(p.names[ev.SpanID])), true
	case journal.KindEnd:
		if ev.ProcessStageCount > 0 {
			return "", false // a process's count of its stages, not a stage
		}
		p.last = max(p.last, ev.T)
		delete(p.running, ev.SpanID)
		d := p.place(&ev)
		status := ev.Status
		if status == "" {
			status = runfile.StageOK
			if ev.Failed {
				status = runfile.StageError
			}
		}
		var mark string
		switch status {
		case runfile.StageOK:
			mark = p.paint(sgrGreen, "✔")
		case runfile.StageError:
			mark = p.paint(sgrRed, "✘")
		default: // unfinished, running
			mark = p.paint(sgrYellow, "■ "+view.Clean(status))
		}
		s := mark + " " + view.Clean(p.names[ev.SpanID])
		if ev.End >= ev.Start && ev.Start != 0 {
			s += "  " + view.Duration(time.Duration(ev.End-ev.Start))
		}
		if ev.Error != "" {
			s += "  " + p.paint(sgrRed, view.Clean(ev.Error))
		}
		return p.format(ev.T, d, s), true
	}
	return "", false
}

// place records a stage's depth and name and returns its depth: one more
// than its parent's when the parent is a stage seen before, else 0 (a
// child of the run span).
func (p *progress) place(ev *journal.Event) int {
	if ev.Name != "" || p.names[ev.SpanID] == "" {
		p.names[ev.SpanID] = ev.Name
	}
	if d, ok := p.depth[ev.SpanID]; ok {
		return d
	}
	d := 0
	if pd, ok := p.depth[ev.ParentSpanID]; ok && ev.ParentSpanID != "" {
		d = pd + 1
	}
	p.depth[ev.SpanID] = d
	return d
}

// elapsedWidth is the width of the elapsed-time column.
const elapsedWidth = 6

func (p *progress) format(t int64, depth int, text string) string {
	var el time.Duration
	if t > p.origin {
		el = time.Duration(t - p.origin)
	}
	e := view.Duration(el)
	if n := utf8.RuneCountInString(e); n < elapsedWidth {
		e = strings.Repeat(" ", elapsedWidth-n) + e
	}
	s := p.paint(sgrDim, "» "+e) + "  " + strings.Repeat("  ", depth) + text
	return p.fit(s)
}

// fit cuts s to p.width visible columns, ending in "…", without cutting
// an ANSI sequence in two; colour is reset at the end of a cut line.
func (p *progress) fit(s string) string {
	if p.width <= 0 {
		return s
	}
	var b strings.Builder
	cols, cut := 0, false
	for i := 0; i < len(s); {
		if s[i] == 0x1b { // an SGR sequence: copy it whole, it takes no column
			j := strings.IndexByte(s[i:], 'm')
			if j < 0 {
				break
			}
			b.WriteString(s[i : i+j+1])
			i += j + 1
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if cols == p.width-1 && visibleAfter(s[i:]) > 1 {
			b.WriteString("…")
			cut = true
			break
		}
		b.WriteRune(r)
		cols++
		i += n
	}
	if cut && p.color {
		b.WriteString("\x1b[0m")
	}
	return b.String()
}

// visibleAfter counts the columns s takes, ANSI sequences excluded.
func visibleAfter(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			j := strings.IndexByte(s[i:], 'm')
			if j < 0 {
				return n
			}
			i += j + 1
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

const (
	sgrDim    = "2"
	sgrRed    = "31"
	sgrGreen  = "32"
	sgrYellow = "33"
)

func (p *progress) paint(code, text string) string {
	if !p.color || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// pollInterval is how often stagetrack run reads what was appended to the
// journal.
const pollInterval = 100 * time.Millisecond

// followJournal prints to w the progress lines of what is appended to the
// journal at path, reading it every interval, and a "still running" line
// when p says one is due (progress.stillRunning), until stop is called. stop
// reads and prints what is left, and returns once nothing more will be
// written to w. A journal that cannot be opened yet is tried again at the
// next tick; write errors are ignored (progress is a courtesy).
//
// With status non-nil, w writes through it, and after each read the
// status line is set to the running stages (progress.status) instead;
// stop erases it.
func followJournal(path string, every time.Duration, w io.Writer, p *progress, status *statusLine) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := &tailer{path: path}
		defer t.close()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
			case <-done:
				t.read(w, p, true)
				if status != nil {
					status.clear()
				}
				return
			}
			t.read(w, p, false)
			now := time.Now().UnixNano()
			if status != nil {
				if c := status.columns(); c > 0 {
					p.width = c
				}
				status.set(p.status(now))
			} else if s, ok := p.stillRunning(now); ok {
				_, _ = io.WriteString(w, s+"\n")
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}

// tailer reads the complete lines appended to a file since its last read.
//
// A journal's owner writes into chunks of the file it has mapped, which
// are NUL until written (journal.ScanLines), and joined processes
// append after them. So NUL bytes are where a line may still be coming:
// the tailer waits there, until it has seen, at two reads in a row, the
// same NUL bytes with lines after them (an owner's chunk that others
// appended past), or at its final read; then it skips them and what was
// torn before them.
type tailer struct {
	path  string
	f     *os.File
	pos   int64 // the file offset of the first byte not consumed
	stuck int64 // the offset of NUL bytes waited at last time, or -1
	buf   []byte
}

// read prints the lines that came since the last read. final: the run's
// command has ended, nothing more is coming; NUL bytes with lines after
// them are skipped at once.
func (t *tailer) read(w io.Writer, p *progress, final bool) {
	if t.f == nil {
		f, err := fsutil.OpenFile(t.path, os.O_RDONLY, 0)
		if err != nil {
			return
		}
		t.f = f
		t.stuck = -1
	}
	if t.buf == nil {
		t.buf = make([]byte, 32<<10)
	}
	var (
		out     []byte
		partial []byte // the start of a line whose end has not been read
	)
read:
	for {
		n, err := t.f.ReadAt(t.buf, t.pos+int64(len(partial)))
		data := t.buf[:n]
		for len(data) > 0 {
			i := bytes.IndexAny(data, "\n\x00")
			if i < 0 {
				partial = append(partial, data...)
				break
			}
			if data[i] == 0 {
				gap := t.pos + int64(len(partial)+i)
				next, found := t.afterNUL(gap)
				if !found || t.stuck != gap && !final {
					// A line may still come here: wait, from its start.
					t.stuck = -1
					if found {
						t.stuck = gap
					}
					break read
				}
				// Waited here before, and lines follow: skip the NUL
				// bytes and the torn line before them.
				t.stuck, t.pos, partial = -1, next, nil
				continue read
			}
			line := append(partial, data[:i]...)
			if s, ok := p.line(line); ok {
				out = append(append(out, s...), '\n')
			}
			t.pos += int64(len(line) + 1)
			partial = nil
			data = data[i+1:]
		}
		if err != nil || n == 0 {
			break
		}
	}
	if len(out) > 0 {
		_, _ = w.Write(out)
	}
}

// afterNUL returns the offset of the first byte after the NUL bytes at off
// that is not NUL, and whether there is one.
func (t *tailer) afterNUL(off int64) (int64, bool) {
	b := make([]byte, 4096)
	for {
		n, err := t.f.ReadAt(b, off)
		for i := range b[:n] {
			if b[i] != 0 {
				return off + int64(i), true
			}
		}
		off += int64(n)
		if err != nil || n == 0 {
			return off, false
		}
	}
}

func (t *tailer) close() {
	if t.f != nil {
		t.f.Close()
	}
}

// progress returns the progress printer for stderr: coloured and cut to
// the width on a terminal; plain and whole elsewhere (a file, a CI log),
// one line per stage start and end.
//
// Both print a "still running" line after STAGETRACK_STILL_RUNNING (a Go
// duration, default 5m; 0 turns it off) without one.
func (e *Env) progress() *progress {
	p := newProgress(false, 0)
	if isTerm, _ := e.terminal(e.Stderr); isTerm {
		o := e.viewOptions(e.Stderr, 0)
		p = newProgress(o.Color, o.Width)
	}
	p.stillEvery = defaultStillEvery
	if v := e.getenv(EnvStillRunning); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			fmt.Fprintf(e.Stderr, "stagetrack: warning: %s=%q is not a duration of 0 or more (such as 10m); using %s\n", EnvStillRunning, v, defaultStillEvery)
		} else {
			p.stillEvery = d
		}
	}
	return p
}

// EnvStillRunning names the variable that sets how long stagetrack run
// stays quiet while a stage runs before it says which stages are still
// running: a Go duration; 0 turns the lines off.
const EnvStillRunning = "STAGETRACK_STILL_RUNNING"

package cli

import (
	"io"
	"sync"
	"sync/atomic"
)

// statusLine is the line at the bottom of a terminal on which stagetrack
// run shows the running stages and their elapsed time, updated in place,
// while it relays CMD's output to that terminal (relay_unix.go):
//
//	»  1m05s  running: train 1m04s
//
// It is drawn only while CMD is silent at the start of a line. Before a
// chunk of CMD's output, or a progress line, is written it is erased
// ("\r" and erase to the end of the line); after a chunk that ends a line
// it is drawn again. A chunk that leaves its line open (a prompt, CMD's own
// progress bar drawn with "\r") keeps it away until CMD ends that line.
// Every change is one write, so the terminal never shows half of one. The
// text is cut to the terminal's width by its maker (progress.status): a
// line that wrapped could not be erased.
//
// A statusLine is safe for concurrent use: the relay of CMD's output and
// the journal follower write through it from their goroutines.
type statusLine struct {
	mu sync.Mutex
	w  io.Writer // the terminal
	// text is the line to show; "" when no stage runs.
	text string
	// shown: text is on the terminal now, the cursor at its end.
	shown bool
	// open: the last output left a line open, the cursor after it.
	open bool
	buf  []byte
	// cols is the terminal's width, when the relay knows it.
	cols atomic.Int32
}

// setColumns records the terminal's width, which the status line's maker
// cuts it to.
func (s *statusLine) setColumns(n int) { s.cols.Store(int32(n)) }

// columns is the terminal's width, 0 when unknown.
func (s *statusLine) columns() int { return int(s.cols.Load()) }

// eraseLine moves to the start of the line and erases it.
const eraseLine = "\r\x1b[K"

func newStatusLine(w io.Writer) *statusLine { return &statusLine{w: w} }

// Write writes p, output of CMD or whole progress lines, to the terminal
// with the status line out of its way.
func (s *statusLine) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = s.buf[:0]
	if s.shown {
		s.buf = append(s.buf, eraseLine...)
		s.shown = false
	}
	s.buf = append(s.buf, p...)
	s.open = p[len(p)-1] != '\n'
	s.buf = s.draw(s.buf)
	if _, err := s.w.Write(s.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// set makes text the status line, drawn now unless CMD left a line open.
func (s *statusLine) set(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if text == s.text {
		return
	}
	s.text = text
	if s.open {
		return
	}
	s.buf = s.buf[:0]
	if s.shown {
		s.buf = append(s.buf, eraseLine...)
		s.shown = false
	}
	s.buf = s.draw(s.buf)
	if len(s.buf) > 0 {
		_, _ = s.w.Write(s.buf) // a courtesy: a failed write changes nothing
	}
}

// clear erases the status line for good: the run's command has ended.
func (s *statusLine) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text = ""
	if s.shown {
		_, _ = io.WriteString(s.w, eraseLine)
		s.shown = false
	}
}

// draw appends the status line to b when there is one and the cursor is
// at the start of a line.
func (s *statusLine) draw(b []byte) []byte {
	if s.text == "" || s.open {
		return b
	}
	s.shown = true
	return append(b, s.text...)
}

//go:build unix

package cli

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// ttyRelay stands between CMD and the terminal, so that stagetrack run can
// keep a status line on it (statusLine): CMD's stdout and stderr are the
// terminal end of a pseudo-terminal, whose output run relays to its own
// terminal. CMD still sees a terminal (colours, line buffering, its
// width), and its stdin is run's own; its stdout and stderr come out
// merged, which they were already, on the one terminal.
//
// A ttyRelay is used by one run: open, give tty to CMD, wait once CMD has
// ended.
type ttyRelay struct {
	tty    *os.File // CMD's stdout and stderr; closed once CMD has started
	master *os.File
	status *statusLine
	copied chan struct{} // closed when the relay has copied all it will
	stop   func()        // stops following the terminal's size
}

// openRelay returns a relay to env's terminal when stdout and stderr are
// both that one terminal and a pseudo-terminal can be had; else false, and
// CMD gets the terminal itself.
func openRelay(env *Env) (*ttyRelay, bool) {
	out, ok1 := env.Stdout.(*os.File)
	errf, ok2 := env.Stderr.(*os.File)
	if !ok1 || !ok2 || !term.IsTerminal(int(out.Fd())) || !term.IsTerminal(int(errf.Fd())) {
		return nil, false
	}
	a, err1 := out.Stat()
	b, err2 := errf.Stat()
	if err1 != nil || err2 != nil || !os.SameFile(a, b) {
		return nil, false
	}
	master, tty, err := pty.Open()
	if err != nil {
		return nil, false
	}
	// Bytes pass as CMD writes them; the terminal itself turns "\n" into
	// "\r\n", as when CMD writes to it directly.
	if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
		tty.Close()
		master.Close()
		return nil, false
	}
	r := &ttyRelay{tty: tty, master: master, status: newStatusLine(errf), copied: make(chan struct{})}
	r.resize(out)
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-winch:
				r.resize(out)
			case <-quit:
				return
			}
		}
	})
	r.stop = func() {
		signal.Stop(winch)
		close(quit)
		wg.Wait()
	}
	go r.copy()
	return r, true
}

// resize gives the pseudo-terminal the size of the terminal, and the
// status line its width.
func (r *ttyRelay) resize(from *os.File) {
	_ = pty.InheritSize(from, r.master)
	if _, cols, err := pty.Getsize(from); err == nil {
		r.status.setColumns(cols)
	}
}

// copy relays CMD's output until every process that has the pseudo-
// terminal open has closed it (EIO) or wait gives up.
func (r *ttyRelay) copy() {
	defer close(r.copied)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.master.Read(buf)
		if n > 0 {
			if _, werr := r.status.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// wait, once CMD has ended, waits for the rest of its output (at most
// tailDelay: a background process that keeps the pseudo-terminal open
// must not hold the run open) and lets go of the pseudo-terminal.
func (r *ttyRelay) wait() {
	_ = r.tty.Close() // if CMD never started
	t := time.NewTimer(tailDelay)
	defer t.Stop()
	select {
	case <-r.copied:
	case <-t.C:
		// Unblocks the read where the descriptor is pollable; else the
		// copy ends with the process.
		_ = r.master.SetReadDeadline(time.Now())
	}
	r.stop()
	_ = r.master.Close()
}

package tracker

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// SignalTimeout bounds how long FinalizeOnSignal spends finalising runs
// before it lets the signal end the program.
const SignalTimeout = 10 * time.Second

// FinalizeOnSignal makes the tracker finalise its open runs with status
// "interrupted" when the program receives one of sigs (SIGINT and SIGTERM
// when none are given): open stages are recorded as unfinished, the run
// files are written and the provider flushed. Then the signal is delivered
// again with its default action, so the program exits as it would have
// without the handler (killed by that signal).
//
// It is opt-in, for programs; libraries should leave signals to the
// program. Call the returned stop function to remove the handler, e.g. with
// defer right after the call. It is safe to call stop more than once.
func (t *Tracker) FinalizeOnSignal(sigs ...os.Signal) (stop func()) {
	if len(sigs) == 0 {
		sigs = []os.Signal{os.Interrupt, syscall.SIGTERM}
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case sig := <-ch:
			ctx, cancel := context.WithTimeout(context.Background(), SignalTimeout)
			t.finalizeOpen(ctx, keys.StatusInterrupted, "interrupted by signal: "+sig.String(), "")
			cancel()
			// With our channel gone, the runtime restores the default
			// action, unless the program itself also asked for sig.
			signal.Stop(ch)
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				_ = p.Signal(sig)
			}
		case <-done:
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			wg.Wait()
		})
	}
}

// FinalizeOnPanic records a panic that escapes the pipeline: every open run
// is finalised with status "crashed", the panic's message and stack, and
// then the panic continues. Use it as a deferred call at the top of the
// function that runs the pipeline:
//
//	defer tr.FinalizeOnPanic(ctx)
//
// Without a panic it does nothing; finalise runs as usual.
func (t *Tracker) FinalizeOnPanic(ctx context.Context) {
	v := recover()
	if v == nil {
		return
	}
	t.finalizeOpen(context.WithoutCancel(ctx), keys.StatusCrashed, fmt.Sprintf("panic: %v", v), string(debug.Stack()))
	panic(v)
}

// finalizeOpen finalises every open run with the given status.
func (t *Tracker) finalizeOpen(ctx context.Context, status, msg, stack string) {
	t.mu.Lock()
	runs := make([]*Run, 0, len(t.open))
	for wp := range t.open {
		if r := wp.Value(); r != nil {
			runs = append(runs, r)
		}
	}
	t.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Go(func() { _ = r.finalize(ctx, status, msg, stack) })
	}
	wg.Wait()
}

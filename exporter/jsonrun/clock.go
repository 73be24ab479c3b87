package jsonrun

import "time"

// clock is the time the exporter's waits (WithPendingSpans,
// WithLateStageWait) are measured with; tests give a fake one.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) stopper
}

// stopper is a timer that can be stopped: Stop reports whether it stopped
// the call, as time.Timer.Stop does.
type stopper interface{ Stop() bool }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) }

package jsonrun

// Hooks for the tests of package jsonrun_test.

// TestClock is the clock the exporter's waits read.
type TestClock = clock

// TestStopper is what TestClock.AfterFunc returns.
type TestStopper = stopper

// WithTestClock makes the exporter measure its waits with c.
func WithTestClock(c TestClock) Option {
	return optionFunc(func(cfg config) config {
		cfg.clock = c
		return cfg
	})
}

package cli_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// stats worker pool and the OTLP exporters of send must all stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

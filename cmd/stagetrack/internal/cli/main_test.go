package cli_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// stats worker pool and the OTLP exporters of send must all stop. The
// spool of every command the tests run, in process or built, is a
// directory of the test run's own, never the user's cache directory. It
// removes what buildBinaries built.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	spool, err := os.MkdirTemp("", "stagetrack-spool-test-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(spool)
	defer func() {
		if buildDir != "" {
			os.RemoveAll(buildDir)
		}
	}()
	os.Setenv(cli.EnvSpool, spool)
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			return 1
		}
	}
	return code
}

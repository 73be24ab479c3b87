package cli_test

import (
	"context"
	"fmt"
	"os"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// Main runs a stagetrack command line and returns its exit code. Here the
// environment is empty and stdout is not a terminal, so the output has no
// colour and is 100 columns wide.
func ExampleMain() {
	env := &cli.Env{
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: func(string) string { return "" },
	}
	code := cli.Main(context.Background(),
		[]string{"stats", "testdata/runs/train-a.json", "testdata/runs/train-b.json"}, env)
	fmt.Println("exit code", code)
	// Output:
	// 2 runs
	//
	// STAGE       COUNT  FAILED  FAIL%  FLAKY%    P50    P95    MAX
	// (run)           2       1  50.0%    0.0%  11.0s  13.0s  13.0s
	// ─────────────────────────────────────────────────────────────
	// load_data       2       0   0.0%    0.0%  1.15s  1.20s  1.20s
	// preprocess      2       0   0.0%    0.0%  800ms  800ms  800ms
	// train           2       0   0.0%    0.0%  7.50s  9.45s  9.45s
	//   epoch         6       0   0.0%    0.0%  2.50s  3.50s  3.50s
	// evaluate        2       1  50.0%    0.0%  1.10s  1.30s  1.30s
	// export          1       0   0.0%    0.0%  300ms  300ms  300ms
	// notify          1       0   0.0%    0.0%  200ms  200ms  200ms
	//
	// DATA
	// STAGE        KEY        COUNT   MEAN    MIN    P50    MAX   LAST
	// load_data    rows           2  51000  50000  50000  52000  52000
	// train        best_loss      2  0.535   0.41   0.41   0.66   0.66
	// train        epochs         2      3      3      3      3      3
	// train/epoch  loss           6  0.745   0.41   0.66   1.12   0.66
	// evaluate     accuracy       2  0.893  0.874  0.874  0.912  0.874
	// exit code 0
}

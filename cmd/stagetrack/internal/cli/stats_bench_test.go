package cli_test

import (
	"io"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
)

// BenchmarkStats10000 runs `stagetrack stats DIR` over 10,000 run files
// (runfixture.Synthetic, 8 stages each, about 3.5 KB) written once into a
// temporary directory: one op is one whole command, reading, decoding and
// summarising every file.
//
//	go test -run '^$' -bench Stats10000 -benchtime 5x ./cmd/stagetrack/internal/cli/
func BenchmarkStats10000(b *testing.B) {
	dir := b.TempDir()
	writeSynthetic(b, dir, 10_000)
	env := &cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	b.ResetTimer()
	for b.Loop() {
		if code := cli.Main(b.Context(), []string{"stats", dir}, env); code != cli.ExitOK {
			b.Fatalf("exit code %d", code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/run-of-10k-files")
}

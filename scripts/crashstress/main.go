//go:build unix

// Command crashstress runs the crash trials of docs/reliability.md many
// times, in turn: a child is killed with SIGKILL at a random moment while it
// records stages, while it finalises its run, while it writes stages as a
// joined child of a run this process owns, or while it recovers a crashed
// run; the directory is then recovered and checked: no ended stage lost, no
// half-written file, no leftover temporary file or journal, history
// consistent.
//
//	go run ./scripts/crashstress -trials 200
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/reliability"
)

func main() {
	if ran, code := reliability.RunChild(os.Stdout); ran {
		os.Exit(code)
	}
	trials := flag.Int("trials", 50, "number of kill-and-recover trials")
	stages := flag.Int("stages", 200, "stages in each child pipeline")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed")
	flag.Parse()

	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(*seed, 1))
	kinds := []struct {
		name  string
		trial func(context.Context, string, string, int, *rand.Rand) error
		n     int // stages
	}{
		{"kill during stages", reliability.CrashTrial, *stages},
		{"kill during Finalize", reliability.FinalizeKillTrial, 20},
		{"kill a joined child during its journal writes", reliability.JoinedKillTrial, 50},
		{"kill during recovery", reliability.RecoverKillTrial, 50},
	}
	passed, failed := make([]int, len(kinds)), 0
	for i := range *trials {
		k := kinds[i%len(kinds)]
		dir, err := os.MkdirTemp("", "crashstress-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := k.trial(context.Background(), exe, dir, k.n, rng); err != nil {
			failed++
			fmt.Printf("trial %d (%s): FAIL: %v (kept %s)\n", i, k.name, err, dir)
			continue
		}
		passed[i%len(kinds)]++
		os.RemoveAll(dir)
	}
	total := 0
	for i, k := range kinds {
		fmt.Printf("  %-46s %d passed\n", k.name+":", passed[i])
		total += passed[i]
	}
	fmt.Printf("crashstress (seed %d): %d passed, %d failed\n", *seed, total, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

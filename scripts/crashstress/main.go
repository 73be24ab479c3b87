//go:build unix

// Command crashstress runs the crash trial of docs/reliability.md many
// times: a child pipeline is killed with SIGKILL at a random moment, its
// journal recovered, and the run file checked against what the child said
// it had done.
//
//	go run ./scripts/crashstress -trials 50
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/stage-tracker/stage-tracker/internal/reliability"
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
	passed, failed := 0, 0
	for i := range *trials {
		dir, err := os.MkdirTemp("", "crashstress-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := reliability.CrashTrial(context.Background(), exe, dir, *stages, rng); err != nil {
			failed++
			fmt.Printf("trial %d: FAIL: %v (kept %s)\n", i, err, dir)
			continue
		}
		passed++
		os.RemoveAll(dir)
	}
	fmt.Printf("crashstress (seed %d): %d passed, %d failed\n", *seed, passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

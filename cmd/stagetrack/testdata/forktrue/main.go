// Command forktrue is the baseline of BenchmarkCLI: the least a Go program
// that runs a command can cost, forking and waiting for true(1).
package main

import (
	"os"
	"os/exec"
)

func main() {
	if err := exec.Command("true").Run(); err != nil {
		os.Exit(1)
	}
}

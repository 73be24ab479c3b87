//go:build !unix

package cli

import (
	"os"
	"os/exec"
)

// ownGroup does nothing where process groups are not unix's: a timeout
// ends CMD itself, not what CMD started (docs/cli.md, "Windows").
func ownGroup(*exec.Cmd) {}

// signalGroup reports false: the caller signals the process alone.
func signalGroup(*os.Process, os.Signal) bool { return false }

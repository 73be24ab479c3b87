//go:build !unix && !windows

package cli

import (
	"os"
	"os/exec"
)

// procGroup: where there are neither unix process groups nor Windows job
// objects, a timeout ends CMD itself.
type procGroup struct{}

func newProcGroup(*exec.Cmd) *procGroup { return &procGroup{} }

func (*procGroup) started(*os.Process) {}

// signal reports false: the caller signals the process alone.
func (*procGroup) signal(*os.Process, os.Signal) bool { return false }

func (*procGroup) close() {}

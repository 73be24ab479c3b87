//go:build unix

package cli

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup starts c in a process group of its own, as timeout(1) does, so
// that a timeout ends what CMD started too.
func ownGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends sig to p's process group and reports whether it could.
func signalGroup(p *os.Process, sig os.Signal) bool {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return false
	}
	_ = syscall.Kill(-p.Pid, s)
	return true
}

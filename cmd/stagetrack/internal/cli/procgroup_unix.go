//go:build unix

package cli

import (
	"os"
	"os/exec"
	"syscall"
)

// procGroup is what exec --timeout ends: CMD and what CMD started. On
// unix, a process group of CMD's own, as timeout(1) makes.
type procGroup struct{}

// newProcGroup makes c, not yet started, the leader of a process group of
// its own.
func newProcGroup(c *exec.Cmd) *procGroup {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return &procGroup{}
}

// started is told that CMD started as p.
func (*procGroup) started(*os.Process) {}

// signal sends sig to p's process group and reports whether it could.
func (g *procGroup) signal(p *os.Process, sig os.Signal) bool {
	s, ok := sig.(syscall.Signal)
	if g == nil || !ok {
		return false
	}
	_ = syscall.Kill(-p.Pid, s)
	return true
}

// close lets go of the group once CMD has ended.
func (*procGroup) close() {}

//go:build windows

package cli

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// procGroup is what exec --timeout ends: CMD and what CMD started. On
// Windows, CMD runs in a console process group of its own, which gets
// CTRL_BREAK_EVENT for SIGTERM and SIGINT (what a console program sees as
// its interrupt), and in a job object, which Windows puts every process
// CMD starts into and which SIGKILL terminates as a whole.
//
// A process CMD starts in the instant between CMD's start and its
// assignment to the job is outside it.
type procGroup struct {
	job windows.Handle // 0 when the job could not be made
}

// newProcGroup makes c, not yet started, the root of a console process
// group of its own.
func newProcGroup(c *exec.Cmd) *procGroup {
	c.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
	return &procGroup{}
}

// started puts CMD, started as p, into a job object. Without one (a job
// that forbids nested jobs, say) a timeout ends CMD itself.
func (g *procGroup) started(p *os.Process) {
	if g == nil {
		return
	}
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(p.Pid))
	if err != nil {
		windows.CloseHandle(job)
		return
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		windows.CloseHandle(job)
		return
	}
	g.job = job
}

// signal ends the group as sig asks and reports whether it could:
// SIGKILL terminates the job, SIGTERM and SIGINT send CTRL_BREAK_EVENT to
// the console process group.
func (g *procGroup) signal(p *os.Process, sig os.Signal) bool {
	if g == nil {
		return false
	}
	switch sig {
	case syscall.SIGKILL:
		return g.job != 0 && windows.TerminateJobObject(g.job, 1) == nil
	case syscall.SIGTERM, os.Interrupt:
		return windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(p.Pid)) == nil
	}
	return false
}

// close lets go of the job once CMD has ended; the processes still in it
// go on.
func (g *procGroup) close() {
	if g != nil && g.job != 0 {
		windows.CloseHandle(g.job)
		g.job = 0
	}
}

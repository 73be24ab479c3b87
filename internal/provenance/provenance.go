// Package provenance captures what a run was made of: the code's version
// control state, the command line, the machine, tool versions, allow-listed
// environment variables, and the digests of files. The tracker captures a
// run's provenance through it, the stagetrack command a step's inputs and
// outputs. It uses only the standard library (and the run file's types),
// so that the tracker links nothing more.
//
// Every function is safe for concurrent use.
package provenance

import (
	"context"
	"os"
	"runtime"
	"sync"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// Parts selects what Capture captures.
type Parts uint

const (
	// Code is the git state of the working directory's repository.
	Code Parts = 1 << iota
	// Command is the command line and the working directory.
	Command
	// Machine is the OS, kernel, CPUs, memory, GPUs and container image.
	Machine
	// Tools is the Go runtime's version and those of Config.ToolCommands.
	Tools

	// All is every part: the default.
	All = Code | Command | Machine | Tools
)

// Config says what Capture captures.
type Config struct {
	Parts Parts
	// Dir is the working directory; "" for the process's.
	Dir string
	// Args is the command line; nil for the process's (os.Args).
	Args []string
	// EnvPatterns is the allow-list of environment variable names, globs
	// as path.Match reads them; the variables come from Environ.
	EnvPatterns []string
	// Environ is the environment; nil for the process's.
	Environ []string
	// Secret reports whether a variable's value must be redacted; nil
	// redacts by SecretName alone.
	Secret func(name string) bool
	// ToolCommands are commands whose "--version" output is recorded
	// under their base name.
	ToolCommands []string
}

// Capture captures the parts that cfg names and returns them, nil when
// nothing was captured. A part that cannot be known is left out; capture
// never fails a run. It is Start and Wait.
func Capture(ctx context.Context, cfg Config) *runfile.Provenance {
	return Start(ctx, cfg).Wait(context.Background())
}

// Pending is a capture under way, started by Start. It is safe for
// concurrent use.
type Pending struct {
	done chan struct{}
	p    *runfile.Provenance
}

// Start starts capturing the parts that cfg names and returns at once; Wait
// returns what was captured. The commands that capture runs (git,
// nvidia-smi, tool versions: they take tens to hundreds of milliseconds)
// are started before Start returns, and nothing is started later: a process
// that forks holds its open files in the child until the child's exec
// closes them, and with them their locks. A caller that starts the capture
// before it opens a run's journal can be killed at any moment and leave
// the journal unlocked, so that a recovery that follows at once takes it.
func Start(ctx context.Context, cfg Config) *Pending {
	p := &runfile.Provenance{}
	dir := cfg.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	var (
		code    func() *runfile.Code
		machine func() *runfile.Machine
		tools   []func() (string, string)
	)
	if cfg.Parts&Code != 0 {
		code = startGit(ctx, dir)
	}
	if cfg.Parts&Machine != 0 {
		machine = startMachine(ctx)
	}
	if cfg.Parts&Tools != 0 {
		for _, c := range cfg.ToolCommands {
			tools = append(tools, startToolVersion(ctx, c))
		}
	}
	if cfg.Parts&Command != 0 {
		p.Command = cfg.Args
		if p.Command == nil {
			p.Command = os.Args
		}
		p.WorkingDir = dir
	}
	if len(cfg.EnvPatterns) > 0 {
		environ := cfg.Environ
		if environ == nil {
			environ = os.Environ()
		}
		p.Env = Env(environ, cfg.EnvPatterns, cfg.Secret)
	}
	pending := &Pending{done: make(chan struct{})}
	collect := func() {
		defer close(pending.done)
		var wg sync.WaitGroup
		if code != nil {
			wg.Go(func() { p.Code = code() })
		}
		if machine != nil {
			wg.Go(func() { p.Machine = machine() })
		}
		if cfg.Parts&Tools != 0 {
			p.Tools = map[string]string{"go": runtime.Version()}
			for _, tool := range tools {
				if name, v := tool(); v != "" {
					p.Tools[name] = v
				}
			}
		}
		wg.Wait()
		if !Empty(p) {
			pending.p = p
		}
	}
	if code == nil && machine == nil && len(tools) == 0 {
		collect() // nothing to wait for (the command, the environment): no goroutine
	} else {
		go collect()
	}
	return pending
}

// Wait returns what was captured, nil when nothing was, or when ctx ends
// first (the commands go on and are waited for in the background).
func (pp *Pending) Wait(ctx context.Context) *runfile.Provenance {
	select {
	case <-pp.done:
		return pp.p
	case <-ctx.Done():
		return nil
	}
}

// Empty reports whether p records nothing.
func Empty(p *runfile.Provenance) bool {
	return p == nil || p.Code == nil && p.Command == nil && p.WorkingDir == "" && p.Machine == nil && len(p.Tools) == 0 && len(p.Env) == 0
}

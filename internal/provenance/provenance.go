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

// Capture captures the parts that cfg names, each in its own goroutine
// (the git commands and nvidia-smi dominate). It returns nil when nothing
// was captured. A part that cannot be known is left out; capture never
// fails a run.
func Capture(ctx context.Context, cfg Config) *runfile.Provenance {
	p := &runfile.Provenance{}
	dir := cfg.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	var wg sync.WaitGroup
	if cfg.Parts&Code != 0 {
		wg.Go(func() { p.Code = GitState(ctx, dir) })
	}
	if cfg.Parts&Machine != 0 {
		wg.Go(func() { p.Machine = ThisMachine(ctx) })
	}
	var tools map[string]string
	if cfg.Parts&Tools != 0 {
		wg.Go(func() {
			tools = map[string]string{"go": runtime.Version()}
			for _, c := range cfg.ToolCommands {
				if name, v := ToolVersion(ctx, c); v != "" {
					tools[name] = v
				}
			}
		})
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
	wg.Wait()
	p.Tools = tools
	if p.Code == nil && p.Command == nil && p.WorkingDir == "" && p.Machine == nil && len(p.Tools) == 0 && len(p.Env) == 0 {
		return nil
	}
	return p
}

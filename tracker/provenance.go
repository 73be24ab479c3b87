package tracker

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/provenance"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// Capture selects the parts of a run's provenance (the run file's
// provenance object) that the tracker captures when a run starts.
type Capture uint

// The parts of a run's provenance. Each is cheap, and each can be switched
// off with WithCapture.
const (
	// CaptureCode: the git commit, branch, dirty state, digest of the
	// uncommitted diff and untracked count of the working directory's
	// repository, through the git command; nothing outside a repository or
	// without git on PATH.
	CaptureCode = Capture(provenance.Code)
	// CaptureCommand: the command line (os.Args) and working directory.
	CaptureCommand = Capture(provenance.Command)
	// CaptureMachine: OS, architecture, kernel, CPU model and count,
	// memory; GPUs when nvidia-smi is on PATH; the container image when
	// the container says it.
	CaptureMachine = Capture(provenance.Machine)
	// CaptureTools: the Go runtime's version and those of WithToolVersion.
	CaptureTools = Capture(provenance.Tools)
	// CaptureAll is every part, the default.
	CaptureAll = CaptureCode | CaptureCommand | CaptureMachine | CaptureTools
)

// EnvAllowList names the environment variable that adds to WithEnv's
// allow-list: names and globs separated by commas (CUDA_*,OMP_NUM_THREADS).
const EnvAllowList = provenance.EnvVar

// WithCapture sets the parts of provenance that runs capture; the default
// is CaptureAll. WithCapture(0) captures none of them; environment
// variables are recorded only by WithEnv or STAGE_TRACKER_ENV, whatever the
// parts. Given to New it applies to every run, given to Start to that run.
//
// Code, command, machine and tools describe the process: a Tracker
// captures them once, at the first run that needs them, and shares them
// with its later runs. The environment is read at every Start. The code,
// machine and tools are captured while the run goes on, so that Start does
// not wait for git: Start starts their commands (before the run's span, so
// that no command is forked while the run's journal is open) and Finalize
// waits for them and records what they found on the run span. A run
// recovered from its journal after a crash records only its command and
// environment.
func WithCapture(parts Capture) SharedOption { return captureOption{parts: &parts} }

// WithoutProvenance records no provenance at all: no parts, no
// environment, not even STAGE_TRACKER_ENV's.
func WithoutProvenance() SharedOption { return captureOption{parts: new(Capture), noEnv: true} }

// WithEnv records the environment variables whose names match patterns
// (exact names or path.Match globs: CUDA_*), and no others: the rest of the
// environment never reaches a span or a file. A value whose name says it
// is a secret (contains token, secret, password, key names of
// DefaultRedactKeys, or a key given to WithRedactKeys) is recorded as
// Redacted. The variable STAGE_TRACKER_ENV adds patterns.
func WithEnv(patterns ...string) SharedOption { return captureOption{env: patterns} }

// WithToolVersion records the version of each command ("CMD --version",
// its first line) under the command's base name in provenance's tools,
// beside the Go runtime's.
func WithToolVersion(commands ...string) SharedOption { return captureOption{tools: commands} }

// WithProvenance records p as the run's provenance instead of capturing
// one: for a run assembled later from what another process captured (as
// stagetrack finish does with start's). The allow-listed environment is
// not added. p is copied.
func WithProvenance(p runfile.Provenance) RunOption {
	return runOptionFunc(func(c runConfig) runConfig {
		c.given = &p
		return c
	})
}

type captureOption struct {
	parts *Capture
	noEnv bool
	env   []string
	tools []string
}

func (o captureOption) apply(c config) config {
	c.capture = o.merge(c.capture)
	return c
}

func (o captureOption) applyRun(c runConfig) runConfig {
	c.capture = o.merge(c.capture)
	return c
}

// captureConfig is what the capture options say, for a tracker or a run.
type captureConfig struct {
	parts *Capture // nil: not said
	noEnv bool
	env   []string
	tools []string
}

func (o captureOption) merge(c captureConfig) captureConfig {
	if o.parts != nil {
		c.parts = o.parts
	}
	c.noEnv = c.noEnv || o.noEnv
	c.env = append(slices.Clone(c.env), o.env...)
	c.tools = append(slices.Clone(c.tools), o.tools...)
	return c
}

// processProvenance is a Tracker's capture of what describes its process
// (code, machine, tools), started once, by its first run.
type processProvenance struct {
	once    sync.Once
	pending *provenance.Pending
}

// provenanceKV is p as the run span's attribute.
func provenanceKV(p *runfile.Provenance) attribute.KeyValue {
	b, _ := p.MarshalJSON() // never fails
	return attribute.String(keys.RunProvenance, string(b))
}

// runProvenance returns what a run started with rc records of what it was
// made of: the part known at once (the command, the environment, or what
// WithProvenance gave), and the part still being captured, nil when none.
func (t *Tracker) runProvenance(ctx context.Context, rc *runConfig) (*runfile.Provenance, *provenance.Pending) {
	if rc.given != nil {
		return rc.given, nil
	}
	tc, r := t.cfg.capture, rc.capture
	parts := CaptureAll
	switch {
	case r.parts != nil:
		parts = *r.parts
	case tc.parts != nil:
		parts = *tc.parts
	}
	var p runfile.Provenance
	if parts&CaptureCommand != 0 {
		if c := provenance.Capture(ctx, provenance.Config{Parts: provenance.Command}); c != nil {
			p.Command, p.WorkingDir = c.Command, c.WorkingDir
		}
	}
	var pending *provenance.Pending
	if slow := provenance.Parts(parts &^ CaptureCommand); slow != 0 {
		bg := context.WithoutCancel(ctx)
		if r.parts == nil && len(r.tools) == 0 {
			t.process.once.Do(func() {
				t.process.pending = provenance.Start(bg, provenance.Config{Parts: slow, ToolCommands: tc.tools})
			})
			pending = t.process.pending
		} else {
			pending = provenance.Start(bg, provenance.Config{Parts: slow, ToolCommands: append(slices.Clone(tc.tools), r.tools...)})
		}
	}
	if !tc.noEnv && !r.noEnv {
		patterns := append(append(provenance.Patterns(os.Getenv(EnvAllowList)), tc.env...), r.env...)
		if len(patterns) > 0 {
			p.Env = provenance.Env(os.Environ(), patterns, t.redact.secret)
		}
	}
	if pending == nil && p.Command == nil && p.WorkingDir == "" && len(p.Env) == 0 {
		return nil, nil
	}
	return &p, pending
}

// withPending is p with what pending captured: the code, the machine and
// the tools.
func withPending(p *runfile.Provenance, got *runfile.Provenance) *runfile.Provenance {
	full := *p
	if got != nil {
		full.Code, full.Machine, full.Tools = got.Code, got.Machine, got.Tools
	}
	return &full
}

// secret reports whether an environment variable's value is redacted
// beyond provenance.SecretName's rule: its name is a key of
// WithRedactKeys, as a data key is.
func (r redactor) secret(name string) bool { return r[strings.ToLower(name)] }

// Input records files the stage reads, as they are now: each file's path,
// size, modification time and SHA-256, for the stage's inputs in the run
// file. paths are files, globs (data/*.csv) or directories (their regular
// files). Unchanged files are not read again by later runs: their digests
// are cached under the user's cache directory (STAGE_TRACKER_HASH_CACHE
// moves it, "off" disables it). A path that does not exist is recorded
// without a digest and reported in the returned error.
//
// Input is safe for concurrent use; on a no-op Stage it does nothing.
func (s *Stage) Input(paths ...string) error {
	if s.run == nil {
		return nil
	}
	files, err := s.run.tracker.hasher().Files(context.Background(), paths)
	s.run.mu.Lock()
	s.inputs = append(s.inputs, files...)
	s.run.mu.Unlock()
	return err
}

// Output names files the stage writes. They are recorded as Input records
// files, when the stage ends: as the stage left them. A path missing then
// is recorded without a digest.
//
// Output is safe for concurrent use; on a no-op Stage it does nothing.
func (s *Stage) Output(paths ...string) {
	if s.run == nil {
		return
	}
	s.run.mu.Lock()
	s.outputs = append(s.outputs, paths...)
	s.run.mu.Unlock()
}

// fileAttrs appends the attributes of a stage's inputs and outputs,
// hashing the outputs now, as the stage ends.
func (t *Tracker) fileAttrs(attrs []attribute.KeyValue, inputs []runfile.File, outputs []string) []attribute.KeyValue {
	if len(inputs) > 0 {
		b, _ := json.Marshal(inputs)
		attrs = append(attrs, attribute.String(keys.StageInputs, string(b)))
	}
	if len(outputs) > 0 {
		files, _ := t.hasher().Files(context.Background(), outputs)
		if len(files) > 0 {
			b, _ := json.Marshal(files)
			attrs = append(attrs, attribute.String(keys.StageOutputs, string(b)))
		}
	}
	return attrs
}

// hasher is the tracker's file hasher, made at the first use.
func (t *Tracker) hasher() *provenance.Hasher {
	t.hasherOnce.Do(func() {
		t.fileHasher = &provenance.Hasher{CacheDir: provenance.DefaultCacheDir(os.Getenv)}
	})
	return t.fileHasher
}

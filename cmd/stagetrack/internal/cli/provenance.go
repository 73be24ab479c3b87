package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/stage-tracker/stage-tracker/internal/provenance"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// captureFlags are the flags of what run, start and exec (outside a run)
// capture of a run's provenance.
type captureFlags struct {
	capture string   // --capture: all, none, or a comma-separated list of parts
	env     []string // --env: allow-listed variable names and globs
	tools   []string // --tool-version: commands whose version to record
}

func (c *captureFlags) register(f *pflag.FlagSet) {
	f.StringVar(&c.capture, "capture", "all", "what the run's provenance records: all, none, or a comma-separated list of code, command, machine, tools")
	f.StringArrayVar(&c.env, "env", nil, "record the environment variable NAME (a glob: CUDA_*) in the run's provenance, secrets redacted; repeatable; "+provenance.EnvVar+" adds more")
	f.StringArrayVar(&c.tools, "tool-version", nil, `record the version ("CMD --version") of CMD in the run's provenance; repeatable`)
}

// parts reads --capture.
func (c *captureFlags) parts() (provenance.Parts, error) {
	var p provenance.Parts
	for _, name := range strings.Split(c.capture, ",") {
		switch strings.TrimSpace(name) {
		case "all":
			p |= provenance.All
		case "none", "":
		case "code":
			p |= provenance.Code
		case "command":
			p |= provenance.Command
		case "machine":
			p |= provenance.Machine
		case "tools":
			p |= provenance.Tools
		default:
			return 0, usagef("--capture: %q is not all, none, code, command, machine or tools", name)
		}
	}
	return p, nil
}

// provenance captures the provenance of a run whose command is argv, in
// this process's working directory: nil when nothing is captured.
func (c *captureFlags) provenance(ctx context.Context, env *Env, argv []string) (*runfile.Provenance, error) {
	parts, err := c.parts()
	if err != nil {
		return nil, err
	}
	patterns := append(provenance.Patterns(env.getenv(provenance.EnvVar)), c.env...)
	return provenance.Capture(ctx, provenance.Config{
		Parts:        parts,
		Args:         argv,
		EnvPatterns:  patterns,
		Environ:      os.Environ(),
		ToolCommands: c.tools,
	}), nil
}

// provenanceOption is the tracker's option for a run whose provenance,
// captured already, is p (nil: none).
func provenanceOption(p *runfile.Provenance) tracker.RunOption {
	if p == nil {
		return tracker.WithoutProvenance()
	}
	return tracker.WithProvenance(*p)
}

// paramFlags are --param and the --args @FILE form of run and start.
type paramFlags struct {
	params []string // --param KEY=VALUE
}

func (p *paramFlags) register(f *pflag.FlagSet) {
	f.StringArrayVar(&p.params, "param", nil, "set the run's args[KEY] to VALUE (as JSON where it parses, else a string, as --data); repeatable")
}

// runArgs is the run's args from --args (text, JSON, or @FILE of JSON) and
// --param: the params go into the args object (args from --args must then
// be an object). ok is false when neither flag was given.
func (p *paramFlags) runArgs(argsGiven bool, args string) (_ any, ok bool, _ error) {
	if !argsGiven && len(p.params) == 0 {
		return nil, false, nil
	}
	var base any
	if argsGiven {
		if path, isFile := strings.CutPrefix(args, "@"); isFile {
			b, err := runfile.ReadRegular(path)
			if err != nil {
				return nil, false, usagef("--args @%s: %v", path, err)
			}
			if !json.Valid(b) {
				return nil, false, usagef("--args @%s: not valid JSON", path)
			}
			base = json.RawMessage(b)
		} else {
			base = argsValue(args)
		}
	}
	if len(p.params) == 0 {
		return base, true, nil
	}
	params, err := parseData(p.params)
	if err != nil {
		return nil, false, usagef("--param: %v", strings.TrimPrefix(err.Error(), "data "))
	}
	obj := map[string]any{}
	if base != nil {
		raw, _ := json.Marshal(base)
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil || obj == nil {
			return nil, false, usagef("--param needs --args to be a JSON object, not %s", oneLine(fmt.Errorf("%.40s", raw)))
		}
	}
	for k, v := range params {
		obj[k] = v
	}
	return obj, true, nil
}

// startedProvenance is the option that records, at finish, the provenance
// that start captured (none when it captured none, or its journal's is not
// readable): never finish's own.
func startedProvenance(raw json.RawMessage) tracker.RunOption {
	var p runfile.Provenance
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil {
		return tracker.WithoutProvenance()
	}
	return tracker.WithProvenance(p)
}

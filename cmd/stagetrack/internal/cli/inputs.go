package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/spf13/pflag"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/provenance"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// stageFiles are exec's --input and --output, and the tool versions of
// the stage it records: what its command was made of.
type stageFiles struct {
	inputs, outputs []string
	capture         *captureFlags // its parts say whether tools are recorded; its tools are --tool-version
}

func (f *stageFiles) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.inputs, "input", nil, "record PATH (a file, glob or directory) as the stage's input: size, mtime, SHA-256, taken before CMD starts; repeatable")
	fs.StringArrayVar(&f.outputs, "output", nil, "record PATH (a file, glob or directory) as the stage's output, taken when CMD ends; repeatable")
}

// begin records the stage's inputs, as they are before its command
// starts, and asks the versions of its interpreter (python, node, go) and
// of --tool-version's commands while the command runs; end, called before
// the stage ends, records its outputs and those versions. A file that
// cannot be recorded is a warning on w, never a failure of the stage.
func (f *stageFiles) begin(ctx context.Context, stage *tracker.Stage, argv []string, w io.Writer) (end func()) {
	if len(f.inputs) > 0 {
		if err := stage.Input(f.inputs...); err != nil {
			fmt.Fprintf(w, "stagetrack: warning: --input: %s\n", oneLine(err))
		}
	}
	stage.Output(f.outputs...)
	var (
		wg    sync.WaitGroup
		tools map[string]string
	)
	if parts, err := f.capture.parts(); err == nil && parts&provenance.Tools != 0 {
		commands := f.capture.tools
		if interp := provenance.Interpreter(argv[0]); interp != "" {
			commands = append([]string{interp}, commands...)
		}
		if len(commands) > 0 {
			// Asked while the command runs: a version costs it no time.
			wg.Go(func() {
				for i, c := range commands {
					name, v := provenance.ToolVersion(context.WithoutCancel(ctx), c)
					if i == 0 && c == argv[0] {
						name = provenance.InterpreterKey(c)
					}
					if v != "" {
						if tools == nil {
							tools = map[string]string{}
						}
						tools[name] = v
					}
				}
			})
		}
	}
	return func() {
		wg.Wait()
		if len(tools) > 0 {
			b, _ := json.Marshal(tools)
			trace.SpanFromContext(ctx).SetAttributes(attribute.String(keys.StageTools, string(b)))
		}
	}
}

// execRunOption is the provenance option of exec's run: captured for
// argv when exec records a run of its own; nothing when it joins a run,
// whose owner captured it.
func execRunOption(ctx context.Context, env *Env, c *captureFlags, argv []string, joining bool) (tracker.RunOption, error) {
	if joining {
		return tracker.WithoutProvenance(), nil
	}
	p, err := c.provenance(ctx, env, argv)
	if err != nil {
		return nil, err
	}
	return provenanceOption(p), nil
}

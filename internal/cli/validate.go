package cli

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/spf13/cobra"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/jsonpos"
)

func newValidateCommand(env *Env) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check run files against the run file's JSON Schema",
		Long: `validate checks each file against the JSON Schema of the run file (the one
exporter/jsonrun ships, draft 2020-12). For every problem it prints a line

  FILE:LINE: REASON (at JSON-POINTER)

where LINE is the line of the value at fault (for a value inside an object,
the line of its key) and JSON-POINTER its path in the document. A file that is
not JSON at all gets one line with the place of the syntax error. Valid files
are listed as "FILE: ok" unless --quiet.

validate exits 0 when every file is valid and 1 when any is not.`,
		Example: example(
			"stagetrack validate runs/*.json",
			"stagetrack validate -q run_output.json && echo valid",
		),
		GroupID: groupLook,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, files []string) error {
			sch, err := compileSchema()
			if err != nil {
				return err
			}
			var out bytes.Buffer
			invalid := 0
			for _, f := range files {
				problems, err := validateFile(sch, f)
				if err != nil {
					return err
				}
				if len(problems) == 0 {
					if !quiet {
						fmt.Fprintf(&out, "%s: ok\n", f)
					}
					continue
				}
				invalid++
				for _, p := range problems {
					fmt.Fprintf(&out, "%s:%d: %s", f, p.Line, p.Reason)
					switch {
					case !p.Schema:
					case p.Pointer == "":
						out.WriteString(" (at the top level)")
					default:
						fmt.Fprintf(&out, " (at %s)", p.Pointer)
					}
					out.WriteByte('\n')
				}
			}
			if err := write(env.Stdout, out.String()); err != nil {
				return err
			}
			if invalid > 0 {
				return &reportedError{summary: fmt.Sprintf("%d of %d files are not valid run files", invalid, len(files))}
			}
			return nil
		}),
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only problems")
	return cmd
}

// schemaURL is the $id of jsonrun.Schema.
const schemaURL = "https://github.com/stage-tracker/stage-tracker/exporter/jsonrun/schema.json"

func compileSchema() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(jsonrun.Schema))
	if err != nil {
		return nil, fmt.Errorf("run file schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("run file schema: %w", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("run file schema: %w", err)
	}
	return sch, nil
}

// problem is one reason a file is not a valid run file.
type problem struct {
	Line    int
	Pointer string // where the schema found it; "" for the top level
	Reason  string
	Schema  bool // found by the schema, not a syntax error
}

// validateFile returns the problems of one file, sorted by line. The error
// is for a file that cannot be read.
func validateFile(sch *jsonschema.Schema, path string) ([]problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ix, err := jsonpos.New(data)
	if err != nil {
		var se *jsonpos.Error
		if errors.As(err, &se) {
			return []problem{{Line: se.Line, Reason: "not valid JSON: " + se.Msg}}, nil
		}
		return []problem{{Line: 1, Reason: "not valid JSON: " + err.Error()}}, nil
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return []problem{{Line: 1, Reason: "not valid JSON: " + err.Error()}}, nil
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []problem{{Line: 1, Reason: err.Error()}}, nil
	}
	p := message.NewPrinter(language.English)
	var out []problem
	var leaves func(e *jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			ptr := jsonpos.Pointer(e.InstanceLocation)
			out = append(out, problem{Line: ix.Line(ptr), Pointer: ptr, Reason: e.ErrorKind.LocalizedString(p), Schema: true})
			return
		}
		for _, c := range e.Causes {
			leaves(c)
		}
	}
	leaves(ve)
	slices.SortStableFunc(out, func(a, b problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Pointer, b.Pointer), cmp.Compare(a.Reason, b.Reason))
	})
	return slices.Compact(out), nil
}

package cli

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/spf13/cobra"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/jsonpos"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runschema"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func newValidateCommand(env *Env) *cobra.Command {
	var quiet, strict bool
	cmd := &cobra.Command{
		Use:   "validate RUN...",
		Short: "Check run files against the run file's JSON Schema",
		Long: `validate checks each file against the JSON Schema of the run file (the one
exporter/jsonrun ships, draft 2020-12). For every problem it prints a line

  FILE:LINE: REASON (at JSON-POINTER)

where LINE is the line of the value at fault (for a value inside an object,
the line of its key) and JSON-POINTER its path in the document. A file that is
not JSON at all gets one line with the place of the syntax error. Valid files
are listed as "FILE: ok" unless --quiet.

Files of the Python stage-tracker are accepted: its history
(history/pipeline_history.json, a JSON array; each run is FILE[i]) and its
run objects (no schema_version). What such a run lacks compared with the
schema (keys it never writes, null durations, timestamps without fraction or
offset) is printed as "FILE[i]:LINE: note: ..." and does not fail it, as long
as stagetrack can read the run; --strict makes the notes failures. --quiet
hides notes too.

validate exits 0 when every file is valid and 1 when any is not.`,
		Example: example(
			"stagetrack validate runs/*.json",
			"stagetrack validate -q run_output.json && echo valid",
			"stagetrack validate --strict history/pipeline_history.json",
		),
		GroupID: groupLook,
		Args:    args(cobra.MinimumNArgs(1)),
		RunE: runE(func(cmd *cobra.Command, files []string) error {
			files, err := resolveRuns(cmd.Context(), files)
			if err != nil {
				return err
			}
			sch, err := compileSchema()
			if err != nil {
				return err
			}
			var out bytes.Buffer
			invalid := 0
			for _, f := range files {
				if err := cmd.Context().Err(); err != nil {
					return err
				}
				runs, err := validateFile(sch, f, strict)
				if errors.Is(err, runfile.ErrNotRegular) {
					fmt.Fprintf(env.Stderr, "stagetrack: note: skipped %v\n", err)
					continue
				}
				if err != nil {
					return fileErr(f, err)
				}
				bad := false
				for _, v := range runs {
					label := f
					if v.index >= 0 {
						label = fmt.Sprintf("%s[%d]", f, v.index)
					}
					notes := 0
					for _, p := range v.problems {
						if p.Note {
							notes++
						} else {
							bad = true
						}
						if p.Note && quiet {
							continue
						}
						fmt.Fprintf(&out, "%s:%d: ", label, p.Line)
						if p.Note {
							out.WriteString("note: ")
						}
						out.WriteString(p.Reason)
						switch {
						case !p.Schema:
						case p.Pointer == "":
							out.WriteString(" (at the top level)")
						default:
							fmt.Fprintf(&out, " (at %s)", p.Pointer)
						}
						out.WriteByte('\n')
					}
					if quiet || notes < len(v.problems) {
						continue
					}
					if notes > 0 {
						fmt.Fprintf(&out, "%s: ok as a Python stage-tracker run (%s on what it lacks compared with our schema; --strict fails it)\n", label, plural(notes, "note"))
					} else {
						fmt.Fprintf(&out, "%s: ok\n", label)
					}
				}
				if bad {
					invalid++
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
	cmd.Flags().BoolVar(&strict, "strict", false, "fail a Python stage-tracker file on what it lacks compared with the schema, instead of noting it")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only problems")
	return cmd
}

// compileSchema compiles runfile.Schema(), when validate runs: no other
// command pays for it.
func compileSchema() (*runschema.Schema, error) {
	sch, err := runschema.Compile(runfile.Schema())
	if err != nil {
		return nil, fmt.Errorf("run file schema: %w", err)
	}
	return sch, nil
}

// problem is one reason a file is not a valid run file.
type problem struct {
	Line    int
	Pointer string // where the schema found it, within the run; "" for the top level
	Reason  string
	Schema  bool // found by the schema, not a syntax error
	Note    bool // what a Python stage-tracker run lacks; not a failure
}

// validated is the problems of one run of a file: the file's only run
// (index -1) or the run at index in a Python history array.
type validated struct {
	index    int
	problems []problem
}

// validateFile returns the problems of each run in one file, sorted by
// line. The error is for a file that cannot be read.
func validateFile(sch *runschema.Schema, path string, strict bool) ([]validated, error) {
	data, err := readRegular(path)
	if err != nil {
		return nil, err
	}
	// The line index costs more than checking the file: build it only for
	// a file with something to report. json.Valid accepts no document that
	// jsonpos.New rejects, so the syntax errors are jsonpos's as before.
	ix := &lineIndex{data: data}
	if !json.Valid(data) {
		var err error
		if ix.ix, err = jsonpos.New(data); err != nil {
			var se *jsonpos.Error
			if errors.As(err, &se) {
				return []validated{{-1, []problem{{Line: se.Line, Reason: "not valid JSON: " + se.Msg}}}}, nil
			}
			return []validated{{-1, []problem{{Line: 1, Reason: "not valid JSON: " + err.Error()}}}}, nil
		}
	}
	b := bytes.TrimLeft(data, " \t\r\n")
	if len(b) > 0 && b[0] == '{' && sch.Valid(data) {
		// What nearly every file is: a valid run, nothing to report. The
		// quick check reads the bytes once; the rest is for a file with
		// problems, to say which.
		return []validated{{-1, nil}}, nil
	}
	var elems []json.RawMessage
	if len(b) > 0 && b[0] == '[' && json.Unmarshal(data, &elems) == nil {
		out := make([]validated, 0, len(elems))
		for i, el := range elems {
			out = append(out, validated{i, validateRun(sch, el, ix, "/"+strconv.Itoa(i), true, strict)})
		}
		return out, nil
	}
	var top map[string]json.RawMessage
	python := json.Unmarshal(data, &top) == nil && top["schema_version"] == nil
	return []validated{{-1, validateRun(sch, data, ix, "", python, strict)}}, nil
}

// validateRun checks one run, whose JSON is at prefix in the file that ix
// indexes. A Python stage-tracker run that stagetrack can read gets its
// problems as notes, unless strict.
func validateRun(sch *runschema.Schema, data []byte, ix *lineIndex, prefix string, python, strict bool) []problem {
	found, err := sch.Validate(data)
	if err != nil {
		return []problem{{Line: ix.Line(prefix), Reason: "not valid JSON: " + err.Error()}}
	}
	if len(found) == 0 {
		return nil
	}
	note := false
	if python && !strict {
		var r runfile.Run
		note = json.Unmarshal(data, &r) == nil
	}
	p := message.NewPrinter(language.English)
	out := make([]problem, 0, len(found))
	for _, f := range found {
		ptr := jsonpos.Pointer(f.Location)
		out = append(out, problem{Line: ix.Line(prefix + ptr), Pointer: ptr, Reason: reason(f.Kind, ptr, p), Schema: true, Note: note})
	}
	slices.SortStableFunc(out, func(a, b problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Pointer, b.Pointer), cmp.Compare(a.Reason, b.Reason))
	})
	return slices.Compact(out)
}

// lineIndex is the line index of a file's JSON, built when first asked
// for a line.
type lineIndex struct {
	data []byte
	ix   *jsonpos.Index
}

// Line is the line of the value at pointer in the file.
func (l *lineIndex) Line(pointer string) int {
	if l.ix == nil {
		l.ix, _ = jsonpos.New(l.data) // valid JSON: no error, and a partial index otherwise
	}
	return l.ix.Line(pointer)
}

// reason words a schema error; a timestamp that does not match the
// schema's pattern says what a timestamp must look like instead of
// printing the regular expression.
func reason(k runschema.Kind, ptr string, p *message.Printer) string {
	if k, ok := k.(*kind.Pattern); ok && isTimeKey(ptr) {
		return fmt.Sprintf("%q is not a run file timestamp (UTC with microseconds, like 2025-05-05T23:14:10.235518+00:00)", k.Got)
	}
	return k.LocalizedString(p)
}

func isTimeKey(ptr string) bool {
	for _, k := range []string{"/start_time", "/end_time", "/completed_at"} {
		if strings.HasSuffix(ptr, k) {
			return true
		}
	}
	return false
}

package jsonrun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// schemaCompile compiles jsonrun.Schema as a validator would.
func schemaCompile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(jsonrun.Schema))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	const url = "https://github.com/stage-tracker/stage-tracker/exporter/jsonrun/schema.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

// schemaValidate validates a run file's bytes against sch.
func schemaValidate(sch *jsonschema.Schema, file []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(file))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(inst)
}

func TestSchemaValidatesRunFiles(t *testing.T) {
	sch := schemaCompile(t)
	for _, c := range goldenCases {
		for _, fixed := range []bool{false, true} {
			name := c.name
			if fixed {
				name += "/fixed_clock"
			}
			t.Run(name, func(t *testing.T) {
				b := goldenRunFile(t, c, fixed)
				if err := schemaValidate(sch, b); err != nil {
					t.Errorf("run file does not schemaValidate: %v\n%s", err, b)
				}
			})
		}
	}
}

func TestSchemaValidatesGoldenFiles(t *testing.T) {
	sch := schemaCompile(t)
	paths, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < len(goldenCases) {
		t.Fatalf("found %d golden files, want at least %d (run go test -update)", len(paths), len(goldenCases))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemaValidate(sch, b); err != nil {
				t.Errorf("%s does not schemaValidate: %v", p, err)
			}
		})
	}
}

// schemaDropSpans is a span processor that passes every span to next except those
// named in drop, standing in for a pipeline that loses spans on the way.
type schemaDropSpans struct {
	sdktrace.SpanProcessor
	drop string
}

func (d schemaDropSpans) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.Name() != d.drop {
		d.SpanProcessor.OnEnd(s)
	}
}

// TestSchemaValidatesUncommonRunFiles covers the keys only some runs have:
// stack, parent_span_id, missing_stages, warnings, and the empty trace_id of
// a run whose run span never arrived.
func TestSchemaValidatesUncommonRunFiles(t *testing.T) {
	sch := schemaCompile(t)
	tests := []struct {
		name     string
		wantKeys []string // top-level keys the file must have
		file     func(t *testing.T) []byte
	}{
		{
			name: "panic in a stage",
			file: func(t *testing.T) []byte {
				return goldenRunFile(t, goldenCase{
					name: "panic",
					args: "panic",
					body: func(ctx context.Context, run *tracker.Run) error {
						func() {
							defer func() { _ = recover() }()
							_ = run.Stage(ctx, "explode", func(context.Context) (any, error) {
								panic("index out of range")
							})
						}()
						return nil
					},
				}, false)
			},
		},
		{
			name:     "run under a parent span",
			wantKeys: []string{"parent_span_id"},
			file: func(t *testing.T) []byte {
				dir := t.TempDir()
				exp, err := jsonrun.New(jsonrun.WithDir(dir))
				if err != nil {
					t.Fatal(err)
				}
				tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
				defer func() { _ = tp.Shutdown(context.Background()) }()
				ctx, req := tp.Tracer("http").Start(t.Context(), "GET /detect")
				defer req.End()
				return schemaFinalizeRun(t, tracker.New(tracker.WithTracerProvider(tp)), ctx, "")
			},
		},
		{
			name:     "stage spans lost on the way",
			wantKeys: []string{"missing_stages"},
			file: func(t *testing.T) []byte {
				exp, err := jsonrun.New(jsonrun.WithDir(t.TempDir()))
				if err != nil {
					t.Fatal(err)
				}
				tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(schemaDropSpans{sdktrace.NewSimpleSpanProcessor(exp), "lost"}))
				defer func() { _ = tp.Shutdown(context.Background()) }()
				return schemaFinalizeRun(t, tracker.New(tracker.WithTracerProvider(tp)), t.Context(), "lost")
			},
		},
		{
			name:     "run span never arrived (evicted)",
			wantKeys: []string{"warnings"},
			file: func(t *testing.T) []byte {
				dir := t.TempDir()
				exp, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithMaxPendingRuns(1))
				if err != nil {
					t.Fatal(err)
				}
				tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
				defer func() { _ = tp.Shutdown(context.Background()) }()
				tr := tracker.New(tracker.WithTracerProvider(tp))
				ctx1, first := tr.Start(t.Context(), "first")
				_, s := first.StartStage(ctx1, "a")
				s.End(1, nil)
				ctx2, second := tr.Start(t.Context(), "second")
				_, s = second.StartStage(ctx2, "b")
				s.End(2, nil) // a second pending run: the first is evicted
				if err := exp.Shutdown(t.Context()); err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(filepath.Join(dir, first.ID()+".json"))
				if err != nil {
					t.Fatalf("evicted run file: %v", err)
				}
				var r map[string]any
				if err := json.Unmarshal(b, &r); err != nil {
					t.Fatal(err)
				}
				if r["status"] != jsonrun.StatusIncomplete || r["trace_id"] != "" {
					t.Errorf("evicted run: status %v trace_id %q, want incomplete and empty", r["status"], r["trace_id"])
				}
				return b
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.file(t)
			if err := schemaValidate(sch, b); err != nil {
				t.Errorf("run file does not schemaValidate: %v\n%s", err, b)
			}
			var r map[string]any
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.wantKeys {
				if _, ok := r[k]; !ok {
					t.Errorf("run file has no %q; the case does not cover what it is meant to:\n%s", k, b)
				}
			}
		})
	}
}

// schemaFinalizeRun starts a run under ctx with stages "ok" and, when lost is
// not empty, a stage of that name; finalizes it; and returns its file.
func schemaFinalizeRun(t *testing.T, tr *tracker.Tracker, ctx context.Context, lost string) []byte {
	t.Helper()
	ctx, run := tr.Start(ctx, "detect")
	_, s := run.StartStage(ctx, "ok")
	s.End(nil, nil)
	if lost != "" {
		_, s = run.StartStage(ctx, lost)
		s.End(nil, nil)
	}
	if err := run.Finalize(ctx); err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	b, err := os.ReadFile(run.File())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSchemaRejects checks that the schema is a contract, not a formality:
// each mutation of a valid run file breaks a rule and must fail validation.
func TestSchemaRejects(t *testing.T) {
	sch := schemaCompile(t)
	valid, err := os.ReadFile(goldenPath("quickstart"))
	if err != nil {
		t.Fatal(err)
	}
	stage := func(r map[string]any) map[string]any {
		return r["stages"].(map[string]any)["Detection"].(map[string]any)
	}
	tests := []struct {
		name   string
		mutate func(r map[string]any)
		want   string // in the validation error: what is wrong, where
	}{
		{"missing run_id", func(r map[string]any) { delete(r, "run_id") }, `missing property 'run_id'`},
		{"run_id not a UUID", func(r map[string]any) { r["run_id"] = "run-42" }, `at '/run_id'`},
		{"missing stages", func(r map[string]any) { delete(r, "stages") }, `missing property 'stages'`},
		{"missing status", func(r map[string]any) { delete(r, "status") }, `missing property 'status'`},
		{"timestamp without microseconds", func(r map[string]any) { r["start_time"] = "2025-05-05T23:14:10+00:00" }, `at '/start_time'`},
		{"timestamp with Z", func(r map[string]any) { r["start_time"] = "2025-05-05T23:14:10.235518Z" }, `at '/start_time'`},
		{"timestamp with a space", func(r map[string]any) { r["completed_at"] = "2025-05-05 23:14:10.235518+00:00" }, `at '/completed_at'`},
		{"timestamp not UTC", func(r map[string]any) { r["completed_at"] = "2025-05-05T23:14:10.235518+02:00" }, `at '/completed_at'`},
		{"timestamp as a number", func(r map[string]any) { r["start_time"] = 1746486850.235518 }, `at '/start_time'`},
		{"bad run status", func(r map[string]any) { r["status"] = "done" }, `at '/status'`},
		{"bad stage status", func(r map[string]any) { stage(r)["status"] = "skipped" }, `at '/stages/Detection/status'`},
		{"stage timestamp bad", func(r map[string]any) { stage(r)["start_time"] = "yesterday" }, `at '/stages/Detection/start_time'`},
		{"stage without duration_sec", func(r map[string]any) { delete(stage(r), "duration_sec") }, `at '/stages/Detection': missing property 'duration_sec'`},
		{"duration as a string", func(r map[string]any) { stage(r)["duration_sec"] = "3.42" }, `at '/stages/Detection/duration_sec'`},
		{"negative duration", func(r map[string]any) { r["total_duration_sec"] = -1 }, `at '/total_duration_sec'`},
		{"stage error not a string", func(r map[string]any) { stage(r)["error"] = map[string]any{"msg": "x"} }, `at '/stages/Detection/error'`},
		{"attempt zero", func(r map[string]any) { stage(r)["attempt"] = 0 }, `at '/stages/Detection/attempt'`},
		{"stage is not an object", func(r map[string]any) { r["stages"].(map[string]any)["Detection"] = 3.42 }, `at '/stages/Detection'`},
		{"nested stage missing data", func(r map[string]any) {
			stage(r)["stages"] = map[string]any{"inner": map[string]any{
				"start_time": "2025-05-05T23:14:10.235518+00:00", "duration_sec": 0, "error": nil,
				"name": "inner", "attempt": 1, "end_time": "2025-05-05T23:14:10.235518+00:00",
				"status": "ok", "span_id": "5a00000000000009",
			}}
		}, `at '/stages/Detection/stages/inner': missing property 'data'`},
		{"schema_version 3", func(r map[string]any) { r["schema_version"] = 3 }, `at '/schema_version'`},
		{"schema_version 0", func(r map[string]any) { r["schema_version"] = 0 }, `at '/schema_version'`},
		{"trace_id uppercase", func(r map[string]any) { r["trace_id"] = strings.ToUpper(r["trace_id"].(string)) }, `at '/trace_id'`},
		{"empty warnings", func(r map[string]any) { r["warnings"] = []any{} }, `at '/warnings'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r map[string]any
			if err := json.Unmarshal(valid, &r); err != nil {
				t.Fatal(err)
			}
			tt.mutate(r)
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			err = schemaValidate(sch, b)
			if err == nil {
				t.Fatalf("mutated run file validates; want an error:\n%s", b)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("validation fails for another reason than the mutation: got %v, want it to mention %s", err, tt.want)
			}
		})
	}
}

// TestSchemaAllowsAdditions checks the versioning rule: keys a reader does
// not know are allowed, at the top and in stages, so additions keep
// schema_version 1.
func TestSchemaAllowsAdditions(t *testing.T) {
	sch := schemaCompile(t)
	valid, err := os.ReadFile(goldenPath("quickstart"))
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(valid, &r); err != nil {
		t.Fatal(err)
	}
	r["host"] = "worker-3"
	r["stages"].(map[string]any)["Detection"].(map[string]any)["gpu_seconds"] = 1.5
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := schemaValidate(sch, b); err != nil {
		t.Errorf("run file with unknown keys does not schemaValidate: %v", err)
	}
}

// schemaDoc is the part of the schema TestSchemaMatchesPackage reads.
type schemaDoc struct {
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
	Defs       struct {
		Stage struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"stage"`
	} `json:"$defs"`
}

// TestSchemaMatchesPackage keeps the schema and the code from drifting
// apart: the enums are the package's constants, schema_version is
// SchemaVersion, and every key the encoder writes is described by the schema
// (an undescribed key would pass unnoticed, as unknown keys are allowed).
func TestSchemaMatchesPackage(t *testing.T) {
	var doc schemaDoc
	if err := json.Unmarshal(jsonrun.Schema, &doc); err != nil {
		t.Fatal(err)
	}
	var prop struct {
		Enum []string `json:"enum"`
	}
	if err := json.Unmarshal(doc.Properties["status"], &prop); err != nil {
		t.Fatal(err)
	}
	wantRun := []string{jsonrun.StatusOK, jsonrun.StatusFailed, jsonrun.StatusIncomplete, jsonrun.StatusInterrupted, jsonrun.StatusCrashed}
	if !slices.Equal(prop.Enum, wantRun) {
		t.Errorf("run status enum = %q, want %q", prop.Enum, wantRun)
	}
	if err := json.Unmarshal(doc.Defs.Stage.Properties["status"], &prop); err != nil {
		t.Fatal(err)
	}
	wantStage := []string{jsonrun.StageOK, jsonrun.StageError, jsonrun.StageUnfinished, jsonrun.StageRunning}
	if !slices.Equal(prop.Enum, wantStage) {
		t.Errorf("stage status enum = %q, want %q", prop.Enum, wantStage)
	}
	// Every version a reader reads, the one written now the last.
	var versions struct {
		Enum []int `json:"enum"`
	}
	if err := json.Unmarshal(doc.Properties["schema_version"], &versions); err != nil {
		t.Fatal(err)
	}
	if want := []int{1, jsonrun.SchemaVersion}; !slices.Equal(versions.Enum, want) {
		t.Errorf("schema_version enum = %v, want %v", versions.Enum, want)
	}

	// Every key the encoder can write is in the schema, and the keys it
	// always writes are the schema's required keys, in the same order.
	full := &jsonrun.Run{
		Stack: "s", ParentSpanID: "5a00000000000001", MissingStages: 1, Warnings: []string{"w"},
		Stages: jsonrun.Stages{{
			Key: "a", DataError: "d", Stack: "s",
			Stages: jsonrun.Stages{{Key: "b"}},
		}},
	}
	minimal := &jsonrun.Run{Stages: jsonrun.Stages{{Key: "a"}}}
	tests := []struct {
		name                string
		run                 *jsonrun.Run
		path                []string
		described, required []string
		always              bool
	}{
		{"run keys, all optional ones written", full, nil, schemaKeysOf(doc.Properties), doc.Required, false},
		{"stage keys, all optional ones written", full, []string{"stages", "a"}, schemaKeysOf(doc.Defs.Stage.Properties), doc.Defs.Stage.Required, false},
		{"run keys, none optional written", minimal, nil, schemaKeysOf(doc.Properties), doc.Required, true},
		{"stage keys, none optional written", minimal, []string{"stages", "a"}, schemaKeysOf(doc.Defs.Stage.Properties), doc.Defs.Stage.Required, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.run.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			written := schemaObjectKeys(t, b, tt.path)
			for _, k := range written {
				if !slices.Contains(tt.described, k) {
					t.Errorf("the encoder writes %q, which the schema does not describe", k)
				}
			}
			inRequired := slices.DeleteFunc(slices.Clone(written), func(k string) bool { return !slices.Contains(tt.required, k) })
			if !slices.Equal(inRequired, tt.required) {
				t.Errorf("required keys %q, but the encoder writes them as %q", tt.required, inRequired)
			}
			if tt.always && !slices.Equal(written, tt.required) {
				t.Errorf("with no optional field set the encoder writes %q, want exactly the required keys %q", written, tt.required)
			}
		})
	}
}

func schemaKeysOf(m map[string]json.RawMessage) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// schemaObjectKeys returns, in file order, the keys of the object found in b by
// following path through nested objects.
func schemaObjectKeys(t *testing.T, b []byte, path []string) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	for _, p := range path {
		for {
			tok, err := dec.Token()
			if err != nil {
				t.Fatalf("path %q: %v", path, err)
			}
			if tok == p {
				break
			}
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("path %q: want an object, got %v, %v", path, tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

package runschema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/jsonpos"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runschema"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestSameAsLibrary checks runschema against the JSON Schema library it
// replaces in the program (a test dependency only): for every run file of
// the repository's test data and thousands of mutations of them (each
// value replaced by values of every type, each key removed), both must
// report the same problems, worded the same, at the same places.
func TestSameAsLibrary(t *testing.T) {
	ours, err := runschema.Compile(runfile.Schema())
	if err != nil {
		t.Fatal(err)
	}
	lib := compileLibrary(t)
	docs := corpus(t)
	if len(docs) < 5 {
		t.Fatalf("only %d documents found", len(docs))
	}
	n := 0
	for name, doc := range docs {
		for i, m := range mutations(doc) {
			if !sampled(i) {
				continue
			}
			n++
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			want := libraryProblems(t, lib, b)
			got := ourProblems(t, ours, b)
			if !slices.Equal(got, want) {
				t.Fatalf("%s, mutation %d:\n%s\nours:    %q\nlibrary: %q", name, i, b, got, want)
			}
		}
	}
	t.Logf("%d documents, %d variants, same problems", len(docs), n)
}

func TestCompileRefusesUnknownKeywords(t *testing.T) {
	for _, c := range []struct{ name, schema string }{
		{"keyword", `{"type":"object","maxProperties":3}`},
		{"remote ref", `{"$ref":"https://example.com/s.json"}`},
		{"missing def", `{"$ref":"#/$defs/nope"}`},
		{"type name", `{"type":"float"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := runschema.Compile([]byte(c.schema)); err == nil {
				t.Fatal("compiled")
			}
		})
	}
}

func compileLibrary(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(runfile.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://github.com/stage-tracker/stage-tracker/exporter/jsonrun/schema.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

var printer = message.NewPrinter(language.English)

func libraryProblems(t *testing.T, sch *jsonschema.Schema, b []byte) []string {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		t.Fatal(err)
	}
	var out []string
	var leaves func(e *jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, jsonpos.Pointer(e.InstanceLocation)+": "+e.ErrorKind.LocalizedString(printer))
		}
		for _, c := range e.Causes {
			leaves(c)
		}
	}
	leaves(ve)
	slices.Sort(out)
	return slices.Compact(out)
}

func ourProblems(t *testing.T, sch *runschema.Schema, b []byte) []string {
	t.Helper()
	ps, err := sch.Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, jsonpos.Pointer(p.Location)+": "+p.Kind.LocalizedString(printer))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// corpus is every JSON object file under the repository's test data.
func corpus(t *testing.T) map[string]any {
	t.Helper()
	docs := map[string]any{}
	for _, root := range []string{"../../../../exporter/jsonrun/testdata", "../cli/testdata"} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			d2 := json.NewDecoder(bytes.NewReader(b))
			d2.UseNumber()
			var v any
			if d2.Decode(&v) == nil {
				if _, ok := v.(map[string]any); ok {
					docs[path] = v
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return docs
}

// replacements are what mutations put in place of each value.
var replacements = []any{nil, true, "x", "2025-05-05T23:14:10.235518+00:00", json.Number("-1"), json.Number("0"),
	json.Number("1.5"), json.Number("2"), []any{}, []any{"w"}, []any{json.Number("1")}, map[string]any{}, "ok", "0123456789abcdef"}

// mutations returns doc and the variants with one value replaced or one
// key removed, at every place of doc.
func mutations(doc any) []any {
	out := []any{doc}
	root := doc
	var walk func(v any, set func(any))
	walk = func(v any, set func(any)) {
		if len(out) >= maxVariants {
			return
		}
		for _, r := range replacements {
			set(r)
			out = append(out, clone(root))
		}
		set(v)
		switch v := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(v) {
				kv := v[k]
				delete(v, k)
				out = append(out, clone(root))
				v[k] = kv
				walk(kv, func(x any) { v[k] = x })
			}
		case []any:
			for i := range v {
				walk(v[i], func(x any) { v[i] = x })
			}
		}
	}
	m := doc.(map[string]any)
	for _, k := range sortedKeys(m) {
		kv := m[k]
		delete(m, k)
		out = append(out, clone(root))
		m[k] = kv
		walk(kv, func(x any) { m[k] = x })
	}
	return out
}

// sampled reports whether the tests check variant i of a document: every
// second one by default (2 is prime to the 15 variants of a value, so each
// replacement is still put at about half the places), every one under
// STAGE_TRACKER_STRESS=1. TestSameAsLibrary took 6.7 s under -race with
// all of them, most of it in the library.
func sampled(i int) bool {
	return i%2 == 0 || os.Getenv("STAGE_TRACKER_STRESS") == "1"
}

// maxVariants bounds the variants of one document, so that the test stays
// quick under -race: the first ones cover the run's keys and its first
// stages, where every keyword of the schema applies.
const maxVariants = 150

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func clone(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	_ = d.Decode(&out)
	return out
}

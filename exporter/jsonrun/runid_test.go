package jsonrun_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// spellings of id1 that name the same run.
var spellings = map[string]string{
	"upper":     strings.ToUpper(id1),
	"urn":       "urn:uuid:" + id1,
	"braces":    "{" + id1 + "}",
	"no dashes": strings.ReplaceAll(id1, "-", ""),
	"canonical": id1,
}

// respell gives the i-th span of spans the run id spelt as ids[i%len(ids)].
func respell(spans tracetest.SpanStubs, ids ...string) tracetest.SpanStubs {
	out := slices.Clone(spans)
	for i := range out {
		out[i].Attributes = slices.Clone(out[i].Attributes)
		for j, kv := range out[i].Attributes {
			if kv.Key == keys.RunID {
				out[i].Attributes[j] = attribute.String(keys.RunID, ids[i%len(ids)])
			}
		}
	}
	return out
}

// TestRunIDSpellingsOneFile: one run whose spans spell its id in several
// ways (an upper-case sender, a urn:uuid: one, braces, no dashes) makes one
// run file, under the lower-case dashed id, with every stage, which the
// schema (and so stagetrack validate) accepts.
func TestRunIDSpellingsOneFile(t *testing.T) {
	sch := schemaCompile(t)
	for _, tc := range []struct {
		name  string
		spell []string // per span, in turn; the root is the last span
	}{
		{"upper-case root, lower-case stages", []string{id1, id1, id1, id1, spellings["upper"]}},
		{"lower-case root, upper-case stages", []string{spellings["upper"], spellings["upper"], id1}},
		{"every spelling", []string{spellings["urn"], spellings["braces"], spellings["no dashes"], spellings["upper"], spellings["urn"]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, dir := newExporter(t)
			export(t, exp, respell(runStubs(id1, 1, 4), tc.spell...)...)
			if got := files(t, dir); !slices.Equal(got, []string{id1 + ".json"}) {
				t.Fatalf("files %v, want one run file %s.json", got, id1)
			}
			path := filepath.Join(dir, id1+".json")
			r := readRun(t, path)
			if r.RunID != id1 || r.StageCount != 4 || r.MissingStages != 0 || len(r.Stages) != 4 {
				t.Errorf("run %s: %d of %d stages, missing %d; want %s with 4 of 4", r.RunID, len(r.Stages), r.StageCount, r.MissingStages, id1)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemaValidate(sch, b); err != nil {
				t.Errorf("the schema refuses the run file: %v", err)
			}
			if s := exp.Stats(); s.BadRunIDs != 0 {
				t.Errorf("BadRunIDs = %d, want 0", s.BadRunIDs)
			}
		})
	}
}

// TestBadRunIDRefused: a run id that is not a UUID in any spelling names
// no run: its spans are refused and counted, no file is written, and the
// export does not fail (a sender must not retry it).
func TestBadRunIDRefused(t *testing.T) {
	for _, tc := range []struct{ name, id string }{
		{"word", "nightly"},
		{"path", "../../outside"},
		{"uuid with a tail", id1 + "x"},
		{"empty braces", "{}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, dir := newExporter(t)
			spans := respell(runStubs(id1, 1, 2), tc.id)
			if err := exp.ExportSpans(t.Context(), spans.Snapshots()); err != nil {
				t.Fatalf("ExportSpans: %v; want nil (refused, not failed)", err)
			}
			if got := files(t, dir); len(got) != 0 {
				t.Errorf("files %v, want none", got)
			}
			if s := exp.Stats(); s.BadRunIDs != 3 {
				t.Errorf("BadRunIDs = %d, want 3 (every span)", s.BadRunIDs)
			}
		})
	}
}

// TestMergeRunIDSpellings: parts of one run written under two spellings
// (an older writer kept the upper case) merge, under the canonical id.
func TestMergeRunIDSpellings(t *testing.T) {
	exp, dir := newExporter(t)
	export(t, exp, runStubs(id1, 1, 2)...)
	a := readRun(t, filepath.Join(dir, id1+".json"))
	b := *a
	b.RunID = strings.ToUpper(id1)
	m, err := jsonrun.Merge(&b, a)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if m.RunID != id1 {
		t.Errorf("merged run id %s, want %s", m.RunID, id1)
	}
}

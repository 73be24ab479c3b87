package jsonrunexporter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/stage-tracker/stage-tracker/collector/jsonrunexporter/internal/metadatatest"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestRunIDSpellingsOneFile: hosts that spell one run's id differently
// (upper case, urn:uuid:, braces, no dashes) send the stages of one run:
// the Collector writes one run file, under the lower-case dashed id (the
// form the run file's schema asks for). On main each spelling was a run of
// its own, and the non-dashed ones made files validate refuses.
func TestRunIDSpellingsOneFile(t *testing.T) {
	for _, tc := range []struct {
		name       string
		stage, run string // the stages' spelling, the root's
	}{
		{"upper-case root", runID, strings.ToUpper(runID)},
		{"upper-case stages", strings.ToUpper(runID), runID},
		{"urn stages, braced root", "urn:uuid:" + runID, "{" + runID + "}"},
		{"no dashes", strings.ReplaceAll(runID, "-", ""), strings.ToUpper(strings.ReplaceAll(runID, "-", ""))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			exp := newExporter(t, testConfig(dir))
			ctx := context.Background()
			for _, td := range []ptrace.Traces{
				traces(tc.stage, 1, spanSpec{id: 2, parent: 1, stage: "extract"}),
				traces(tc.stage, 1, spanSpec{id: 3, parent: 1, stage: "load"}),
				traces(tc.run, 1, spanSpec{id: 1, count: 2}),
			} {
				if err := exp.ConsumeTraces(ctx, td); err != nil {
					t.Fatal(err)
				}
			}
			if err := exp.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				if e.Name() == ".openruns" { // the store of open runs
					continue
				}
				names = append(names, e.Name())
			}
			if !slices.Equal(names, []string{runID + ".json"}) {
				t.Fatalf("files %v, want %s.json alone", names, runID)
			}
			run, err := runfile.ReadFile(filepath.Join(dir, runID+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if run.RunID != runID || len(run.Stages) != 2 || run.MissingStages != 0 {
				t.Errorf("run %s with %d stages, missing %d; want %s with 2, none missing", run.RunID, len(run.Stages), run.MissingStages, runID)
			}
		})
	}
}

// TestBadRunIDsCountedInMetric: spans whose run id is not a UUID in any
// spelling are refused, and counted in otelcol_exporter_jsonrun_bad_run_ids
// (mdatagen's telemetry); a UUID in another spelling is not counted.
func TestBadRunIDsCountedInMetric(t *testing.T) {
	for _, tc := range []struct {
		name string
		ids  []string
		want int64
	}{
		{"names and numbers", []string{"nightly-build", "42", "<script>"}, 3},
		{"other spellings of a UUID", []string{strings.ToUpper(runID), "urn:uuid:" + runID}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			tel := componenttest.NewTelemetry()
			set := exportertest.NewNopSettings(Type)
			set.TelemetrySettings = tel.NewTelemetrySettings()
			exp, err := NewFactory().CreateTraces(ctx, set, testConfig(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			if err := exp.Start(ctx, componenttest.NewNopHost()); err != nil {
				t.Fatal(err)
			}
			for _, id := range tc.ids {
				if err := exp.ConsumeTraces(ctx, traces(id, 1, spanSpec{id: 2, parent: 1, stage: "extract"})); err != nil {
					t.Fatal(err)
				}
			}
			metadatatest.AssertEqualExporterJsonrunBadRunIds(t, tel,
				[]metricdata.DataPoint[int64]{{Value: tc.want}}, metricdatatest.IgnoreTimestamp())
			if err := errors.Join(exp.Shutdown(ctx), tel.Shutdown(ctx)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

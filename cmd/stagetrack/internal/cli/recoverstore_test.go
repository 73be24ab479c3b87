//go:build unix

package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestRecoverStoreOfStoppedCollector: stagetrack recover turns the store of
// open runs that a Collector's exporter left (stopped, its rootless run
// kept for its next start) into a run file, given the run directory or
// the store's own directory; while the exporter holds the store, recover
// refuses in one line and writes nothing.
func TestRecoverStoreOfStoppedCollector(t *testing.T) {
	const runID = "6f1e0a52-8c0e-4f7e-9d55-1f0b7a3c2d11"
	for _, tc := range []struct{ name, arg string }{
		{"the run directory", ""},
		{"the store's directory", ".openruns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			exp, err := jsonrun.New(jsonrun.WithDir(dir), jsonrun.WithRunFilesInDirOnly(), jsonrun.WithJournalAllRuns(), jsonrun.WithRunStore())
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC)
			stage := tracetest.SpanStub{
				Name: "build",
				SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
					TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled,
				}),
				StartTime:  t0,
				EndTime:    t0.Add(time.Second),
				Attributes: []attribute.KeyValue{attribute.String(keys.RunID, runID), attribute.String(keys.StageName, "build")},
			}
			if err := exp.ExportSpans(t.Context(), tracetest.SpanStubs{stage}.Snapshots()); err != nil {
				t.Fatal(err)
			}
			arg := filepath.Join(dir, tc.arg)

			held := stagetrack(t, "recover", arg)
			if held.code == 0 || strings.Count(held.stderr, "\n") != 1 || !strings.Contains(held.stderr, "stop it first") {
				t.Errorf("held store: exit %d, stderr %q; want one line saying to stop it first", held.code, held.stderr)
			}
			if err := exp.Detach(t.Context()); err != nil {
				t.Fatal(err)
			}

			r := stagetrack(t, "recover", arg)
			wantCode(t, r, 0)
			path := filepath.Join(dir, runID+".json")
			if r.stdout != path+"\n" {
				t.Errorf("stdout %q; want %q", r.stdout, path+"\n")
			}
			run, err := runfile.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != runfile.StatusIncomplete || len(run.Stages) != 1 || run.Stages[0].Name != "build" || len(run.Warnings) == 0 {
				t.Errorf("run file: status %s, %d stages, warnings %q; want incomplete with build and why", run.Status, len(run.Stages), run.Warnings)
			}
			again := stagetrack(t, "recover", arg)
			if again.code != 0 || again.stdout != "" {
				t.Errorf("second recover: exit %d, stdout %q; want nothing written", again.code, again.stdout)
			}
		})
	}
}

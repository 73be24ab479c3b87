package jsonrunexporter

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestSameSpanTwiceIsOneStage: a span delivered again (an SDK's retry,
// at-least-once delivery through a Collector pipeline) is the same stage,
// whenever the second copy arrives: it adds no attempt and no key, and a
// copy after the run file is written leaves the file as it is.
func TestSameSpanTwiceIsOneStage(t *testing.T) {
	// Fails until exporter/jsonrun merges stage records by span id (issue
	// 19); the branch that brings the merge deletes this line.
	extract := spanSpec{id: 2, parent: 1, stage: "extract"}
	download := spanSpec{id: 3, parent: 2, stage: "download"}
	root := spanSpec{id: 1, count: 2}
	for _, tc := range []struct {
		name     string
		requests []ptrace.Traces
		after    []ptrace.Traces // sent once the run file is written
	}{
		{"twice in one request", []ptrace.Traces{
			traces(runID, 1, extract, extract, download), traces(runID, 1, root),
		}, nil},
		{"in two requests before the root", []ptrace.Traces{
			traces(runID, 1, extract, download), traces(runID, 1, extract), traces(runID, 1, root),
		}, nil},
		{"a parent again after its child", []ptrace.Traces{
			traces(runID, 1, extract), traces(runID, 1, download), traces(runID, 1, extract), traces(runID, 1, root),
		}, nil},
		{"again after the run file", []ptrace.Traces{
			traces(runID, 1, extract, download), traces(runID, 1, root),
		}, []ptrace.Traces{traces(runID, 1, extract), traces(runID, 1, download)}},
		{"the whole run again", []ptrace.Traces{
			traces(runID, 1, extract, download, root),
		}, []ptrace.Traces{traces(runID, 1, extract, download, root)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			exp := newExporter(t, testConfig(dir))
			ctx := context.Background()
			consume := func(tds []ptrace.Traces) {
				t.Helper()
				for _, td := range tds {
					if err := exp.ConsumeTraces(ctx, td); err != nil {
						t.Fatal(err)
					}
				}
			}
			consume(tc.requests)
			path := filepath.Join(dir, runID+".json")
			written, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			consume(tc.after)
			if err := exp.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			final, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(final, written) {
				t.Errorf("a copy after the run file changed it:\n--- before\n%s\n--- after\n%s", written, final)
			}
			run, err := runfile.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			e, ok := run.Stages.Get("extract")
			if len(run.Stages) != 1 || !ok || e.Attempt > 1 || e.SpanID != "0000000000000002" {
				t.Fatalf("top-level stages %+v; want extract alone, once, attempt 1", run.Stages)
			}
			if d, ok := e.Stages.Get("download"); len(e.Stages) != 1 || !ok || d.Attempt > 1 {
				t.Errorf("extract's stages %+v; want download alone, once", e.Stages)
			}
			if run.Status != runfile.StatusOK || run.Error != "" {
				t.Errorf("run %s, error %q; want ok", run.Status, run.Error)
			}
		})
	}
}

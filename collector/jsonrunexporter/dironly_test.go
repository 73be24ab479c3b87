package jsonrunexporter

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A run span that names an output file (tracker.WithOutputFile in the
// sending process) does not choose where the Collector writes: the file is
// <directory>/<run_id>.json, and nothing appears at the named path.
func TestSpanCannotChooseWhereTheRunFileGoes(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "escape.json")
	exp := newExporter(t, testConfig(dir))
	ctx := context.Background()
	td := traces(runID, 1, spanSpec{id: 2, parent: 1, stage: "extract"}, spanSpec{id: 1, count: 1})
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	spans.At(1).Attributes().PutStr("stage_tracker.run.output_file", outside)
	if err := exp.ConsumeTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(outside); err == nil {
		t.Errorf("the span's output file %s was written", outside)
	}
	if _, err := os.Stat(filepath.Join(dir, runID+".json")); err != nil {
		t.Errorf("no run file in the directory: %v", err)
	}
}

package jsonrun_test

import (
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
)

// A run span's output_file says where its file goes, unless the exporter
// takes spans from elsewhere (WithRunFilesInDirOnly, as the Collector's
// does): then no span chooses a path on this machine.
func TestRunFilesInDirOnlyIgnoresOutputFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dirOnly bool
	}{{"output file honoured", false}, {"dir only", true}} {
		t.Run(tc.name, func(t *testing.T) {
			outside := filepath.Join(t.TempDir(), "chosen-by-the-span.json")
			var opts []jsonrun.Option
			if tc.dirOnly {
				opts = append(opts, jsonrun.WithRunFilesInDirOnly())
			}
			exp, dir := newExporter(t, opts...)
			spans := runStubs(id1, 1, 2)
			root := &spans[len(spans)-1]
			root.Attributes = append(root.Attributes, attribute.String(keys.RunOutputFile, outside))
			export(t, exp, spans...)

			_, errOutside := os.Stat(outside)
			_, errInDir := os.Stat(filepath.Join(dir, id1+".json"))
			if tc.dirOnly {
				if errOutside == nil || errInDir != nil {
					t.Fatalf("file at the span's path: %v, in the directory: %v; want only in the directory", errOutside == nil, errInDir == nil)
				}
				if r := readRun(t, filepath.Join(dir, id1+".json")); len(r.Stages) != 2 {
					t.Errorf("%d stages, want 2", len(r.Stages))
				}
			} else if errOutside != nil || errInDir == nil {
				t.Fatalf("file at the span's path: %v, in the directory: %v; want only at the span's path", errOutside == nil, errInDir == nil)
			}
		})
	}
}

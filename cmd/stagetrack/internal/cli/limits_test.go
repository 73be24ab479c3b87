package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/replay"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// deepValue is a JSON value nested depth levels: {"a":{"a":...1}}.
func deepValue(depth int) json.RawMessage {
	return json.RawMessage(strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth))
}

// writeNestedRun records a run whose stages nest levels deep, the innermost
// with data nested dataDepth deep, through the standard OTel composition,
// and returns its run file.
func writeNestedRun(t *testing.T, levels, dataDepth int) string {
	t.Helper()
	dir := t.TempDir()
	exp, err := jsonrun.New(jsonrun.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tracker.New(tracker.WithTracerProvider(tp))
	ctx, run := tr.Start(t.Context(), "deep")
	var stages []*tracker.Stage
	sctx := ctx
	for i := range levels {
		var st *tracker.Stage
		sctx, st = run.StartStage(sctx, fmt.Sprintf("s%d", i))
		stages = append(stages, st)
	}
	for i := len(stages) - 1; i >= 0; i-- {
		var data any
		if i == len(stages)-1 {
			data = deepValue(dataDepth)
		}
		stages[i].End(data, nil)
	}
	if err := run.Finalize(ctx); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, run.ID()+".json")
}

func depthOf(s runfile.Stages) int {
	d := 0
	for len(s) > 0 {
		d++
		s = s[len(s)-1].Stages
	}
	return d
}

// TestReaderAcceptsWhatFinalizeWrites: whatever Finalize writes, ReadFile
// and every viewer read back (main: 300 nested stages with data 600 deep
// were written, then refused past 512 levels). Past the format's limits
// the writer flattens or drops, with a mark, so the file stays readable.
//
// The 1,050 nested stages past the depth limit cost the viewers seconds
// (their key paths grow with the depth): by default ReadFile and validate
// read that file, and the other viewers only under STAGE_TRACKER_STRESS=1;
// the 300 nested stages go through every viewer always.
func TestReaderAcceptsWhatFinalizeWrites(t *testing.T) {
	cases := []struct {
		name               string
		levels, dataDepth  int
		wantDepth          int
		wantDataDropped    bool
		wantFlattenWarning bool
		viewersOnlyStress  bool
	}{
		{"300 nested stages, data 600 deep", 300, 600, 300, false, false, false},
		{"stages past the depth limit are attached at it", runfile.MaxStageDepth + 50, 3, runfile.MaxStageDepth, false, true, true},
		{"data past the depth limit is dropped and marked", 2, runfile.MaxDataDepth + 1, 2, true, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeNestedRun(t, tc.levels, tc.dataDepth)
			r, err := runfile.ReadFile(path)
			if err != nil {
				t.Fatalf("ReadFile of what Finalize wrote: %v", err)
			}
			if got := depthOf(r.Stages); got != tc.wantDepth {
				t.Errorf("stages nest %d deep; want %d", got, tc.wantDepth)
			}
			if r.StageCount != tc.levels {
				t.Errorf("stage_count %d; want %d", r.StageCount, tc.levels)
			}
			if got := strings.Contains(strings.Join(r.Warnings, "\n"), "attached at level"); got != tc.wantFlattenWarning {
				t.Errorf("warnings %q; flatten warning %v, want %v", r.Warnings, got, tc.wantFlattenWarning)
			}
			var innermost *runfile.Stage
			for s := r.Stages; len(s) > 0; s = s[len(s)-1].Stages {
				innermost = &s[len(s)-1]
			}
			if tc.wantDataDropped != (innermost.DataError != "") {
				t.Errorf("innermost data_error %q; want dropped %v", innermost.DataError, tc.wantDataDropped)
			}
			viewers := [][]string{
				{"validate", path},
				{"show", path},
				{"stats", path},
				{"diff", path, path},
				// To stdout: writing the file (synced) is another test's.
				{"report", "-o", "-", path},
			}
			if tc.viewersOnlyStress && os.Getenv("STAGE_TRACKER_STRESS") != "1" {
				viewers = viewers[:1]
			}
			for _, args := range viewers {
				if res := stagetrack(t, args...); res.code != 0 {
					t.Errorf("%s: exit %d: %s", args[0], res.code, res.stderr)
				}
			}
			if _, err := replay.Spans(r, nil); err != nil {
				t.Errorf("send's replay: %v", err)
			}
		})
	}
}

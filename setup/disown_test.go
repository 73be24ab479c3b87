package setup_test

import (
	"context"
	"os"
	"testing"

	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// A process that joins a run by STAGE_TRACKER_RUN_ID and TRACEPARENT alone
// (another host, a Collector downstream), with its spans going on by OTLP,
// writes no run file under the owner's run id: the owner writes it from
// the spans. Without OTLP the stages have nowhere else to go, and the
// partial file stays what they leave.
func TestRemoteJoinWritesNoRunFileWhenSpansGoOn(t *testing.T) {
	const runID = "0b6f7c1e-8a39-4d1c-9a4e-2f5d7e9c3b10"
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, tc := range []struct {
		name     string
		otlp     bool
		wantFile bool
	}{
		{name: "otlp", otlp: true, wantFile: false},
		{name: "no exporter but the run file", otlp: false, wantFile: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"OTEL_TRACES_EXPORTER": "none"}
			var c *collector
			if tc.otlp {
				var endpoint string
				c, endpoint = newHTTPCollector(t)
				env = map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
			}
			setEnv(t, env)
			t.Setenv(tracker.EnvRunID, runID)
			t.Setenv(tracker.EnvJournal, "")
			t.Setenv(tracker.EnvTraceParent, parent)
			dir := t.TempDir()
			tr, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(dir))
			if err != nil {
				t.Fatal(err)
			}
			ctx, run := tr.StartOrJoin(context.Background(), nil)
			if run.ID() != runID {
				t.Fatalf("joined run %s, want %s", run.ID(), runID)
			}
			_, st := run.StartStage(ctx, "remote step")
			st.End(nil, nil)
			if err := shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if gotFile := len(names) > 0; gotFile != tc.wantFile {
				t.Errorf("files in the run dir %v; want a run file: %v", names, tc.wantFile)
			}
			if tc.otlp {
				if _, _, spans, _ := c.snapshot(); len(spans) != 1 || spans[0].GetName() != "remote step" {
					t.Errorf("OTLP got %d spans, want the stage", len(spans))
				}
			}
		})
	}
}

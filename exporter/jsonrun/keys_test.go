package jsonrun_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// TestRetriedStageKeyedByLastAttempt: as the Python stage-tracker's
// stages[name] held the last record of a name, the plain name keys the
// attempt that decides the stage, and earlier attempts are name#1, name#2,
// ... (issue 19, point 4). A flat run is streamed, a nested one assembled as
// a tree: both key alike.
func TestRetriedStageKeyedByLastAttempt(t *testing.T) {
	fail := errors.New("exit status 1")
	// attempts runs stage name once per entry of errs, ending each with it.
	attempts := func(ctx context.Context, run *tracker.Run, name string, errs ...error) {
		for i, err := range errs {
			_, s := run.StartStage(ctx, name)
			s.End(map[string]any{"try": i + 1}, err)
		}
	}
	type want struct {
		path    []string // keys from the top
		status  string
		err     any // the error as Python's json reads it: nil or a string
		attempt float64
	}
	cases := []struct {
		name      string
		body      func(ctx context.Context, run *tracker.Run)
		keys      []string // top-level keys, in file order
		stages    []want
		runStatus string
		runError  string
	}{
		{
			name: "failed then passed",
			body: func(ctx context.Context, run *tracker.Run) { attempts(ctx, run, "flaky", fail, nil) },
			keys: []string{"flaky#1", "flaky"},
			stages: []want{
				{[]string{"flaky"}, "ok", nil, 2},
				{[]string{"flaky#1"}, "error", "exit status 1", 1},
			},
			runStatus: "ok",
		},
		{
			name: "failed twice then passed, among other stages",
			body: func(ctx context.Context, run *tracker.Run) {
				attempts(ctx, run, "build", nil)
				attempts(ctx, run, "flaky", fail, fail, nil)
				attempts(ctx, run, "report", nil)
			},
			keys: []string{"build", "flaky#1", "flaky#2", "flaky", "report"},
			stages: []want{
				{[]string{"flaky"}, "ok", nil, 3},
				{[]string{"flaky#2"}, "error", "exit status 1", 2},
				{[]string{"build"}, "ok", nil, 1},
			},
			runStatus: "ok",
		},
		{
			name: "passed then failed",
			body: func(ctx context.Context, run *tracker.Run) { attempts(ctx, run, "deploy", nil, fail) },
			keys: []string{"deploy#1", "deploy"},
			stages: []want{
				{[]string{"deploy"}, "error", "exit status 1", 2},
				{[]string{"deploy#1"}, "ok", nil, 1},
			},
			runStatus: "failed",
			runError:  `stage "deploy" failed: exit status 1`,
		},
		{
			name: "nested retry",
			body: func(ctx context.Context, run *tracker.Run) {
				ctx, outer := run.StartStage(ctx, "release")
				attempts(ctx, run, "flaky", fail, nil)
				outer.End(nil, nil)
			},
			keys: []string{"release"},
			stages: []want{
				{[]string{"release", "flaky"}, "ok", nil, 2},
				{[]string{"release", "flaky#1"}, "error", "exit status 1", 1},
			},
			runStatus: "ok",
		},
		{
			name: "a stage literally named flaky#1",
			body: func(ctx context.Context, run *tracker.Run) {
				attempts(ctx, run, "flaky#1", nil)
				attempts(ctx, run, "flaky", fail, nil)
			},
			keys: []string{"flaky#1", "flaky#2", "flaky"},
			stages: []want{
				{[]string{"flaky"}, "ok", nil, 2},
				{[]string{"flaky#2"}, "error", "exit status 1", 1},
				{[]string{"flaky#1"}, "ok", nil, 1},
			},
			runStatus: "ok",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("OTEL_TRACES_EXPORTER", "none")
			ctx := t.Context()
			tr, shutdown, err := setup.Tracker(ctx, setup.WithDir(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			ctx, run := tr.Start(ctx, nil)
			c.body(ctx, run)
			if err := run.Finalize(ctx); err != nil {
				t.Fatal(err)
			}
			if err := shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(run.File())
			if err != nil {
				t.Fatal(err)
			}
			// The file as a Python program reads it: json.load.
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if doc["schema_version"] != float64(runfile.SchemaVersion) || doc["status"] != c.runStatus {
				t.Errorf("schema_version %v, status %v; want %d, %s", doc["schema_version"], doc["status"], runfile.SchemaVersion, c.runStatus)
			}
			if wantErr := any(nil); c.runError != "" {
				if doc["error"] != c.runError {
					t.Errorf("error %v; want %q", doc["error"], c.runError)
				}
			} else if doc["error"] != wantErr {
				t.Errorf("error %v; want null", doc["error"])
			}
			for _, w := range c.stages {
				stages, st := doc["stages"], map[string]any(nil)
				for _, k := range w.path {
					st, _ = stages.(map[string]any)[k].(map[string]any)
					if st == nil {
						t.Fatalf("no stage %q", w.path)
					}
					stages = st["stages"]
				}
				if st["status"] != w.status || st["error"] != w.err || st["attempt"] != w.attempt {
					t.Errorf("stages%q: status %v, error %v, attempt %v; want %s, %v, %v", w.path, st["status"], st["error"], st["attempt"], w.status, w.err, w.attempt)
				}
			}
			// Key order is start order.
			r, err := runfile.ReadFile(run.File())
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, st := range r.Stages {
				keys = append(keys, st.Key)
			}
			if !slices.Equal(keys, c.keys) {
				t.Errorf("keys %q; want %q", keys, c.keys)
			}
		})
	}
}

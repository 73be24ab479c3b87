package replay_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/replay"
	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestRoundTrip: run file -> spans -> jsonrun.ToRun -> the same run file,
// byte for byte: same stages, nesting, keys, timestamps, ids, data, errors
// and statuses.
func TestRoundTrip(t *testing.T) {
	fx, err := runfixture.Fixtures(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name string
		run  *runfile.Run
	}
	var cases []tc
	for _, f := range fx {
		cases = append(cases, tc{f.Name, f.Run})
	}
	cases = append(cases,
		tc{"synthetic ok", runfixture.Synthetic(3)},
		tc{"synthetic failed", runfixture.Synthetic(9)},
		tc{"synthetic unfinished", runfixture.Synthetic(24)},
	)
	interrupted := runfixture.Synthetic(5)
	interrupted.Status, interrupted.Error = runfile.StatusInterrupted, "interrupted by SIGTERM"
	interrupted.ParentSpanID = "00f067aa0ba902b7"
	cases = append(cases, tc{"interrupted under a parent span", interrupted})
	incomplete := runfixture.Synthetic(6)
	incomplete.Status, incomplete.MissingStages = runfile.StatusIncomplete, 2
	cases = append(cases, tc{"incomplete", incomplete})

	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Through a file, as stagetrack send reads it.
			path := filepath.Join(dir, c.name+".json")
			want := c.run.AppendIndent(nil)
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := runfile.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			stubs, err := replay.Spans(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(stubs); n != 1+r.StageCount {
				t.Errorf("%d spans, want the run span and %d stages", n, r.StageCount)
			}
			back, err := jsonrun.ToRun(stubs.Snapshots())
			if err != nil {
				t.Fatal(err)
			}
			if got := back.AppendIndent(nil); !bytes.Equal(got, want) {
				t.Errorf("round trip changed the run file\n--- got\n%s\n--- want\n%s", got, want)
			}
		})
	}
}

// TestSpansShape checks the spans themselves: one trace, the run span as
// root, parents, scope, resource, and the error status of failed stages.
func TestSpansShape(t *testing.T) {
	r, err := runfile.ReadFile(filepath.Join("..", "cli", "testdata", "runs", "security.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(semconv.ServiceName("replay-test"))
	stubs, err := replay.Spans(r, res)
	if err != nil {
		t.Fatal(err)
	}
	root := stubs[0]
	if root.SpanContext.TraceID().String() != r.TraceID || root.SpanContext.SpanID().String() != r.SpanID || root.Parent.IsValid() {
		t.Errorf("run span %v (parent %v), want trace %s span %s and no parent", root.SpanContext, root.Parent, r.TraceID, r.SpanID)
	}
	bySpan := map[string]string{} // span id -> name
	for _, s := range stubs {
		bySpan[s.SpanContext.SpanID().String()] = s.Name
		if s.InstrumentationScope.Name != keys.ScopeName {
			t.Errorf("%s: scope %q, want %q", s.Name, s.InstrumentationScope.Name, keys.ScopeName)
		}
		if s.Resource != res {
			t.Errorf("%s: resource not passed on", s.Name)
		}
		if s.SpanContext.TraceID() != root.SpanContext.TraceID() || !s.SpanContext.IsSampled() {
			t.Errorf("%s: span context %v not in the run's sampled trace", s.Name, s.SpanContext)
		}
	}
	wantParent := map[string]string{"Detection": "Reconnaissance_M1", "Enrichment": "Reconnaissance_M1", "nvd": "Enrichment", "osv": "Enrichment", "Report": "Reconnaissance_M1"}
	for _, s := range stubs[1:] {
		if got := bySpan[s.Parent.SpanID().String()]; got != wantParent[s.Name] {
			t.Errorf("%s: parent %q, want %q", s.Name, got, wantParent[s.Name])
		}
		failed := s.Name == "osv"
		if (s.Status.Code == codes.Error) != failed || (failed && len(s.Events) != 1) {
			t.Errorf("%s: status %v with %d events", s.Name, s.Status, len(s.Events))
		}
	}
}

// TestSpansDerivedIDs: a file written by the Python stage-tracker has no
// ids; the spans get ids derived from the run id, the same every time.
func TestSpansDerivedIDs(t *testing.T) {
	python := []byte(`{
  "run_id": "c355abaa-cb8c-4cad-ae67-47bce23be244",
  "start_time": "2025-05-05T23:14:10.235518+00:00",
  "args": "Reconnaissance_M1",
  "stages": {
    "Detection": {"start_time": "2025-05-05T23:14:10.235600+00:00", "duration_sec": 0.5, "data": {"status": "clean"}, "error": null},
    "Enrichment": {"start_time": "2025-05-05T23:14:10.736000+00:00", "duration_sec": 0.25, "data": null, "error": "timeout"}
  },
  "completed_at": "2025-05-05T23:14:11.000000+00:00",
  "total_duration_sec": 0.764482
}`)
	var r runfile.Run
	if err := r.UnmarshalJSON(python); err != nil {
		t.Fatal(err)
	}
	a, err := replay.Spans(&r, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := replay.Spans(&r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a[0].SpanContext.TraceID().String(), "c355abaacb8c4cadae6747bce23be244"; got != want {
		t.Errorf("trace id %s, want the run id's bytes %s", got, want)
	}
	seen := map[string]bool{}
	for i := range a {
		id := a[i].SpanContext.SpanID()
		if !id.IsValid() || seen[id.String()] || id != b[i].SpanContext.SpanID() {
			t.Errorf("%s: span id %s not valid, unique and stable", a[i].Name, id)
		}
		seen[id.String()] = true
	}
	back, err := jsonrun.ToRun(a.Snapshots())
	if err != nil {
		t.Fatal(err)
	}
	enr, _ := back.Stages.Get("Enrichment")
	if back.Status != runfile.StatusFailed || enr.Error != "timeout" || enr.DurationSec != 0.25 || back.Args == nil {
		t.Errorf("read back as %s", back.AppendIndent(nil))
	}
}

func TestSpansBadIDs(t *testing.T) {
	cases := []struct {
		name string
		edit func(r *runfile.Run)
	}{
		{"trace id", func(r *runfile.Run) { r.TraceID = "not-hex" }},
		{"span id", func(r *runfile.Run) { r.SpanID = "123" }},
		{"parent span id", func(r *runfile.Run) { r.ParentSpanID = "zz" }},
		{"stage span id", func(r *runfile.Run) { r.Stages[1].SpanID = "0123456789abcdef0" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runfixture.Synthetic(1)
			c.edit(r)
			if _, err := replay.Spans(r, nil); err == nil {
				t.Error("Spans accepted a bad id")
			}
		})
	}
}

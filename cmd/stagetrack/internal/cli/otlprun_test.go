//go:build unix

package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/receiver"
	"github.com/stage-tracker/stage-tracker/internal/keys"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestRunReceivesOTLP runs a program that knows only the OpenTelemetry SDK
// (testdata/otlpchild) under the built stagetrack run: the spans it sends
// to the receiver, with nothing but the environment run gives it, are
// stages of the run file, nested by parent, with their data and error,
// and reach the exporter OTEL_TRACES_EXPORTER names (console) too.
func TestRunReceivesOTLP(t *testing.T) {
	bin := buildBinaries(t)
	stagetrack, child, dir := bin.stagetrack, bin.otlpchild, filepath.Dir(bin.stagetrack)

	t.Run("a program with only the OTel SDK", func(t *testing.T) {
		work := t.TempDir()
		env := userEnv("OTEL_TRACES_EXPORTER=console",
			// The user's own endpoints and protocol are for stagetrack: the
			// child's traces are pointed at the run all the same (the
			// general endpoint stays, for the child's metrics and logs).
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:1/v1/traces", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc",
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_HEADERS=api-key=secret")
		r := runAsUser(t, work, env, stagetrack, "run", "-q", "--", child)
		checkOTLPPipelineRun(t, r, work)
	})

	// stagetrack exec children with OTEL_TRACES_EXPORTER=otlp send their
	// spans to the run's receiver, which sends them on to the backend: each
	// once, and each stage once in the run (they journal it themselves).
	t.Run("exec children with OTLP to a backend", func(t *testing.T) {
		backend, got := startBackend(t)
		work := t.TempDir()
		env := userEnv("OTEL_TRACES_EXPORTER=otlp",
			"OTEL_EXPORTER_OTLP_ENDPOINT="+strings.TrimSuffix(backend.URL(), "/v1/traces"),
			"OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20"+backend.Token(),
			"PATH="+dir+":"+os.Getenv("PATH"))
		r := runAsUser(t, work, env, stagetrack, "run", "--", "sh", "-c",
			`stagetrack exec --stage a -- true && stagetrack exec --stage b -- sh -c "exit 3"; true`)
		if r.code != 1 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
		if rf.Error != `stage "b" failed: exit status 3` || len(rf.Stages) != 2 {
			t.Errorf("run error %q, %d stages; want stage b's failure, counted once, of 2", rf.Error, len(rf.Stages))
		}
		if n := strings.Count(r.stderr, "exit status 3\n"); n != 2 { // b's progress line and the summary
			t.Errorf("stderr shows b's failure %d times; want twice (progress, summary)\n%s", n, r.stderr)
		}
		names := got()
		slices.Sort(names)
		// Each exec step joined the run: it ends a count span after its stage.
		if want := []string{"a", "b", "sh", keys.CountSpanName, keys.CountSpanName}; !slices.Equal(names, want) {
			t.Errorf("the backend got %v; want %v, each once", names, want)
		}
	})
}

// TestRunReceivesOTLPFromNodeSDK is TestRunReceivesOTLP with the Node
// program testdata/node/pipeline.js and the OpenTelemetry JS SDK, whose
// OTLP/HTTP exporter sends JSON. scripts/node-e2e.sh installs the SDK and
// runs it; without STAGE_TRACKER_NODE_MODULES it is skipped, except in CI,
// where it fails.
func TestRunReceivesOTLPFromNodeSDK(t *testing.T) {
	modules := os.Getenv("STAGE_TRACKER_NODE_MODULES")
	if modules == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("STAGE_TRACKER_NODE_MODULES is not set: in CI the Node test must run (bash scripts/node-e2e.sh)")
		}
		t.Skip("STAGE_TRACKER_NODE_MODULES is not set: bash scripts/node-e2e.sh installs the OTel JS SDK and runs this test")
	}
	program, err := filepath.Abs(filepath.Join("..", "..", "..", "..", "testdata", "node", "pipeline.js"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(buildBinaries(t).stagetrack)
	work := t.TempDir()
	env := userEnv("OTEL_TRACES_EXPORTER=console", "NODE_PATH="+modules)
	r := runAsUser(t, work, env, filepath.Join(dir, "stagetrack"), "run", "-q", "--", "node", program)
	checkOTLPPipelineRun(t, r, work)
}

// checkOTLPPipelineRun checks the run that stagetrack run r made in work
// of a program that sent extract (rows=3, source=s3) with parse
// (format=csv) inside it, and load, failed with "disk full", and that the
// console exporter printed those spans as received.
func checkOTLPPipelineRun(t *testing.T, r procResult, work string) {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("exit %d; want 1, as a stage failed\nstderr: %s", r.code, r.stderr)
	}
	_, rf := onlyRunFile(t, filepath.Join(work, "runs"))
	if rf.Status != runfile.StatusFailed || !strings.Contains(rf.Error, "load") {
		t.Errorf("run status %q error %q; want failed, naming stage load", rf.Status, rf.Error)
	}
	stages := flatten(rf.Stages, "", rf.SpanID)
	var paths []string
	byPath := map[string]flatStage{}
	for _, s := range stages {
		paths = append(paths, s.path)
		byPath[s.path] = s
	}
	// The JS SDK stamps a span's start with Date.now(), to the millisecond:
	// extract and load often start in the same one, and the run file then
	// orders them by span id (assemble). Nesting and the set are what hold.
	slices.Sort(paths)
	if strings.Join(paths, " ") != "extract extract/parse load" {
		t.Fatalf("stages %v; want extract, extract/parse, load", paths)
	}
	for path, want := range map[string]struct{ data, err string }{
		"extract":       {`{"rows":3,"source":"s3"}`, ""},
		"extract/parse": {`{"format":"csv"}`, ""},
		"load":          {"null", "disk full"}, // no attributes: no data
	} {
		st := byPath[path].stage
		if got := dataOf(t, st.Data); got != want.data || st.Error != want.err {
			t.Errorf("stage %s: data %s error %q; want %s %q", path, st.Data, st.Error, want.data, want.err)
		}
	}

	// The console exporter printed the child's spans, as received: the
	// run's trace, the same span ids.
	printed := map[string]consoleSpan{}
	for _, s := range consoleSpans(t, r.stderr) {
		printed[s.Name] = s
	}
	for path, s := range byPath {
		p, ok := printed[s.stage.Name]
		if !ok || p.SpanContext.SpanID != s.stage.SpanID || p.SpanContext.TraceID != rf.TraceID {
			t.Errorf("stage %s (span %s): console printed %+v; want the same span of trace %s", path, s.stage.SpanID, p, rf.TraceID)
		}
	}
}

// dataOf is a stage's data as compact JSON, "null" when it has none.
func dataOf(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if len(raw) == 0 {
		return "null"
	}
	return compact(t, raw)
}

// TestRunOTLPOff: with --otlp=false run serves nothing, and CMD's OTEL_*
// variables are the user's own (an instrumented service keeps sending to
// its collector, and its spans are not stages); CMD still joins the run.
// With the default, CMD's traces are pointed at the run.
func TestRunOTLPOff(t *testing.T) {
	bin := buildBinaries(t)
	const userEndpoint = "http://collector.example:4318/v1/traces"
	childEnv := func(t *testing.T, flags ...string) map[string]string {
		t.Helper()
		work := t.TempDir()
		argv := append(append([]string{bin.stagetrack, "run", "-q"}, flags...), "--", "sh", "-c", "env")
		r := runAsUser(t, work, userEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="+userEndpoint), argv...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		onlyRunFile(t, filepath.Join(work, "runs"))
		env := map[string]string{}
		for line := range strings.SplitSeq(r.stdout, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		return env
	}

	off := childEnv(t, "--otlp=false")
	if got := off["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]; got != userEndpoint {
		t.Errorf("--otlp=false: CMD's traces endpoint %q; want the user's %q", got, userEndpoint)
	}
	for k, v := range off {
		if strings.HasPrefix(k, "OTEL_EXPORTER_OTLP_") && strings.Contains(v, "Bearer") {
			t.Errorf("--otlp=false: CMD got the run's credential in %s", k)
		}
	}
	if off["STAGE_TRACKER_RUN_ID"] == "" || off["TRACEPARENT"] == "" {
		t.Errorf("--otlp=false: CMD cannot join the run: STAGE_TRACKER_RUN_ID %q, TRACEPARENT %q",
			off["STAGE_TRACKER_RUN_ID"], off["TRACEPARENT"])
	}

	on := childEnv(t)
	if got := on["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]; !strings.HasPrefix(got, "http://127.0.0.1:") {
		t.Errorf("default: CMD's traces endpoint %q; want the run's receiver on 127.0.0.1", got)
	}
}

// startBackend is an OTLP/HTTP backend for the tests (a receiver like
// run's own), shut down when the test ends; names returns the names of the
// spans it got.
func startBackend(t *testing.T) (_ *receiver.Receiver, names func() []string) {
	t.Helper()
	var (
		mu  sync.Mutex
		got []string
	)
	r, err := receiver.Start(t.Context(), func(spans []sdktrace.ReadOnlySpan) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range spans {
			got = append(got, s.Name())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Shutdown(context.Background()); err != nil {
			t.Errorf("backend shutdown: %v", err)
		}
	})
	return r, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

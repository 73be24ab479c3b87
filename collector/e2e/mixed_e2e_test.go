//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// mixedScript is the command of the mixed pipeline under stagetrack run:
// two stagetrack exec stages (the second fails) and a Node program with
// the OTel JS SDK (extract, parse in it, load failing on "disk full").
const mixedScript = `stagetrack exec --stage fetch -- true
stagetrack exec --stage build -- sh -c "exit 3"
node "$0"`

// TestCollectorEndToEndMixedPipeline (issue 19): the simplest mixed
// pipeline, two stagetrack exec stages and a Node child under stagetrack
// run, whose spans stagetrack run forwards to stagetrack-collector over
// OTLP/HTTP. The Collector's run file must hold the same stages (by name,
// span id and nesting), with the same status and error, as the run file
// stagetrack run writes locally, and the run's status and error must be
// the same, exactly: for each of 20 runs in a row
// (COLLECTOR_E2E_MIXED_RUNS sets another count). Needs node and the
// packages of scripts/node-e2e.sh (the script passes them); skipped
// without, except in CI, where it fails.
func TestCollectorEndToEndMixedPipeline(t *testing.T) {
	node := os.Getenv("COLLECTOR_E2E_NODE")
	if node == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("COLLECTOR_E2E_NODE is not set: scripts/collector-e2e.sh sets it when npm's packages install")
		}
		t.Skip("COLLECTOR_E2E_NODE is not set (scripts/collector-e2e.sh sets it)")
	}
	runs := 20
	if v := os.Getenv("COLLECTOR_E2E_MIXED_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("COLLECTOR_E2E_MIXED_RUNS=%q: want a count", v)
		}
		runs = n
	}
	col := binary(t, "STAGETRACK_COLLECTOR", "./cmd/stagetrack-collector", "..")
	stagetrack := binary(t, "STAGETRACK", "./cmd/stagetrack", "../..")

	tmp := t.TempDir()
	c, colDir, httpAddr := startTestCollector(t, col, tmp)

	// One stagetrack run after another, each in a directory of its own.
	bin := filepath.Dir(stagetrack)
	env := append(withoutOTEL(os.Environ()),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"OTEL_TRACES_EXPORTER=otlp", "OTEL_METRICS_EXPORTER=none", "OTEL_LOGS_EXPORTER=none",
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+httpAddr)
	local := make([]string, runs)
	for i := range runs {
		dir := filepath.Join(tmp, "local", strconv.Itoa(i))
		cmd := exec.Command(stagetrack, "run", "-q", "--dir", dir, "--", "sh", "-c", mixedScript, node)
		cmd.Env = env
		cmd.Dir = tmp
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
			// stagetrack run exits 1 for a failed run, as this one is.
			t.Fatalf("run %d: %v\n%s", i, err, out)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*-*-*-*-*.json"))
		if len(files) != 1 {
			t.Fatalf("run %d: local run files %v; want one\n%s", i, files, out)
		}
		local[i] = files[0]
	}
	// A graceful stop: what the Collector received is handled before it
	// exits, so the run files are whatever they will be.
	if err := c.kill(syscall.SIGTERM); err != nil {
		t.Errorf("collector stopped with %v", err)
	}

	differ := 0
	for i, path := range local {
		want := readMixed(t, path)
		got, err := readMixedFile(filepath.Join(colDir, filepath.Base(path)))
		var why string
		switch {
		case err != nil:
			why = err.Error()
			if _, jerr := os.Stat(filepath.Join(colDir, strings.TrimSuffix(filepath.Base(path), ".json")+".journal")); jerr == nil {
				why += " (its journal is there: the Collector never saw the run complete)"
			}
		case !reflect.DeepEqual(got, want):
			why = mixedDiff(got, want)
		}
		if why == "" {
			continue
		}
		differ++
		if differ > 3 {
			// The first few in full; the rest by what differs.
			why, _, _ = strings.Cut(why, "--- collector")
		}
		t.Errorf("run %d of %d (%s): the Collector's run file differs from stagetrack run's:\n%s", i+1, runs, filepath.Base(path), why)
	}
	if differ > 0 {
		t.Errorf("%d of %d runs differ", differ, runs)
	}
}

// mixedRun is what must be equal in the two files of one run.
type mixedRun struct {
	Status, Error string
	MissingStages int
	Stages        []mixedStage
}

// mixedStage is a stage by name and span id, with its outcome and nesting.
type mixedStage struct {
	Name, SpanID, Status, Error string
	Stages                      []mixedStage
}

func readMixed(t *testing.T, path string) mixedRun {
	t.Helper()
	r, err := readMixedFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readMixedFile(path string) (mixedRun, error) {
	r, err := runfile.ReadFile(path)
	if err != nil {
		return mixedRun{}, err
	}
	return mixedRun{Status: r.Status, Error: r.Error, MissingStages: r.MissingStages, Stages: mixedStages(r.Stages)}, nil
}

// mixedStages orders siblings by span id: starts from different clocks
// (Node's are to the millisecond) may tie or cross.
func mixedStages(ss runfile.Stages) []mixedStage {
	var out []mixedStage
	for _, s := range ss {
		out = append(out, mixedStage{Name: s.Name, SpanID: s.SpanID, Status: s.Status, Error: s.Error, Stages: mixedStages(s.Stages)})
	}
	slices.SortStableFunc(out, func(a, b mixedStage) int { return strings.Compare(a.SpanID, b.SpanID) })
	return out
}

// mixedDiff says which fields differ: the run's, then each stage missing
// from one side or different, by span id.
func mixedDiff(got, want mixedRun) string {
	var b strings.Builder
	if got.Status != want.Status {
		fmt.Fprintf(&b, "  status: collector %q, local %q\n", got.Status, want.Status)
	}
	if got.Error != want.Error {
		fmt.Fprintf(&b, "  error: collector %q, local %q\n", got.Error, want.Error)
	}
	if got.MissingStages != want.MissingStages {
		fmt.Fprintf(&b, "  missing_stages: collector %d, local %d\n", got.MissingStages, want.MissingStages)
	}
	g, w := flatten(got.Stages, ""), flatten(want.Stages, "")
	for _, id := range slices.Sorted(keys(w, g)) {
		gs, gok := g[id]
		ws, wok := w[id]
		switch {
		case !gok:
			fmt.Fprintf(&b, "  stage %s %s: only in the local file\n", id, ws)
		case !wok:
			fmt.Fprintf(&b, "  stage %s %s: only in the Collector's\n", id, gs)
		case gs != ws:
			fmt.Fprintf(&b, "  stage %s: collector %s, local %s\n", id, gs, ws)
		}
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	fmt.Fprintf(&b, "--- collector\n%s\n--- local\n%s", gj, wj)
	return b.String()
}

// flatten maps span id to a stage's name, parent, status and error.
func flatten(ss []mixedStage, parent string) map[string]string {
	out := map[string]string{}
	for _, s := range ss {
		out[s.SpanID] = fmt.Sprintf("%q under %q, %s, error %q", s.Name, parent, s.Status, s.Error)
		for k, v := range flatten(s.Stages, s.Name) {
			out[k] = v
		}
	}
	return out
}

func keys(ms ...map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, m := range ms {
			for k := range m {
				if !seen[k] {
					seen[k] = true
					if !yield(k) {
						return
					}
				}
			}
		}
	}
}

// withoutOTEL is env less the OTEL_* and STAGE_TRACKER_* variables of
// the test's own environment, which would send or join elsewhere.
func withoutOTEL(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "OTEL_") || strings.HasPrefix(kv, "STAGE_TRACKER_") || strings.HasPrefix(kv, "TRACEPARENT=")
	})
}

// startTestCollector starts the Collector binary col with the test config,
// on free ports, writing run files to dir/collector-runs; it returns the
// Collector, that directory and its OTLP/HTTP address.
func startTestCollector(t *testing.T, col, dir string) (_ *collector, runs, httpAddr string) {
	t.Helper()
	runs = filepath.Join(dir, "collector-runs")
	grpcAddr, httpAddr := freePort(t), freePort(t)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, config, grpcAddr, httpAddr, runs), 0o644); err != nil {
		t.Fatal(err)
	}
	return startCollector(t, col, cfgPath), runs, httpAddr
}

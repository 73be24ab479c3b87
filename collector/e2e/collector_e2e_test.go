//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// The binaries: the script builds them into a cache outside the repository
// and names them here; run alone, the test builds them.
func binary(t *testing.T, env, pkg, dir string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// collector is one stagetrack-collector process.
type collector struct {
	cmd  *exec.Cmd
	done chan error
}

// startCollector starts the binary and returns once it says it is ready
// (its log line, read from its stderr: no sleeping).
func startCollector(t *testing.T, bin, config string) *collector {
	t.Helper()
	cmd := exec.Command(bin, "--config", config)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if f := os.Getenv("COLLECTOR_E2E_PIDFILE"); f != "" {
		// The script's trap stops by these PIDs whatever happens to the
		// test: one line per Collector started.
		if pf, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			fmt.Fprintln(pf, cmd.Process.Pid)
			pf.Close()
		}
	}
	c := &collector{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan bool, 1)
	var (
		mu  sync.Mutex
		log []string // the Collector's log, printed when the test fails
	)
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			t.Logf("collector %d log:\n%s", cmd.Process.Pid, strings.Join(log, "\n"))
			mu.Unlock()
		}
	})
	go func() {
		sc := bufio.NewScanner(stderr)
		said := false
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			log = append(log, line)
			mu.Unlock()
			if !said && strings.Contains(line, "Everything is ready") {
				said = true
				ready <- true
			}
		}
		if !said {
			ready <- false
		}
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() { c.kill(syscall.SIGKILL) })
	if !<-ready {
		t.Fatalf("collector exited before it was ready: %v", <-c.done)
	}
	return c
}

// kill sends sig and waits for the process to end. Idempotent.
func (c *collector) kill(sig syscall.Signal) error {
	if c.done == nil {
		return nil
	}
	c.cmd.Process.Signal(sig)
	err := <-c.done
	c.done = nil
	return err
}

const config = `receivers:
  otlp:
    protocols:
      grpc: {endpoint: "%s"}
      http: {endpoint: "%s"}
exporters:
  jsonrun:
    directory: %s
  debug: {verbosity: basic}
service:
  pipelines:
    traces/runs: {receivers: [otlp], exporters: [jsonrun]}
    traces/debug: {receivers: [otlp], exporters: [debug]}
  telemetry:
    metrics: {level: none}
`

// TestCollectorEndToEnd: spans of one run from three processes (a Go
// program using tracker, over gRPC; its child, joined by TRACEPARENT and
// STAGE_TRACKER_RUN_ID, over HTTP; a stagetrack exec child, over HTTP) and,
// with COLLECTOR_E2E_NODE, a Node program with the OTel JS SDK (OTLP/HTTP
// JSON)
// make one run file in the Collector whose stages and nesting are those of
// the same pipeline run on one machine; the Collector is killed with
// SIGKILL half-way and restarted, and no ended stage is lost.
func TestCollectorEndToEnd(t *testing.T) {
	col := binary(t, "STAGETRACK_COLLECTOR", "./cmd/stagetrack-collector", "..")
	stagetrack := binary(t, "STAGETRACK", "./cmd/stagetrack", "../..")
	pipeline := binary(t, "STAGETRACK_PIPELINE", "./e2e/pipeline", "..")
	node := os.Getenv("COLLECTOR_E2E_NODE") // the Node program, when the script has npm's packages

	tmp := t.TempDir()
	runs := filepath.Join(tmp, "runs")
	grpcAddr, httpAddr := freePort(t), freePort(t)
	cfgPath := filepath.Join(tmp, "config.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, config, grpcAddr, httpAddr, runs), 0o644); err != nil {
		t.Fatal(err)
	}

	// The reference: the same pipeline recorded on one machine.
	refDir := filepath.Join(tmp, "ref")
	const refID = "7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a01"
	args := []string{"-stagetrack", stagetrack, "-scratch", filepath.Join(tmp, "scratch")}
	if node != "" {
		args = append(args, "-node", node)
	}
	refArgs := append([]string{"-mode", "local", "-dir", refDir, "-run-id", refID}, args...)
	ref := exec.Command(pipeline, refArgs...)
	if node != "" {
		// Only stagetrack run receives a Node program's spans on one
		// machine: the pipeline joins its run there.
		ref = exec.Command(stagetrack, append([]string{"run", "--dir", refDir, "--", pipeline}, refArgs...)...)
	}
	b, err := ref.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !(node != "" && errors.As(err, &exit) && exit.ExitCode() == 1) {
		// stagetrack run exits 1 for a failed run, as this one is.
		t.Fatalf("reference run: %v\n%s", err, b)
	}
	refFiles, _ := filepath.Glob(filepath.Join(refDir, "*-*-*-*-*.json"))
	if len(refFiles) != 1 {
		t.Fatalf("reference run files: %v; want one", refFiles)
	}

	// Killed (SIGKILL: the journal as the crash left it) or stopped
	// (SIGTERM: the exporter detaches its open runs) half-way, restarted:
	// the run is whole either way.
	for _, stop := range []struct {
		sig   syscall.Signal
		runID string
	}{
		{syscall.SIGKILL, "7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a02"},
		{syscall.SIGTERM, "7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a03"},
	} {
		t.Run(stop.sig.String(), func(t *testing.T) {
			restartMidRun(t, col, cfgPath, pipeline, runs, grpcAddr, httpAddr, stop.runID, stop.sig, node, args, refFiles[0])
		})
	}
}

// restartMidRun sends the pipeline's run through the Collector, stops the
// Collector with sig half-way, restarts it, and compares the run file with
// the reference.
func restartMidRun(t *testing.T, col, cfgPath, pipeline, runs, grpcAddr, httpAddr, runID string, sig syscall.Signal, node string, args []string, refFile string) {
	c := startCollector(t, col, cfgPath)
	p := exec.Command(pipeline, append([]string{"-mode", "collector", "-run-id", runID, "-pause",
		"-grpc", "http://" + grpcAddr, "-http", "http://" + httpAddr}, args...)...)
	stdin, err := p.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := p.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.Stderr = os.Stderr
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Process.Kill(); p.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "PAUSED\n" {
		t.Fatalf("pipeline said %q, %v; want PAUSED", line, err)
	}

	// Half-way: every stage so far has ended and was acknowledged.
	err = c.kill(sig)
	if sig == syscall.SIGTERM && err != nil {
		t.Errorf("collector stopped with %v", err)
	}
	if _, err := os.Stat(filepath.Join(runs, runID+".json")); err == nil {
		t.Fatal("run file written before the run finished")
	}
	if !storeHolds(t, runs, runID) {
		t.Error("the stopped Collector left the open run nowhere: not in its store of open runs")
	}
	c = startCollector(t, col, cfgPath)
	if _, err := io.WriteString(stdin, "go on\n"); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	if err := c.kill(syscall.SIGTERM); err != nil {
		t.Errorf("collector stopped with %v", err)
	}

	want := readNormalised(t, refFile)
	got := readNormalised(t, filepath.Join(runs, runID+".json"))
	if node != "" {
		// The one-machine run is stagetrack run's, named after its command.
		want.Name, want.Args = got.Name, got.Args
	}
	if got.Name != "etl" || len(got.Stages) < 3 {
		t.Errorf("collector run %q has %d top-level stages; want etl's", got.Name, len(got.Stages))
	}
	if node != "" && !hasNodeStages(got.Stages) {
		t.Errorf("the Node program's stages are not under report, with load failing on disk full: %+v", got.Stages)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("the Collector's run file differs from the one-machine run's (ids, times, hosts stripped):\n--- collector\n%s\n--- one machine\n%s", g, w)
		raw, _ := os.ReadFile(filepath.Join(runs, runID+".json"))
		t.Logf("the Collector's run file:\n%s", raw)
	}
}

// normalStage is what must match between the two run files: names,
// nesting, status, error and data; not ids, times, hosts or pids.
type normalStage struct {
	Key, Name, Status, Error string
	Data                     any
	Stages                   []normalStage
}

type normalRun struct {
	Name, Status, Error string
	Args                any
	StageCount          int
	MissingStages       int
	Stages              []normalStage
}

func readNormalised(t *testing.T, path string) normalRun {
	t.Helper()
	r, err := runfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return normalRun{Name: r.Name, Status: r.Status, Error: r.Error, Args: decode(r.Args),
		StageCount: r.StageCount, MissingStages: r.MissingStages, Stages: normalise(r.Stages)}
}

func normalise(ss runfile.Stages) []normalStage {
	var out []normalStage
	for _, s := range ss {
		out = append(out, normalStage{Key: s.Key, Name: s.Name, Status: s.Status, Error: s.Error,
			Data: decode(s.Data), Stages: normalise(s.Stages)})
	}
	// Siblings by key, not by start: the JS SDK stamps starts to the
	// millisecond, so two Node stages may tie and then sort by span id.
	slices.SortStableFunc(out, func(a, b normalStage) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// hasNodeStages: report holds extract (with parse in it) and load, whose
// error is the Node program's.
func hasNodeStages(ss []normalStage) bool {
	for _, s := range ss {
		if s.Key != "report" {
			continue
		}
		var extract, load bool
		for _, c := range s.Stages {
			extract = extract || (c.Key == "extract" && len(c.Stages) == 1 && c.Stages[0].Key == "parse")
			load = load || (c.Key == "load" && c.Error == "disk full")
		}
		return extract && load
	}
	return false
}

func decode(b json.RawMessage) any {
	var v any
	if len(b) > 0 {
		_ = json.Unmarshal(b, &v)
	}
	return v
}

// storeHolds reports whether the store of open runs in dir (docs/collector.md)
// holds lines of runID.
func storeHolds(t *testing.T, dir, runID string) bool {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, ".openruns", "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range segs {
		b, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"run_id":"`+runID+`"`) {
			return true
		}
	}
	return false
}

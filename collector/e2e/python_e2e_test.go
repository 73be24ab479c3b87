//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
)

// TestCollectorEndToEndPythonClient (issue 24): the Python stage-tracker's
// README quick start, verbatim (testdata/python/quickstart.py), on our
// standard-library Python package (python/stage_tracker) with
// OTEL_EXPORTER_OTLP_ENDPOINT pointing at stagetrack-collector: the
// Collector's run file has the same stages (name, span id, nesting),
// status and error as the run_output.json the script writes itself.
func TestCollectorEndToEndPythonClient(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is not on PATH: in CI the Python client must be tested")
		}
		t.Skip("python3 is not on PATH")
	}
	pkg, err := filepath.Abs(filepath.Join("..", "..", "python"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join("..", "..", "testdata", "python", "quickstart.py"))
	if err != nil {
		t.Fatal(err)
	}
	col := binary(t, "STAGETRACK_COLLECTOR", "./cmd/stagetrack-collector", "..")

	tmp := t.TempDir()
	c, colDir, httpAddr := startTestCollector(t, col, tmp)

	work := filepath.Join(tmp, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "quickstart.py"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "quickstart.py")
	cmd.Dir = work
	cmd.Env = append(withoutOTEL(os.Environ()), "PYTHONPATH="+pkg, "PYTHONDONTWRITEBYTECODE=1",
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+httpAddr, "OTEL_SERVICE_NAME=python-quickstart")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python3 quickstart.py: %v\n%s", err, out)
	}
	if err := c.kill(syscall.SIGTERM); err != nil {
		t.Errorf("collector stopped with %v", err)
	}

	want := readMixed(t, filepath.Join(work, "run_output.json"))
	if want.Status != "ok" || len(want.Stages) != 2 {
		t.Fatalf("run_output.json: status %q, %d stages; want ok, 2", want.Status, len(want.Stages))
	}
	files, _ := filepath.Glob(filepath.Join(colDir, "*-*-*-*-*.json"))
	if len(files) != 1 {
		t.Fatalf("the Collector wrote run files %v; want one", files)
	}
	got := readMixed(t, files[0])
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the Collector's run file differs from the script's:\n%s", mixedDiff(got, want))
	}
}

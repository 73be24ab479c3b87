package setup_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stage-tracker/stage-tracker/exporter/jsonrun"
	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/setup"
)

func TestTrackerRecoversItsDirectoryAtStart(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	dir := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	host, _ := os.Hostname()
	const id = "af3c980c-3d22-46e8-83cd-7ff99abee586"
	journal := fmt.Sprintf(`{"e":"run","t":1746486850235518000,"run_id":%q,"trace_id":"0000000000000000000000000000000a","span_id":"0000000000000001","name":"killed","pid":%d,"host":%q}`+"\n", id, dead.Process.Pid, host)
	if err := os.WriteFile(filepath.Join(dir, id+jsonrun.JournalSuffix), []byte(journal), 0o644); err != nil {
		t.Fatal(err)
	}
	_, shutdown, err := setup.Tracker(t.Context(), setup.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	// The recovery runs in the background; shutdown waits for it.
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	rf, err := runfile.ReadFile(filepath.Join(dir, id+".json"))
	if err != nil || rf.Status != runfile.StatusCrashed || rf.Name != "killed" {
		t.Fatalf("recovered run file: %+v, %v", rf, err)
	}
}

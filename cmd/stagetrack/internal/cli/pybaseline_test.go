package cli_test

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// TestPythonBaselineAgrees checks that scripts/pybaseline.py, the Python
// that scripts/bench-python.sh measures stats against, does the work stats
// does: on the same runs it finds the same stage paths in the same order,
// with the same counts, runs, failures and percentiles. A baseline doing
// less would flatter the Python figures.
func TestPythonBaselineAgrees(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	dir := t.TempDir()
	writeSynthetic(t, dir, 40)
	r := stagetrack(t, "stats", "--json", dir)
	if r.code != 0 {
		t.Fatalf("stats: exit %d: %s", r.code, r.stderr)
	}
	out, err := exec.CommandContext(t.Context(), python, "../../../../scripts/pybaseline.py", "stats", dir).Output()
	if err != nil {
		t.Fatalf("pybaseline.py stats: %v", err)
	}
	type row struct {
		Path     string  `json:"path"`
		Depth    int     `json:"depth"`
		Count    int     `json:"count"`
		Timed    int     `json:"timed"`
		Runs     int     `json:"runs"`
		Failures int     `json:"failures"`
		P50Sec   float64 `json:"p50_sec"`
		P95Sec   float64 `json:"p95_sec"`
		MaxSec   float64 `json:"max_sec"`
	}
	type summary struct {
		Runs   int
		Run    row
		Stages []row
	}
	var ours, theirs summary
	if err := json.Unmarshal([]byte(r.stdout), &ours); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &theirs); err != nil {
		t.Fatal(err)
	}
	if len(ours.Stages) == 0 || ours.Runs != 40 || ours.Stages[0].P95Sec == 0 {
		t.Fatalf("stats found %d runs, %d stage paths", ours.Runs, len(ours.Stages))
	}
	if ours.Runs != theirs.Runs || ours.Run != theirs.Run || len(ours.Stages) != len(theirs.Stages) {
		t.Fatalf("runs: stats %+v (%d paths), Python %+v (%d paths)", ours.Run, len(ours.Stages), theirs.Run, len(theirs.Stages))
	}
	for i := range ours.Stages {
		if ours.Stages[i] != theirs.Stages[i] {
			t.Errorf("stage row %d: stats %+v, Python %+v", i, ours.Stages[i], theirs.Stages[i])
		}
	}
}

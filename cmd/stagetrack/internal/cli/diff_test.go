package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/rundiff"
)

func TestDiffGolden(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"train-a-b", []string{"diff", runFile("train-a"), runFile("train-b")}},
		{"train-b-a", []string{"diff", runFile("train-b"), runFile("train-a")}},
		{"train-a-b-width-70", []string{"diff", "-w", "70", runFile("train-a"), runFile("train-b")}},
		{"train-a-security", []string{"diff", runFile("train-a"), runFile("security")}},
		{"same", []string{"diff", runFile("security"), runFile("security")}},
		{"train-a-b-json", []string{"diff", "--json", runFile("train-a"), runFile("train-b")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := stagetrack(t, c.args...)
			wantCode(t, r, cli.ExitOK)
			golden(t, filepath.Join("diff", c.name+".golden"), r.stdout)
		})
	}
}

// TestDiffJSON checks the machine-readable output against what the
// issue asks diff to tell.
func TestDiffJSON(t *testing.T) {
	r := stagetrack(t, "diff", "--json", runFile("train-a"), runFile("train-b"))
	wantCode(t, r, cli.ExitOK)
	var d rundiff.Diff
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("diff --json is not JSON: %v\n%s", err, r.stdout)
	}
	byKey := map[string]rundiff.StageDiff{}
	var order []string
	for _, s := range d.Stages {
		byKey[s.Key] = s
		order = append(order, s.Key)
	}
	wantOrder := "load_data preprocess train train/epoch#1 train/epoch#2 train/epoch evaluate notify export"
	if got := strings.Join(order, " "); got != wantOrder {
		t.Errorf("stage order %q, want %q", got, wantOrder)
	}
	train := byKey["train"]
	if train.DeltaSec == nil || *train.DeltaSec != 1.95 || train.DeltaPct == nil || *train.DeltaPct != 26 {
		t.Errorf("train change = %s, want +1.95s, +26%%", mustJSON(t, train.Change))
	}
	if got := byKey["train"].Data; got == nil || strings.Join(got.Added, ",") != "early_stop" || strings.Join(got.Changed, ",") != "best_loss" {
		t.Errorf("train data diff = %+v, want added early_stop, changed best_loss", got)
	}
	if ev := byKey["evaluate"]; !ev.StatusChanged || ev.StatusA != "ok" || ev.StatusB != "error" || ev.ErrorB == "" {
		t.Errorf("evaluate = %+v, want status ok -> error with B's error", ev)
	}
	if p := byKey["export"].Presence; p != rundiff.OnlyA {
		t.Errorf("export presence %q, want %q", p, rundiff.OnlyA)
	}
	if p := byKey["notify"].Presence; p != rundiff.OnlyB {
		t.Errorf("notify presence %q, want %q", p, rundiff.OnlyB)
	}
	if d.A.File != runFile("train-a") || d.B.Status != "failed" {
		t.Errorf("sides = %+v / %+v", d.A, d.B)
	}
}

func TestDiffUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"one file", []string{"diff", runFile("train-a")}, cli.ExitUsage},
		{"three files", []string{"diff", runFile("train-a"), runFile("train-b"), runFile("security")}, cli.ExitUsage},
		{"missing file", []string{"diff", runFile("train-a"), "testdata/runs/nope.json"}, cli.ExitFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, stagetrack(t, c.args...), c.code)
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

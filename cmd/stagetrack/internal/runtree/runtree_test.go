package runtree_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func TestFlatten(t *testing.T) {
	r := &runfile.Run{Stages: runfile.Stages{
		{Key: "a", Name: "a"},
		{Key: "t", Name: "t", Stages: runfile.Stages{
			{Key: "e", Name: "e"},
			{Key: "e#2", Name: "e", Stages: runfile.Stages{{Key: "x", Name: "x"}}},
		}},
	}}
	var got [][]any
	for _, row := range runtree.Flatten(r) {
		got = append(got, []any{row.KeyPath, row.NamePath, row.Parent, row.Depth})
	}
	b, _ := json.Marshal(got)
	want := `[["a","a","",0],["t","t","",0],["t/e","t/e","t",1],["t/e#2","t/e","t",1],["t/e#2/x","t/e/x","t/e",2]]`
	if string(b) != want {
		t.Errorf("Flatten = %s\n want %s", b, want)
	}
}

// TestPythonFile: files without status or end_time read as they should.
func TestPythonFile(t *testing.T) {
	start := time.Date(2025, 5, 5, 23, 14, 10, 0, time.UTC)
	r := &runfile.Run{StartTime: start, TotalDurationSec: 2, Stages: runfile.Stages{
		{Key: "ok", StartTime: start, DurationSec: 0.5},
		{Key: "bad", StartTime: start.Add(time.Second), DurationSec: 1.5, Error: "boom"},
	}}
	rows := runtree.Flatten(r)
	if rows[0].Status != "ok" || rows[1].Status != "error" {
		t.Errorf("statuses %q %q, want ok error", rows[0].Status, rows[1].Status)
	}
	if !rows[1].End.Equal(start.Add(2500 * time.Millisecond)) {
		t.Errorf("end %v, want start + duration", rows[1].End)
	}
	if got := runtree.RunStatus(r); got != runfile.StatusFailed {
		t.Errorf("run status %q, want failed", got)
	}
	s, e := runtree.Bounds(r, rows)
	if !s.Equal(start) || !e.Equal(start.Add(2500*time.Millisecond)) {
		t.Errorf("bounds %v..%v: want the last stage's end, past completed_at", s, e)
	}
}

func TestShortID(t *testing.T) {
	cases := map[string]string{
		"3f2c8a1e-5b7d-4c10-9e2f-6a1b2c3d4e5f": "3f2c8a1e",
		"abc":                                  "abc",
		"0123456789":                           "01234567",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			if got := runtree.ShortID(in); got != want {
				t.Errorf("ShortID(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

// TestDecidesAndFlaky: only the last attempt of a name, nested in last
// attempts, decides; it is flaky when it passed after a failed attempt.
func TestDecidesAndFlaky(t *testing.T) {
	r := &runfile.Run{Stages: runfile.Stages{
		{Key: "fetch#1", Name: "fetch", Status: runfile.StageError, Error: "timeout"},
		{Key: "fetch", Name: "fetch", Status: runfile.StageOK},
		{Key: "test#1", Name: "test", Status: runfile.StageError, Error: "exit 1"},
		{Key: "test", Name: "test", Status: runfile.StageError, Error: "exit 1"},
		{Key: "train#1", Name: "train", Status: runfile.StageError, Stages: runfile.Stages{
			{Key: "epoch", Name: "epoch", Status: runfile.StageError},
		}},
		{Key: "train", Name: "train", Status: runfile.StageOK, Stages: runfile.Stages{
			{Key: "epoch", Name: "epoch", Status: runfile.StageOK},
		}},
		{Key: "lint", Name: "lint", Status: runfile.StageOK},
	}}
	type got struct {
		Decides, Flaky bool
		Earlier        int
	}
	want := map[string]got{
		"fetch#1": {}, "fetch": {Decides: true, Flaky: true, Earlier: 1},
		"test#1": {}, "test": {Decides: true, Earlier: 1},
		"train#1": {}, "train#1/epoch": {}, "train": {Decides: true, Flaky: true, Earlier: 1},
		"train/epoch": {Decides: true}, "lint": {Decides: true},
	}
	rows := runtree.Flatten(r)
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for _, row := range rows {
		t.Run(row.KeyPath, func(t *testing.T) {
			g := got{Decides: row.Decides, Flaky: row.Flaky(), Earlier: len(row.Earlier)}
			if g != want[row.KeyPath] {
				t.Errorf("got %+v, want %+v", g, want[row.KeyPath])
			}
		})
	}
}

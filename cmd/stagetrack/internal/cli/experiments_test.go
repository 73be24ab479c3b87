package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// experiment describes one run of a machine-learning pipeline
// (preprocess, train, evaluate) for the tests of diff, compare and check.
type experiment struct {
	id       int
	args     string  // the run's args as JSON; "" for {"lr":0.1,"seed":ID}
	train    float64 // train's duration in seconds; 0 for 10
	accuracy float64 // evaluate's data {"accuracy": …}; 0 for 0.9
	stage    string  // the name of the train stage; "" for "train"
	failed   bool    // train's decisive attempt failed
	retried  bool    // a first attempt of train took 100 s and failed
	prov     string  // a "provenance" object to add to the file, as JSON
}

// write writes the experiment's run file into dir and returns its path.
func (e experiment) write(t *testing.T, dir string) string {
	t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(e.id) * time.Hour)
	args := e.args
	if args == "" {
		args = fmt.Sprintf(`{"lr":0.1,"seed":%d}`, e.id)
	}
	train, acc, name := e.train, e.accuracy, e.stage
	if train == 0 {
		train = 10
	}
	if acc == 0 {
		acc = 0.9
	}
	if name == "" {
		name = "train"
	}
	at := start
	stage := func(key, name string, sec float64, data string, status string) runfile.Stage {
		d := time.Duration(sec * float64(time.Second))
		st := runfile.Stage{Key: key, Name: name, Attempt: 1, StartTime: at, EndTime: at.Add(d), DurationSec: sec,
			Status: status, SpanID: fmt.Sprintf("%016x", at.UnixNano())}
		if data != "" {
			st.Data = json.RawMessage(data)
		}
		if status == runfile.StageError {
			st.Error = "boom"
		}
		at = at.Add(d)
		return st
	}
	r := &runfile.Run{
		RunID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", e.id), StartTime: start, Args: json.RawMessage(args),
		SchemaVersion: runfile.SchemaVersion, Name: "experiment", Status: runfile.StatusOK,
		TraceID: fmt.Sprintf("%032x", e.id+1), SpanID: fmt.Sprintf("%016x", e.id+1),
	}
	r.Stages = append(r.Stages, stage("preprocess", "preprocess", 2, `{"rows":1000}`, runfile.StageOK))
	if e.retried {
		first := stage(name+"#1", name, 100, "", runfile.StageError)
		r.Stages = append(r.Stages, first)
	}
	status := runfile.StageOK
	if e.failed {
		status, r.Status = runfile.StageError, runfile.StatusFailed
	}
	tr := stage(name, name, train, `{"loss":0.3}`, status)
	if e.retried {
		tr.Attempt = 2
	}
	r.Stages = append(r.Stages, tr)
	r.Stages = append(r.Stages, stage("evaluate", "evaluate", 1, fmt.Sprintf(`{"accuracy":%g}`, acc), runfile.StageOK))
	r.CompletedAt, r.StageCount = at, len(r.Stages)
	r.TotalDurationSec = at.Sub(start).Seconds()
	b := r.AppendIndent(nil)
	if e.prov != "" { // a writer's provenance, which this reader keeps as JSON
		b = []byte(strings.Replace(string(b), "{\n", "{\n  \"provenance\": "+e.prov+",\n", 1))
	}
	path := filepath.Join(dir, fmt.Sprintf("run-%02d.json", e.id))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

package gate_test

import (
	"encoding/json"
	"fmt"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/gate"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func ExampleCheck() {
	run := func(id string, train float64, accuracy string) *runfile.Run {
		return &runfile.Run{RunID: id, Stages: runfile.Stages{
			{Key: "train", DurationSec: train, Status: runfile.StageOK},
			{Key: "evaluate", DurationSec: 1, Status: runfile.StageOK, Data: json.RawMessage(`{"accuracy":` + accuracy + `}`)},
		}}
	}
	var baseline []*runfile.Run
	for i, sec := range []float64{9, 10, 11, 10, 10} {
		baseline = append(baseline, run(fmt.Sprint(i), sec, "0.9"))
	}
	bound, err := gate.ParseBound("evaluate.accuracy:-0.01")
	if err != nil {
		panic(err)
	}
	res := gate.Check(run("new", 30, "0.85"), baseline, gate.WithBounds(bound))
	for _, f := range res.Findings {
		fmt.Println(f.Level, f.Message)
	}
	fmt.Println("failed:", res.Failed())
	// Output:
	// error slower: stage train took 30s; baseline p95 11s over 5 runs; limit 13.75s (+25% and at least +1s)
	// error metric evaluate.accuracy is 0.85; baseline median 0.9 over 5 runs; more than 0.01 below it
	// failed: true
}

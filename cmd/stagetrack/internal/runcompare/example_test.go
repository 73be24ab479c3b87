package runcompare_test

import (
	"encoding/json"
	"fmt"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runcompare"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func ExampleBuild() {
	run := func(id, args, accuracy string, train float64) *runfile.Run {
		return &runfile.Run{RunID: id, Args: json.RawMessage(args), Stages: runfile.Stages{
			{Key: "train#1", Name: "train", DurationSec: 100, Status: runfile.StageError}, // not the deciding attempt
			{Key: "train", Name: "train", Attempt: 2, DurationSec: train, Status: runfile.StageOK},
			{Key: "evaluate", DurationSec: 1, Status: runfile.StageOK, Data: json.RawMessage(`{"accuracy":` + accuracy + `}`)},
		}}
	}
	m := runcompare.Build([]*runfile.Run{
		run("a", `{"lr":0.1,"seed":1}`, "0.91", 10),
		run("b", `{"lr":0.1,"seed":12}`, "0.85", 12),
	}, nil)
	for _, r := range m.Rows {
		fmt.Printf("%-9s %-18s %s %s differs=%v\n", r.Kind, r.Key, r.Values[0], r.Values[1], r.Differs)
	}
	// Output:
	// parameter lr                 0.1 0.1 differs=false
	// parameter seed               1 12 differs=true
	// data      evaluate.accuracy  0.91 0.85 differs=true
	// duration  train              10 12 differs=true
	// duration  evaluate           1 1 differs=false
	// duration  (run)              0 0 differs=false
}

package rundiff_test

import (
	"encoding/json"
	"fmt"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/rundiff"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func ExampleCompare() {
	a := &runfile.Run{RunID: "a", Status: "ok", Stages: runfile.Stages{
		{Key: "fetch", DurationSec: 2, Status: "ok", Data: json.RawMessage(`{"rows":10}`)},
		{Key: "load", DurationSec: 1, Status: "ok"},
	}}
	b := &runfile.Run{RunID: "b", Status: "failed", Stages: runfile.Stages{
		{Key: "fetch", DurationSec: 3, Status: "error", Error: "timeout", Data: json.RawMessage(`{"rows":12}`)},
	}}
	for _, s := range rundiff.Compare(a, b).Stages {
		switch s.Presence {
		case rundiff.Both:
			fmt.Printf("%s: %+gs (%+g%%), %s -> %s, data changed: %v\n", s.Key, *s.DeltaSec, *s.DeltaPct, s.StatusA, s.StatusB, s.Data.Changed)
		default:
			fmt.Printf("%s: %s\n", s.Key, s.Presence)
		}
	}
	// Output:
	// fetch: +1s (+50%), ok -> error, data changed: [rows]
	// load: only_a
}

package runfixture

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// Large returns a run of about n top-level stages, built directly as
// values, for measuring and comparing big runs. Variant 0 is the reference;
// any other variant is the same pipeline changed the way a later run
// changes: a stage in seven missing, a new stage after one in eleven,
// neighbours swapped in one pair of thirteen, other durations and data. Every
// fiftieth stage has two nested attempts of a step (step#1 and step).
//
// Large is safe for concurrent use.
func Large(n, variant int) *runfile.Run {
	start := epoch.Add(time.Duration(variant) * 24 * time.Hour)
	r := &runfile.Run{
		RunID:         fmt.Sprintf("00000000-0000-4000-9000-%012d", variant),
		StartTime:     start,
		SchemaVersion: runfile.SchemaVersion,
		Name:          "large",
		TraceID:       fmt.Sprintf("%032x", variant+1),
		SpanID:        fmt.Sprintf("%016x", variant+1),
	}
	at := start
	span := uint64(variant) << 32
	stage := func(key string, j int) runfile.Stage {
		span++
		d := time.Duration(1+(j*7+variant*3)%97) * time.Millisecond
		st := runfile.Stage{
			Key: key, Name: key, Attempt: 1,
			StartTime: at, EndTime: at.Add(d), DurationSec: seconds(d),
			Data:   json.RawMessage(`{"j":` + strconv.Itoa(j) + `,"v":` + strconv.Itoa(variant%3) + `}`),
			Status: runfile.StageOK, SpanID: fmt.Sprintf("%016x", span),
		}
		at = at.Add(d)
		return st
	}
	for j := 0; j < n; j++ {
		if variant != 0 && j%7 == variant%7 {
			continue
		}
		st := stage(fmt.Sprintf("stage-%06d", j), j)
		if j%50 == 0 {
			a, b := stage("step", j), stage("step", j)
			a.Key, b.Attempt = "step#1", 2
			st.Stages = runfile.Stages{a, b}
		}
		if variant != 0 && j%97 == 3 {
			st.Status, st.Error = runfile.StageError, "failed at "+strconv.Itoa(j)
		}
		r.Stages = append(r.Stages, st)
		if variant != 0 && j%11 == variant%11 {
			r.Stages = append(r.Stages, stage(fmt.Sprintf("extra-%d-%06d", variant, j), j))
		}
		if k := len(r.Stages); variant != 0 && j%13 == 0 && k >= 2 {
			r.Stages[k-2], r.Stages[k-1] = r.Stages[k-1], r.Stages[k-2]
		}
	}
	r.CompletedAt = at.Add(time.Millisecond)
	r.TotalDurationSec = seconds(r.CompletedAt.Sub(start))
	r.StageCount = len(r.Stages)
	r.Status = runfile.StatusOK
	return r
}

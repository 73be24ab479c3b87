package runfixture

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// Synthetic returns the i-th of a deterministic family of runs of one
// pipeline, built directly as values (no tracker), fast enough to make
// thousands: fetch, parse, train with three nested epochs, evaluate and
// upload, with durations that vary from run to run, evaluate failing in
// every 10th run and upload left unfinished in every 25th (either makes the
// run failed).
//
// Synthetic is safe for concurrent use.
func Synthetic(i int) *runfile.Run {
	rnd := fnv.New64a()
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(i))
	rnd.Write(seed[:])
	x := rnd.Sum64()
	jitter := func(base time.Duration, spread float64) time.Duration {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		f := float64(x%10000) / 10000 // [0,1)
		return time.Duration(float64(base) * (1 + spread*(2*f-1)))
	}

	start := epoch.Add(time.Duration(i) * time.Hour)
	r := &runfile.Run{
		RunID:         fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		StartTime:     start,
		Args:          json.RawMessage(`{"job":"nightly","n":` + strconv.Itoa(i) + `}`),
		SchemaVersion: runfile.SchemaVersion,
		Name:          "nightly",
		TraceID:       fmt.Sprintf("%016x%016x", x, ^x),
		SpanID:        fmt.Sprintf("%016x", uint64(i)+1),
	}
	at := start
	var span uint64 = 100
	stage := func(name string, d time.Duration, data string) runfile.Stage {
		span++
		d = d.Round(time.Microsecond)
		st := runfile.Stage{
			Key: name, Name: name, Attempt: 1,
			StartTime: at, EndTime: at.Add(d), DurationSec: seconds(d),
			Data: json.RawMessage(data), Status: runfile.StageOK,
			SpanID: fmt.Sprintf("%016x", uint64(i)<<16|span),
		}
		at = at.Add(d)
		return st
	}
	r.Stages = append(r.Stages,
		stage("fetch", jitter(800*time.Millisecond, 0.5), `{"bytes":1048576}`),
		stage("parse", jitter(300*time.Millisecond, 0.3), `{"rows":10000}`),
	)
	trainStart := at
	var epochs runfile.Stages
	for e := 1; e <= 3; e++ {
		st := stage("epoch", jitter(2*time.Second, 0.2), `{"loss":0.5}`)
		st.Attempt = e
		if e < 3 { // the last attempt is keyed by the plain name
			st.Key = "epoch#" + strconv.Itoa(e)
		}
		epochs = append(epochs, st)
	}
	at = trainStart
	train := stage("train", epochs[2].EndTime.Sub(trainStart), `{"epochs":3}`)
	train.Stages = epochs
	r.Stages = append(r.Stages, train)
	eval := stage("evaluate", jitter(400*time.Millisecond, 0.4), `{"accuracy":0.9}`)
	if i%10 == 9 {
		eval.Status = runfile.StageError
		eval.Error = "accuracy below threshold"
	}
	r.Stages = append(r.Stages, eval)
	upload := stage("upload", jitter(150*time.Millisecond, 0.9), `null`)
	upload.Data = nil
	if i%25 == 24 {
		upload.Status = runfile.StageUnfinished
	}
	r.Stages = append(r.Stages, upload)

	r.CompletedAt = at.Add(5 * time.Millisecond)
	r.TotalDurationSec = seconds(r.CompletedAt.Sub(start))
	r.StageCount = 8
	r.Status = runfile.StatusOK
	// As the exporter says of a run with an error or an unfinished stage:
	// failed, and why.
	switch {
	case eval.Status == runfile.StageError && upload.Status == runfile.StageUnfinished:
		r.Status, r.Error = runfile.StatusFailed, `stage "evaluate" failed: accuracy below threshold (and 1 more failed stages)`
	case eval.Status == runfile.StageError:
		r.Status, r.Error = runfile.StatusFailed, `stage "evaluate" failed: accuracy below threshold`
	case upload.Status == runfile.StageUnfinished:
		r.Status, r.Error = runfile.StatusFailed, `stage "upload" failed: did not finish`
	}
	return r
}

// seconds is d in seconds at the run file's microsecond precision, computed
// as the exporter does.
func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)/time.Microsecond) / 1e6
}

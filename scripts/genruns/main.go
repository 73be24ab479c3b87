// Command genruns writes n synthetic run files of one pipeline (ten stages
// each: runfixture.Synthetic's eight plus lint and package) into a
// directory, named by a hash of their index so that a shell glob lists them
// in no particular order, as UUID file names are. scripts/check-report.sh
// uses it to check the report of many runs.
//
//	go run ./scripts/genruns -n 1000 -dir /tmp/runs
//	go run ./scripts/genruns -n 10000 -stages 20 -dir /tmp/runs20
//
// -stages 20 appends ten more top-level stages (step01…step10, each with a
// number in its data), for the figures measured on runs of twenty stages.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"time"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

func main() {
	n := flag.Int("n", 1000, "how many runs")
	dir := flag.String("dir", "runs", "where to write them")
	stages := flag.Int("stages", 10, "stage records a run: 10, or 20")
	flag.Parse()
	if *stages != 10 && *stages != 20 {
		fmt.Fprintln(os.Stderr, "genruns: -stages is 10 or 20")
		os.Exit(2)
	}
	if err := write(*n, *dir, *stages); err != nil {
		fmt.Fprintln(os.Stderr, "genruns:", err)
		os.Exit(1)
	}
}

func write(n int, dir string, stages int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range n {
		r := tenStages(runfixture.Synthetic(i))
		if stages == 20 {
			r = moreStages(r, i)
		}
		h := fnv.New64a()
		fmt.Fprint(h, i)
		name := filepath.Join(dir, fmt.Sprintf("%016x.json", h.Sum64()))
		if err := os.WriteFile(name, r.AppendIndent(nil), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// tenStages appends lint and package after the synthetic run's stages.
func tenStages(r *runfile.Run) *runfile.Run {
	at := r.CompletedAt
	for _, name := range []string{"lint", "package"} {
		d := 120 * time.Millisecond
		r.Stages = append(r.Stages, runfile.Stage{
			Key: name, Name: name, Attempt: 1, StartTime: at, EndTime: at.Add(d),
			DurationSec: d.Seconds(), Status: runfile.StageOK, Data: json.RawMessage(`{"ok":true}`),
		})
		at = at.Add(d)
	}
	r.CompletedAt = at
	r.TotalDurationSec = at.Sub(r.StartTime).Seconds()
	r.StageCount += 2
	return r
}

// moreStages appends ten stages of 50 to 140 ms, each recording a number.
func moreStages(r *runfile.Run, i int) *runfile.Run {
	at := r.CompletedAt
	for k := 1; k <= 10; k++ {
		name := fmt.Sprintf("step%02d", k)
		d := time.Duration(50+(i*7+k*13)%90) * time.Millisecond
		r.Stages = append(r.Stages, runfile.Stage{
			Key: name, Name: name, Attempt: 1, StartTime: at, EndTime: at.Add(d),
			DurationSec: d.Seconds(), Status: runfile.StageOK,
			Data: json.RawMessage(fmt.Sprintf(`{"items":%d}`, 100+(i*k)%37)),
		})
		at = at.Add(d)
	}
	r.CompletedAt = at
	r.TotalDurationSec = at.Sub(r.StartTime).Seconds()
	r.StageCount += 10
	return r
}

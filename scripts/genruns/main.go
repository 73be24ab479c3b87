// Command genruns writes n synthetic run files of one pipeline (ten stages
// each by default: runfixture.Synthetic's eight plus lint and package; with
// -stages more, step-00, step-01 and so on after them) into a directory,
// named by a hash of their index so that a shell glob lists them in no
// particular order, as UUID file names are. scripts/check-report.sh uses it
// to check the report of many runs, scripts/bench-python.sh to measure the
// commands that read them.
//
// With -large n it writes one run of about n top-level stages
// (runfixture.Large) to DIR/large.json instead; with -variant v too, the
// same pipeline as a later run changes it, to DIR/large-v.json (the pair
// that measures diff).
//
//	go run ./scripts/genruns -n 1000 -dir /tmp/runs
//	go run ./scripts/genruns -n 1000 -stages 20 -dir /tmp/runs20
//	go run ./scripts/genruns -large 100000 -dir /tmp/large
//	go run ./scripts/genruns -large 100000 -variant 1 -dir /tmp/large
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
	stages := flag.Int("stages", 10, "stage records in each run (at least 10)")
	large := flag.Int("large", 0, "write one run of this many top-level stages instead")
	variant := flag.Int("variant", 0, "with -large: the variant of runfixture.Large (0 is the reference)")
	flag.Parse()
	var err error
	switch {
	case *large > 0:
		err = writeLarge(*large, *variant, *dir)
	case *stages < 10:
		err = fmt.Errorf("-stages must be at least 10, not %d", *stages)
	default:
		err = write(*n, *stages, *dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genruns:", err)
		os.Exit(1)
	}
}

func write(n, stages int, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range n {
		r := moreStages(tenStages(runfixture.Synthetic(i), i), stages-10, i)
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
func tenStages(r *runfile.Run, i int) *runfile.Run {
	at := r.CompletedAt
	for k, name := range []string{"lint", "package"} {
		d := 120 * time.Millisecond
		r.Stages = append(r.Stages, runfile.Stage{
			Key: name, Name: name, Attempt: 1, StartTime: at, EndTime: at.Add(d),
			DurationSec: d.Seconds(), Status: runfile.StageOK, Data: json.RawMessage(`{"ok":true}`),
			SpanID: fmt.Sprintf("%016x", uint64(i)<<16|uint64(k)|1<<14), // valid for validate
		})
		at = at.Add(d)
	}
	r.CompletedAt = at
	r.TotalDurationSec = at.Sub(r.StartTime).Seconds()
	r.StageCount += 2
	return r
}

// moreStages appends n stages step-00, step-01… after the run's stages,
// each with a little numeric data, as issue 23's 20-stage runs have.
func moreStages(r *runfile.Run, n, i int) *runfile.Run {
	at := r.CompletedAt
	for j := range n {
		name := fmt.Sprintf("step-%02d", j)
		d := time.Duration(50+(i*7+j*13)%50) * time.Millisecond
		r.Stages = append(r.Stages, runfile.Stage{
			Key: name, Name: name, Attempt: 1, StartTime: at, EndTime: at.Add(d),
			DurationSec: d.Seconds(), Status: runfile.StageOK,
			Data:   json.RawMessage(fmt.Sprintf(`{"items":%d,"ok":true}`, 100+(i+j)%17)),
			SpanID: fmt.Sprintf("%016x", uint64(i)<<16|uint64(j)|1<<15),
		})
		at = at.Add(d)
	}
	r.CompletedAt = at
	r.TotalDurationSec = at.Sub(r.StartTime).Seconds()
	r.StageCount += n
	return r
}

// writeLarge writes one run of about n top-level stages to dir/large.json,
// or dir/large-v.json for a variant v other than 0.
func writeLarge(n, variant int, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := "large.json"
	if variant != 0 {
		name = fmt.Sprintf("large-%d.json", variant)
	}
	return os.WriteFile(filepath.Join(dir, name), runfixture.Large(n, variant).AppendIndent(nil), 0o644)
}

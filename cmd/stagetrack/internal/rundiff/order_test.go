package rundiff_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/rundiff"
	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/runtree"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/benchcpu"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// quadraticOrder is the order of the stages as Compare placed them before
// issue 23 (a search of the output for every shared stage and an insert for
// every new one): a's stages, each of b's new ones right after the stage b
// showed before it. Compare must keep it exactly.
func quadraticOrder(a, b *runfile.Run) []string {
	aRows, bRows := runtree.Flatten(a), runtree.Flatten(b)
	inA := map[string]bool{}
	var out []string
	for _, r := range aRows {
		inA[r.KeyPath] = true
		out = append(out, "a:"+r.KeyPath)
	}
	last := -1
	for _, r := range bRows {
		if inA[r.KeyPath] {
			last = slices.IndexFunc(out, func(s string) bool { return s[2:] == r.KeyPath })
			continue
		}
		last++
		out = slices.Insert(out, last, "b:"+r.KeyPath)
	}
	return out
}

func order(d rundiff.Diff) []string {
	out := make([]string, 0, len(d.Stages))
	for _, s := range d.Stages {
		side := "a:"
		if s.Presence == rundiff.OnlyB {
			side = "b:"
		}
		out = append(out, side+s.Key)
	}
	return out
}

// randomRun is a run of up to 12 stages nested up to three deep, whose keys
// come from few enough letters that runs share many and repeat some (a key
// path repeated in a run is not what the exporter writes, but a file can
// say it).
func randomRun(rnd *rand.Rand) *runfile.Run {
	var stages func(depth int) runfile.Stages
	stages = func(depth int) runfile.Stages {
		var s runfile.Stages
		for range rnd.IntN(6) {
			st := runfile.Stage{Key: string(rune('a' + rnd.IntN(8))), DurationSec: float64(rnd.IntN(4)), Status: runfile.StageOK}
			if depth < 2 && rnd.IntN(4) == 0 {
				st.Stages = stages(depth + 1)
			}
			s = append(s, st)
		}
		return s
	}
	return &runfile.Run{RunID: "r", Status: runfile.StatusOK, Stages: stages(0)}
}

// TestCompareKeepsOrder holds Compare to the order of the old quadratic
// algorithm: on large runs of 2,000 stages and 3,000 random pairs under
// STAGE_TRACKER_STRESS=1 (6.8 s under -race), of 500 stages and 1,000
// pairs by default (Large's changes repeat every 7, 11 and 13 stages).
func TestCompareKeepsOrder(t *testing.T) {
	type pair struct {
		name string
		a, b *runfile.Run
	}
	large, random := 500, 1000
	if os.Getenv("STAGE_TRACKER_STRESS") == "1" {
		large, random = 2000, 3000
	}
	pairs := []pair{
		{"large, later run", runfixture.Large(large, 0), runfixture.Large(large, 1)},
		{"large, earlier run", runfixture.Large(large, 1), runfixture.Large(large, 0)},
		{"large, two later runs", runfixture.Large(large, 3), runfixture.Large(large, 8)},
		{"empty a", &runfile.Run{}, runfixture.Large(30, 1)},
		{"empty b", runfixture.Large(30, 1), &runfile.Run{}},
	}
	rnd := rand.New(rand.NewPCG(23, 1))
	for i := range random {
		pairs = append(pairs, pair{fmt.Sprintf("random %d", i), randomRun(rnd), randomRun(rnd)})
	}
	for _, p := range pairs {
		want := quadraticOrder(p.a, p.b)
		if got := order(rundiff.Compare(p.a, p.b)); !slices.Equal(got, want) {
			t.Errorf("%s: order\n got %q\nwant %q", p.name, got, want)
		}
	}
}

// BenchmarkCompare compares two runs of n stages that differ as later runs
// do (runfixture.Large: stages missing, new, swapped). Linear means 10× the
// stages in at most 12× the time.
//
//	go test -run '^$' -bench Compare -benchtime 5x ./cmd/stagetrack/internal/rundiff
func BenchmarkCompare(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		ra, rb := runfixture.Large(n, 0), runfixture.Large(n, 1)
		b.Run(fmt.Sprintf("stages=%d", n), func(b *testing.B) {
			cpu := benchcpu.Start()
			for b.Loop() {
				rundiff.Compare(ra, rb)
			}
			cpu.Report(b)
		})
	}
}

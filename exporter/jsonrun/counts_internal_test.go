package jsonrun

import (
	"fmt"
	"testing"
)

// claimedMissing counts per process: n processes of one stage each, every
// other one's stage lost, miss n/2 stages. With many processes (a CI job
// of many exec steps, or a hostile sender's many pids) it must stay
// linear; BenchmarkClaimedMissing shows it (ns/op over sizes).
func TestClaimedMissingManyProcesses(t *testing.T) {
	stages, claims := manyProcesses(10000)
	if got := claimedMissing(nil, stages, claims); got != 5000 {
		t.Errorf("claimedMissing = %d, want 5000", got)
	}
}

func BenchmarkClaimedMissing(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		stages, claims := manyProcesses(n)
		b.Run(fmt.Sprint("processes=", n), func(b *testing.B) {
			for b.Loop() {
				claimedMissing(nil, stages, claims)
			}
		})
	}
}

// manyProcesses makes n count records, one stage claimed by each of n
// processes, and the stages of every second process.
func manyProcesses(n int) (stages, claims []stageRecord) {
	for i := range n {
		p := proc{host: "h", pid: i + 1}
		claims = append(claims, stageRecord{claim: 1, proc: p})
		if i%2 == 0 {
			stages = append(stages, stageRecord{name: "s", proc: p})
		}
	}
	return stages, claims
}

package cli

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Reading a large run file holds the run decoded (about 1.2× the file)
// and what the command makes of it; the garbage collector's default
// headroom (GOGC=100) then lets the heap grow to twice that before it
// collects, which puts a command's peak memory at 4 to 6 times the file.
// TuneMemory gives the runtime a soft memory limit of three times the
// size of the large run files named on the command line, less what the
// binary itself takes, so that the collector runs before the peak goes
// past it (issue 23: peak memory reading one run file at most 3× its
// size). It is a limit on the headroom, not on the data: when a command's
// live data comes near it (stats or compare of a run of 100,000 distinct
// stages hold per-stage summaries about the run's size), the collector
// would run back to back; after each collection the limit is raised to
// keep a quarter of the live heap as headroom (followLiveHeap), GOGC=25's
// rule, instead of GOGC's default 100 %.
const (
	// tuneFrom: files smaller than this are left to the default; the
	// binary alone is about 17 MB resident.
	tuneFrom = 16 << 20
	// binaryReserve is what the process holds besides what the limit
	// counts and its overshoot: the binary's pages, about 12 MB, and the
	// heap's growth while the collector runs concurrently.
	binaryReserve = 24 << 20
)

// TuneMemory sets the runtime's soft memory limit from the sizes of the
// regular files among args before a "--" (see above); directories and
// other arguments are not looked into. A limit or GOGC the user set in the environment is
// left alone. It is for the stagetrack binary's main, before Main; it
// changes process-wide settings.
func TuneMemory(args []string) {
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		return
	}
	if limit, ok := memoryLimit(args); ok {
		debug.SetMemoryLimit(limit)
		followLiveHeap(limit)
	}
}

// followLiveHeap raises the memory limit after each garbage collection to
// at least 1.25× the live heap, so that a command whose
// live data is over the limit TuneMemory set is not collected back to
// back. It runs from a finalizer, which the runtime calls once a cycle
// (on its finalizer goroutine, for the life of the process).
func followLiveHeap(limit int64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		runtime.SetFinalizer(new([16]byte), func(*[16]byte) {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				live := int64(sample[0].Value.Uint64())
				if want := live + live/4; want > limit {
					limit = want
					debug.SetMemoryLimit(limit)
				}
			}
			arm()
		})
	}
	arm()
}

// memoryLimit is the limit TuneMemory sets for args, and whether it sets
// one: 3× the total size of the run files of at least tuneFrom bytes,
// less binaryReserve.
func memoryLimit(args []string) (int64, bool) {
	var total int64
	for _, a := range args {
		if a == "--" {
			break // what follows is a command to run (run, exec), not run files
		}
		fi, err := os.Stat(a)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() < tuneFrom {
			continue
		}
		total += fi.Size()
	}
	if total == 0 || total > math.MaxInt64/4 {
		return 0, false
	}
	return 3*total - binaryReserve, true
}

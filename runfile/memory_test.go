package runfile_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestReadRunsMemory checks what reading one large run costs in memory
// against the file's size (issue 23: every command's peak at most 3× the
// file): ReadRuns allocates at most 2.5× the file in all, the file's bytes
// included (2.3× now), and the run it returns holds at most 1.1× (1.0×).
// Before the reader read the file into a buffer of its size and sized the
// stages once, it allocated 7.3× and held 1.2× (a buffer grown by copying,
// the stages grown by appending, encoding/json's passes).
func TestReadRunsMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "large.json")
	if err := os.WriteFile(path, runfixture.Large(5_000, 0).AppendIndent(nil), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	size := float64(fi.Size())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	runs, err := runfile.ReadRuns(path)
	if err != nil || len(runs) != 1 {
		t.Fatalf("ReadRuns: %d runs, %v", len(runs), err)
	}
	runtime.ReadMemStats(&after)
	allocated := float64(after.TotalAlloc-before.TotalAlloc) / size
	runtime.GC()
	runtime.ReadMemStats(&after)
	live := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / size
	runtime.KeepAlive(runs)
	t.Logf("%.1f MB file: allocated %.2f× its size, the run holds %.2f×", size/1e6, allocated, live)
	if allocated > 2.5 {
		t.Errorf("reading allocated %.2f× the file's size; want at most 2.5×", allocated)
	}
	// 1.25×: a Stage is 336 bytes since it gained inputs, outputs and
	// tools (issue 22); the fixture's stage records are about 340 bytes.
	if live > 1.25 {
		t.Errorf("the run read holds %.2f× the file's size; want at most 1.25×", live)
	}
}

package runfile_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// largeRun is a run file of n stages, indented as the
// exporter writes it; the tests read it as ReadRuns reads files of 8 MiB
// and more (runfile.ReadRunsOffHeap), giving back a page at a time.
func largeRun(n int) []byte { return runfixture.Large(n, 0).AppendIndent(nil) }

const page = 4096

// TestReadRunsLargeSameAsDecodeRuns: a large run file is read outside the
// Go heap and its pages given back as the stages are scanned (issue 23:
// peak memory); whatever the file holds, ReadRuns returns what DecodeRuns
// of its bytes does, value and error, also when the scanner gives up after
// it has given back pages.
func TestReadRunsLargeSameAsDecodeRuns(t *testing.T) {
	run := largeRun(400)
	var compact bytes.Buffer
	if err := json.Compact(&compact, run); err != nil {
		t.Fatal(err)
	}
	last := bytes.LastIndex(run, []byte(`"attempt": 1`))
	cases := []struct {
		name string
		b    []byte
	}{
		{"a run", run},
		{"a run in white space", append(append([]byte("\n \t\r\n"), run...), "\n\n  "...)},
		{"a history of two runs", append(append(append(bytes.Clone(compact.Bytes()), '\n'), compact.Bytes()...), '\n')},
		{"an array of two runs", append(append(append(append([]byte("["), run...), ','), run...), ']')},
		{"cut short", run[:len(run)-100]},
		{"a bad field in the last stage", append(append(bytes.Clone(run[:last]), `"attempt": "1"`...), run[last+len(`"attempt": 1`):]...)},
		{"something after the run", append(bytes.Clone(run), " {}"...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.json")
			if err := os.WriteFile(path, c.b, 0o644); err != nil {
				t.Fatal(err)
			}
			got, gotErr := runfile.ReadRunsOffHeap(path, 0, page)
			want, wantErr := runfile.DecodeRuns(c.b, path)
			if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
				t.Fatalf("error %v; DecodeRuns says %v", gotErr, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ReadRuns and DecodeRuns differ: %d and %d runs", len(got), len(want))
			}
		})
	}
}

// TestReadRunsLargeAllocates: reading a large run allocates on the Go heap
// little more than the run it returns: the file's bytes are not on it
// (2.3× the file before, the bytes included).
func TestReadRunsLargeAllocates(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the file is read outside the Go heap on Linux only")
	}
	run := largeRun(2_000)
	path := filepath.Join(t.TempDir(), "run.json")
	if err := os.WriteFile(path, run, 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	runs, err := runfile.ReadRunsOffHeap(path, 0, page)
	runtime.ReadMemStats(&after)
	if err != nil || len(runs) != 1 {
		t.Fatalf("ReadRuns: %d runs, %v", len(runs), err)
	}
	allocated := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(run))
	t.Logf("%.1f MB file: allocated %.2f× its size", float64(len(run))/1e6, allocated)
	if allocated > 1.8 {
		t.Errorf("reading allocated %.2f× the file's size on the Go heap; want at most 1.8×", allocated)
	}
}

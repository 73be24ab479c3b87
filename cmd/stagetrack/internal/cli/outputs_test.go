//go:build unix

package cli_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/testsupport/runfixture"
)

// TestOutputsUnchanged runs show, diff --json, stats --json, report and
// validate over the committed run files and over generated ones (synthetic
// runs, two large runs that differ, broken files) and compares a hash of
// each command's stdout, stderr and exit code with
// testdata/outputs.sha256, recorded before the performance work of issue
// 23: faster reading and comparing must not change a byte of any output.
// diff's outputs were recorded again when issue 22 added the values that
// changed (DATA, PARAMETERS, PROVENANCE) to them.
// Run with -update to record new hashes when an output changes on purpose
// (under STAGE_TRACKER_STRESS=1, so that every output is recorded).
//
// The report and most diffs of the 3,000-stage runs are the heaviest
// cases (seconds under -race): by default the first diff of them runs, the
// rest under STAGE_TRACKER_STRESS=1; every output that runs must match.
func TestOutputsUnchanged(t *testing.T) {
	stress := os.Getenv("STAGE_TRACKER_STRESS") == "1"
	dir := t.TempDir()
	var committed []string // copied, so that every path is the same in every run
	for _, f := range []string{"runs/train-a.json", "runs/train-b.json", "runs/security.json",
		"v1/train-a.json", "v1/train-b.json", "v1/retried.json", "v1/retried-v2.json",
		"wide/cjk.json", "wide/cjk-b.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
		committed = append(committed, f)
	}
	hashes := filepath.Join(mustAbs(t, "testdata"), "outputs.sha256")
	t.Chdir(dir)
	synth := "synthetic"
	if err := os.Mkdir(synth, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSynthetic(t, synth, 60)
	write := func(name string, b []byte) string {
		t.Helper()
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	largeA := write("large-a.json", runfixture.Large(3000, 0).AppendIndent(nil))
	largeB := write("large-b.json", runfixture.Large(3000, 1).AppendIndent(nil))
	largeC := write("large-c.json", runfixture.Large(3000, 5).AppendIndent(nil))
	s0, s9 := runfixture.Synthetic(0).AppendIndent(nil), runfixture.Synthetic(9).AppendIndent(nil)
	history := write("history.jsonl", slices.Concat([]byte(compact(t, s0)), []byte("\n"), []byte(compact(t, s9)), []byte("\n")))
	oneLine := write("one-line.json", append([]byte(compact(t, s0)), '\n'))
	array := write("array.json", slices.Concat([]byte("[\n"), s0, []byte(",\n"), s9, []byte("\n]\n")))
	broken := write("broken.json", s0[:len(s0)/2])
	badStatus := write("bad-status.json", []byte(strings.Replace(string(s9), `"status": "error"`, `"status": "weird"`, 1)))
	badTime := write("bad-time.json", []byte(strings.Replace(string(s0), `"start_time": "2025`, `"start_time": "yesterday 2025`, 2)))
	trailing := write("trailing.json", slices.Concat(s0, []byte("\n}\n")))
	twoValues := write("two-values.json", slices.Concat(s0, s9))

	generated := []string{largeA, largeB, history, oneLine, array, broken, badStatus, badTime, trailing, twoValues}

	type invocation struct {
		name  string
		args  []string
		heavy bool // only under STAGE_TRACKER_STRESS=1
	}
	large := func(f string) bool { return f == largeA || f == largeB || f == largeC }
	var cases []invocation
	for _, f := range slices.Concat(committed, generated) {
		base := f
		cases = append(cases,
			invocation{"show " + base, []string{"show", f}, false},
			invocation{"validate " + base, []string{"validate", f}, false},
			invocation{"validate --strict " + base, []string{"validate", "--strict", f}, false},
			invocation{"stats --json " + base, []string{"stats", "--json", f}, false},
			invocation{"report " + base, []string{"report", "-o", "-", f}, large(f)},
		)
	}
	pairs := [][2]string{
		{"runs/train-a.json", "runs/train-b.json"}, {"runs/train-b.json", "runs/train-a.json"},
		{"runs/train-a.json", "runs/security.json"}, {"v1/train-a.json", "v1/train-b.json"},
		{"v1/retried.json", "v1/retried-v2.json"}, {"wide/cjk.json", "wide/cjk-b.json"},
		{largeA, largeB}, {largeB, largeA}, {largeB, largeC}, {largeA, largeA},
		{filepath.Join(synth, runfixture.Synthetic(3).RunID+".json"), filepath.Join(synth, runfixture.Synthetic(9).RunID+".json")},
	}
	for i, p := range pairs {
		name := "diff --json " + p[0] + " " + p[1]
		heavy := large(p[0]) && i != slices.IndexFunc(pairs, func(p [2]string) bool { return large(p[0]) })
		cases = append(cases, invocation{name, []string{"diff", "--json", p[0], p[1]}, heavy},
			invocation{strings.Replace(name, " --json", "", 1), []string{"diff", p[0], p[1]}, heavy})
	}
	cases = append(cases,
		invocation{"stats --json synthetic", []string{"stats", "--json", synth}, false},
		invocation{"stats synthetic", []string{"stats", synth}, false},
		invocation{"stats --json runs", []string{"stats", "--json", "runs"}, false},
	)
	files, err := filepath.Glob(filepath.Join(synth, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases,
		invocation{"validate synthetic/*", append([]string{"validate"}, files...), false},
		invocation{"report synthetic/*", append([]string{"report", "-o", "-"}, files...), false},
		invocation{"show synthetic/*", append([]string{"show"}, files...), false},
	)

	var got strings.Builder
	ran := 0
	for _, c := range cases {
		if c.heavy && !stress && !*update {
			continue
		}
		ran++
		r := stagetrack(t, c.args...)
		h := sha256.New()
		fmt.Fprintf(h, "%d\x00%s\x00%s", r.code, r.stdout, r.stderr)
		fmt.Fprintf(&got, "%x  %s\n", h.Sum(nil), c.name)
	}
	path := hashes
	if *update {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]string{} // name -> the line recorded for it
	wantLines := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	for _, l := range wantLines {
		_, name, _ := strings.Cut(l, "  ")
		recorded[name] = l
	}
	if len(recorded) != len(cases) {
		t.Fatalf("%d outputs, %s records %d", len(cases), path, len(recorded))
	}
	for _, l := range strings.Split(strings.TrimSuffix(got.String(), "\n"), "\n") {
		_, name, _ := strings.Cut(l, "  ")
		if recorded[name] != l {
			t.Errorf("output changed: got %q, recorded %q", l, recorded[name])
		}
	}
	t.Logf("%d of %d outputs unchanged (the rest under STAGE_TRACKER_STRESS=1)", ran, len(cases))
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

//go:build unix

package cli_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/cmd/stagetrack/internal/cli"
	"github.com/stage-tracker/stage-tracker/runfile"
)

// TestRetriedStagePythonReadsLastAttempt: under stagetrack run, a stage
// that failed and passed on retry is, to a Python program written for the
// Python stage-tracker, the attempt that passed: stages["flaky"]["error"]
// is None, as the original's overwrite of stages[name] left it (issue 19,
// point 4). The failed attempt is stages["flaky#1"].
func TestRetriedStagePythonReadsLastAttempt(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	bin := buildBinaries(t)
	work := t.TempDir()
	// Fails the first time (no marker yet), passes the second.
	flaky := `if [ -e marker ]; then exit 0; fi; touch marker; echo flaky >&2; exit 1`
	r := runAsUser(t, work, userEnv(), bin.stagetrack, "run", "--", "sh", "-c",
		`"$0" exec --stage flaky --retry 2 -- sh -c "$1"`, bin.stagetrack, flaky)
	if r.code != 0 {
		t.Fatalf("stagetrack run: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	path, _ := onlyRunFile(t, filepath.Join(work, "runs"))
	// Only the standard library, as a user of the Python tool would read it.
	const script = `import json, sys
run = json.load(open(sys.argv[1], encoding="utf-8"))
stages = run["stages"]
print(repr(stages["flaky"]["error"]))
print(repr(stages["flaky#1"]["error"]))
print(stages["flaky"]["attempt"], stages["flaky"]["status"], run["status"], run["schema_version"])
print(list(stages))
`
	out, err := exec.CommandContext(t.Context(), py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	want := "None\n'exit status 1'\n2 ok ok 2\n['flaky#1', 'flaky']\n"
	if string(out) != want {
		t.Errorf("python3 reads\n%s\nwant\n%s", out, want)
	}
}

// TestVersion1FilesReadAsVersion2: a file of schema_version 1 (testdata/v1:
// train-a and train-b as the version-1 exporter wrote them, and retried.json
// written by hand, with retries at two levels and a stage literally named
// like a version-2 key) reads, in every command, with the keys of its
// version-2 equivalent: show, diff, stats, report and validate print the
// same for both, but for the file names.
func TestVersion1FilesReadAsVersion2(t *testing.T) {
	v1 := func(name string) string { return filepath.Join("testdata", "v1", name+".json") }
	pairs := []struct {
		name   string
		v1, v2 []string
	}{
		{"train-a", []string{v1("train-a")}, []string{runFile("train-a")}},
		{"train-a and train-b", []string{v1("train-a"), v1("train-b")}, []string{runFile("train-a"), runFile("train-b")}},
		{"retried", []string{v1("retried")}, []string{v1("retried-v2")}},
	}
	commands := []struct {
		name  string
		args  []string
		pairs bool // takes two files
	}{
		{name: "show", args: []string{"show", "--width", "100"}},
		{name: "stats", args: []string{"stats", "--json"}},
		{name: "report junit", args: []string{"report", "--format", "junit", "-o", "-"}},
		{name: "validate", args: []string{"validate"}},
		{name: "diff", args: []string{"diff", "--json"}, pairs: true},
	}
	// neutral replaces the files' names, the one thing that may differ.
	neutral := func(out string, files []string) string {
		for i, f := range files {
			out = strings.ReplaceAll(out, f, "FILE"+string(rune('A'+i)))
		}
		return out
	}
	for _, p := range pairs {
		for _, c := range commands {
			if c.pairs != (len(p.v1) == 2) {
				continue
			}
			t.Run(p.name+"/"+c.name, func(t *testing.T) {
				a := stagetrack(t, append(append([]string{}, c.args...), p.v1...)...)
				b := stagetrack(t, append(append([]string{}, c.args...), p.v2...)...)
				wantCode(t, a, cli.ExitOK)
				wantCode(t, b, cli.ExitOK)
				if ga, gb := neutral(a.stdout, p.v1), neutral(b.stdout, p.v2); ga != gb {
					t.Errorf("version 1:\n%s\nversion 2:\n%s", ga, gb)
				}
			})
		}
	}

	// Read as a library: the keys, attempts and the stages they key.
	for _, p := range pairs {
		for i := range p.v1 {
			a, err := runfile.ReadFile(p.v1[i])
			if err != nil {
				t.Fatal(err)
			}
			b, err := runfile.ReadFile(p.v2[i])
			if err != nil {
				t.Fatal(err)
			}
			if a.SchemaVersion != 1 || b.SchemaVersion != 2 {
				t.Errorf("%s: schema_version %d and %d; want 1 and 2, as the files say", p.v1[i], a.SchemaVersion, b.SchemaVersion)
			}
			a.SchemaVersion = b.SchemaVersion
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Errorf("%s read as\n%s\nwant, as %s\n%s", p.v1[i], ja, p.v2[i], jb)
			}
		}
	}

	// diff of a version-1 file with its version-2 equivalent: the same
	// stages, all matched, none changed.
	r := stagetrack(t, "diff", "--json", v1("retried"), v1("retried-v2"))
	wantCode(t, r, cli.ExitOK)
	var d struct {
		Stages []struct {
			Key           string `json:"key"`
			Presence      string `json:"presence"`
			StatusChanged bool   `json:"status_changed"`
		} `json:"stages"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range d.Stages {
		keys = append(keys, s.Key)
		if s.Presence != "both" || s.StatusChanged {
			t.Errorf("stage %s: presence %q, status changed %v; want both, unchanged", s.Key, s.Presence, s.StatusChanged)
		}
	}
	if got, want := strings.Join(keys, " "), "flaky#1 flaky parse#1 parse#2 parse release release/upload#1 release/upload"; got != want {
		t.Errorf("diff keys %q; want %q", got, want)
	}
}

//go:build unix

package cli_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stage-tracker/stage-tracker/runfile"
	"github.com/stage-tracker/stage-tracker/tracker"
)

// gitWork makes a git repository with a committed file and a modified
// one, makes it the working directory, and returns its HEAD.
func gitWork(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "gc.auto=0"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	os.WriteFile(filepath.Join(dir, "committed.txt"), []byte("v1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "modified.txt"), []byte("v1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("runs/\n"), 0o644)
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "init")
	os.WriteFile(filepath.Join(dir, "modified.txt"), []byte("v2\n"), 0o644)
	t.Chdir(dir)
	return git("rev-parse", "HEAD")
}

// run and exec (outside a run) record the code version of the repository
// they run in, the command they run, and the parameters as the run's args.
func TestRunCapturesProvenance(t *testing.T) {
	outsideRun(t)
	tests := []struct {
		name     string
		args     []string
		wantArgs string
		command  []string
	}{
		{name: "run with params", args: []string{"run", "-q", "--dir", "runs", "--param", "lr=0.1", "--param", "seed=12", "--param", "model=resnet", "--", "true"},
			wantArgs: `{"lr":0.1,"model":"resnet","seed":12}`, command: []string{"true"}},
		{name: "run with --args @file and a param", args: []string{"run", "-q", "--dir", "runs", "--args", "@params.json", "--param", "seed=13", "--", "true"},
			wantArgs: `{"lr":0.5,"seed":13}`, command: []string{"true"}},
		{name: "exec outside a run", args: []string{"exec", "--dir", "runs", "--", "sh", "-c", "exit 0"},
			wantArgs: `null`, command: []string{"sh", "-c", "exit 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			head := gitWork(t)
			os.WriteFile("params.json", []byte(`{"lr": 0.5, "seed": 1}`), 0o644)
			r := inProcess(t, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			_, rf := onlyRunFile(t, "runs")
			p := rf.Provenance
			if p == nil || p.Code == nil {
				t.Fatalf("no code in the provenance: %+v", p)
			}
			if p.Code.Commit != head || !p.Code.Dirty || p.Code.Branch != "main" || p.Code.Untracked != 1 {
				t.Errorf("code %+v, want %s on main, dirty, params.json untracked", p.Code, head)
			}
			if strings.Join(p.Command, " ") != strings.Join(tc.command, " ") {
				t.Errorf("command %q, want %q", p.Command, tc.command)
			}
			if wd, _ := os.Getwd(); p.WorkingDir != wd {
				t.Errorf("working dir %q, want %q", p.WorkingDir, wd)
			}
			if tc.wantArgs != "null" {
				if got := compact(t, rf.Args); got != tc.wantArgs {
					t.Errorf("args %s, want %s", got, tc.wantArgs)
				}
			}
		})
	}
}

func TestParamErrors(t *testing.T) {
	outsideRun(t)
	t.Chdir(t.TempDir())
	os.WriteFile("list.json", []byte(`[1]`), 0o644)
	os.WriteFile("bad.json", []byte(`{`), 0o644)
	tests := []struct {
		name string
		args []string
	}{
		{name: "not KEY=VALUE", args: []string{"--param", "novalue"}},
		{name: "args not an object", args: []string{"--args", "@list.json", "--param", "a=1"}},
		{name: "args file not JSON", args: []string{"--args", "@bad.json"}},
		{name: "args file missing", args: []string{"--args", "@nope.json"}},
		{name: "unknown capture part", args: []string{"--capture", "code,disk"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := inProcess(t, append(append([]string{"run", "-q", "--dir", "runs"}, tc.args...), "--", "true")...)
			if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
				t.Errorf("exit %d stderr %q; want 2 and one line", r.code, r.stderr)
			}
		})
	}
}

// exec --input records each file's SHA-256 as it was before CMD ran,
// --output as CMD left it; globs and directories name several; a hostile
// file name stays valid JSON.
func TestExecInputOutput(t *testing.T) {
	outsideRun(t)
	t.Setenv("STAGE_TRACKER_HASH_CACHE", t.TempDir())
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	hostile := "we\"ird\x01\x1b[2J\u2028.csv"
	tests := []struct {
		name    string
		args    []string
		inputs  map[string]string // path → content it had
		outputs map[string]string
		warn    bool
	}{
		{name: "data.csv", args: []string{"--input", "data.csv"}, inputs: map[string]string{"data.csv": "a,b\n1,2\n"}},
		{name: "glob and directory", args: []string{"--input", "*.csv", "--input", "dir"},
			inputs: map[string]string{"data.csv": "a,b\n1,2\n", hostile: "x", "dir/one": "1", "dir/sub/two": "2"}},
		{name: "output written by CMD", args: []string{"--input", "data.csv", "--output", "model.bin"},
			inputs: map[string]string{"data.csv": "a,b\n1,2\n"}, outputs: map[string]string{"model.bin": "weights\n"}},
		{name: "missing input warns", args: []string{"--input", "nope.csv"}, inputs: map[string]string{"nope.csv": ""}, warn: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			os.WriteFile("data.csv", []byte("a,b\n1,2\n"), 0o644)
			os.WriteFile(hostile, []byte("x"), 0o644)
			os.MkdirAll("dir/sub", 0o755)
			os.WriteFile("dir/one", []byte("1"), 0o644)
			os.WriteFile("dir/sub/two", []byte("2"), 0o644)
			args := append([]string{"exec", "--dir", "runs", "--stage", "train"}, tc.args...)
			// CMD changes data.csv: the input is what it was before.
			r := inProcess(t, append(args, "--", "sh", "-c", "printf 'weights\\n' > model.bin; echo changed > data.csv")...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if got := strings.Contains(r.stderr, "warning: --input"); got != tc.warn {
				t.Errorf("warning %v, want %v: %q", got, tc.warn, r.stderr)
			}
			path, rf := onlyRunFile(t, "runs")
			if b, _ := os.ReadFile(path); !json.Valid(b) {
				t.Fatalf("not valid JSON:\n%s", b)
			}
			st := rf.Stages[0]
			check := func(what string, got []runfile.File, want map[string]string) {
				if len(got) != len(want) {
					t.Fatalf("%s %+v, want %d files", what, got, len(want))
				}
				for _, f := range got {
					content, ok := want[f.Path]
					switch {
					case !ok:
						t.Errorf("%s: %q not expected", what, f.Path)
					case f.Path == "nope.csv":
						if f.SHA256 != "" || !f.ModTime.IsZero() {
							t.Errorf("missing file recorded as %+v", f)
						}
					case f.SHA256 != sum(content) || f.Size != int64(len(content)) || f.ModTime.IsZero():
						t.Errorf("%s %q: %+v, want sha256 %s of %d bytes", what, f.Path, f, sum(content), len(content))
					}
				}
			}
			check("inputs", st.Inputs, tc.inputs)
			check("outputs", st.Outputs, tc.outputs)
		})
	}
}

// exec records the version of the interpreter its command runs.
func TestExecInterpreterVersion(t *testing.T) {
	outsideRun(t)
	// A python3 of its own, first on PATH: fast and with a known version.
	bin := t.TempDir()
	script := "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Python 3.99.1'; fi\n"
	if err := os.WriteFile(filepath.Join(bin, "python3"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	tests := []struct {
		name  string
		args  []string
		tools map[string]string
	}{
		{name: "python", args: []string{"--", "python3", "-c", "pass"}, tools: map[string]string{"python": "Python 3.99.1"}},
		{name: "--tool-version", args: []string{"--tool-version", "python3", "--", "true"}, tools: map[string]string{"python3": "Python 3.99.1"}},
		{name: "not an interpreter", args: []string{"--", "true"}},
		{name: "--capture none", args: []string{"--capture", "none", "--", "python3", "-c", "pass"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			r := inProcess(t, append([]string{"exec", "--dir", "runs"}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			_, rf := onlyRunFile(t, "runs")
			if got := rf.Stages[0].Tools; !maps.Equal(got, tc.tools) {
				t.Errorf("tools %q, want %q", got, tc.tools)
			}
			if tc.name == "--capture none" && rf.Provenance != nil {
				t.Errorf("provenance %+v, want none", rf.Provenance)
			}
		})
	}
}

// start captures the job's provenance into its journal, with only the
// allow-listed variables; finish records it, not its own.
func TestStartFinishProvenance(t *testing.T) {
	outsideRun(t)
	head := gitWork(t)
	const secret = "s3cr3t-start-value"
	t.Setenv("H22P_SECRET_NOT_LISTED", secret)
	t.Setenv("H22P_LISTED", "yes")
	r := inProcess(t, "start", "--dir", "runs", "--env", "H22P_LIST*", "--param", "seed=12")
	if r.code != 0 {
		t.Fatalf("start: exit %d: %s", r.code, r.stderr)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		vars[k] = strings.Trim(v, "'")
	}
	journalBytes, err := os.ReadFile(vars[tracker.EnvJournal])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(journalBytes, []byte(secret)) || !bytes.Contains(journalBytes, []byte(`"H22P_LISTED":"yes"`)) {
		t.Errorf("journal:\n%s", journalBytes)
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	t.Chdir(t.TempDir()) // finish runs elsewhere: the provenance stays start's
	r = inProcess(t, "finish", "-q")
	if r.code != 0 {
		t.Fatalf("finish: exit %d: %s", r.code, r.stderr)
	}
	path := strings.TrimSpace(r.stdout)
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte(secret)) {
		t.Errorf("the run file holds the unlisted variable:\n%s", b)
	}
	rf, err := runfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := rf.Provenance; p == nil || p.Code == nil || p.Code.Commit != head || !p.Code.Dirty || p.Env["H22P_LISTED"] != "yes" {
		t.Errorf("provenance %+v, want start's: %s dirty, H22P_LISTED", p, head)
	}
	if compact(t, rf.Args) != `{"seed":12}` {
		t.Errorf("args %s", rf.Args)
	}
}

package provenance_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stage-tracker/stage-tracker/internal/provenance"
)

// gitRepo makes a repository in a temporary directory with a.txt and b.txt
// committed, and returns it and the commit.
func gitRepo(t *testing.T) (dir, commit string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	dir = t.TempDir()
	for name, body := range map[string]string{"a.txt": "a\n", "b.txt": "b\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, dir, "init", "-q", "-b", "main")
	gitIn(t, dir, "add", ".")
	gitIn(t, dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
	return dir, strings.TrimSpace(gitIn(t, dir, "rev-parse", "HEAD"))
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestGitState(t *testing.T) {
	tests := []struct {
		name      string
		change    func(t *testing.T, dir string)
		dirty     bool
		untracked int
	}{
		{name: "clean", change: func(*testing.T, string) {}},
		{name: "modified", dirty: true, change: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "b.txt"), []byte("b changed\n"), 0o644)
		}},
		{name: "untracked only", untracked: 2, change: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "new.txt"), nil, 0o644)
			os.MkdirAll(filepath.Join(dir, "newdir", "deep"), 0o755)
			os.WriteFile(filepath.Join(dir, "newdir", "deep", "x"), nil, 0o644)
		}},
		{name: "staged rename", dirty: true, change: func(t *testing.T, dir string) {
			gitIn(t, dir, "mv", "a.txt", "renamed \"a\".txt")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, commit := gitRepo(t)
			tc.change(t, dir)
			c := provenance.GitState(t.Context(), dir)
			if c == nil {
				t.Fatal("no code state in a repository")
			}
			if c.VCS != "git" || c.Commit != commit || c.Branch != "main" || c.Dirty != tc.dirty || c.Untracked != tc.untracked {
				t.Errorf("got %+v, want commit %s, branch main, dirty %v, untracked %d", c, commit, tc.dirty, tc.untracked)
			}
			if !tc.dirty {
				if c.DiffSHA256 != "" {
					t.Errorf("diff_sha256 %q of a tree without changes", c.DiffSHA256)
				}
				return
			}
			sum := sha256.Sum256([]byte(gitIn(t, dir, "diff", "HEAD", "--binary", "--no-color", "--no-ext-diff", "--no-textconv")))
			if want := hex.EncodeToString(sum[:]); c.DiffSHA256 != want {
				t.Errorf("diff_sha256 %s, want %s (the diff's SHA-256)", c.DiffSHA256, want)
			}
		})
	}
}

// Outside a repository there is no code state at all.
func TestGitStateOutsideARepository(t *testing.T) {
	t.Setenv("GIT_CEILING_DIRECTORIES", os.TempDir())
	if c := provenance.GitState(t.Context(), t.TempDir()); c != nil {
		t.Errorf("outside a repository: %+v, want nil", c)
	}
}

// countingHasher counts the files the hasher opens to read.
func countingHasher(cache string, reads *atomic.Int64) *provenance.Hasher {
	return &provenance.Hasher{CacheDir: cache, Open: func(name string) (io.ReadCloser, error) {
		reads.Add(1)
		return os.Open(name)
	}}
}

// The cache spares the read of a file whose path, size, mtime and inode
// did not change, and reads again when any of them did.
func TestHashCacheDoesNotReReadUnchangedFile(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	tests := []struct {
		name   string
		change func(t *testing.T, path string)
		reads  int64 // for the second Files
	}{
		{name: "unchanged", change: func(*testing.T, string) {}, reads: 0},
		{name: "content and size", reads: 1, change: func(t *testing.T, path string) {
			os.WriteFile(path, []byte("longer content"), 0o644)
			os.Chtimes(path, old, old)
		}},
		{name: "mtime", reads: 1, change: func(t *testing.T, path string) {
			later := old.Add(time.Minute)
			os.Chtimes(path, later, later)
		}},
		{name: "replaced: same size and mtime, another inode", reads: 1, change: func(t *testing.T, path string) {
			tmp := path + ".new"
			os.WriteFile(tmp, []byte("DATA"), 0o644)
			os.Chtimes(tmp, old, old)
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "data.csv")
			os.WriteFile(path, []byte("data"), 0o644)
			os.Chtimes(path, old, old)
			var reads atomic.Int64
			h := countingHasher(filepath.Join(dir, "cache"), &reads)
			first, err := h.Files(t.Context(), []string{path})
			if err != nil || len(first) != 1 || reads.Load() != 1 {
				t.Fatalf("first: %+v, %v, %d reads", first, err, reads.Load())
			}
			tc.change(t, path)
			second, err := h.Files(t.Context(), []string{path})
			if err != nil || len(second) != 1 {
				t.Fatalf("second: %+v, %v", second, err)
			}
			if got := reads.Load() - 1; got != tc.reads {
				t.Errorf("second Files read the file %d times, want %d", got, tc.reads)
			}
			content, _ := os.ReadFile(path)
			sum := sha256.Sum256(content)
			if want := hex.EncodeToString(sum[:]); second[0].SHA256 != want {
				t.Errorf("sha256 %s, want %s", second[0].SHA256, want)
			}
		})
	}
}

// A file modified in the last two seconds is not cached: within one mtime
// tick a change of the same size would look unchanged.
func TestHashCacheSkipsFreshFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fresh")
	os.WriteFile(path, []byte("x"), 0o644)
	var reads atomic.Int64
	h := countingHasher(filepath.Join(dir, "cache"), &reads)
	for range 2 {
		if _, err := h.Files(t.Context(), []string{path}); err != nil {
			t.Fatal(err)
		}
	}
	if reads.Load() != 2 {
		t.Errorf("read %d times, want 2", reads.Load())
	}
}

func TestFilesPatterns(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a.csv", "b.csv", "c.txt", "d/x.bin", "d/e/y.bin"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte(p), 0o644)
	}
	j := func(p string) string { return filepath.Join(dir, p) }
	tests := []struct {
		name     string
		patterns []string
		want     []string
		wantErr  bool
	}{
		{name: "file", patterns: []string{j("c.txt")}, want: []string{j("c.txt")}},
		{name: "glob", patterns: []string{j("*.csv")}, want: []string{j("a.csv"), j("b.csv")}},
		{name: "directory", patterns: []string{j("d")}, want: []string{j("d/e/y.bin"), j("d/x.bin")}},
		{name: "each once", patterns: []string{j("a.csv"), j("*.csv")}, want: []string{j("a.csv"), j("b.csv")}},
		{name: "missing", patterns: []string{j("nope")}, want: []string{j("nope")}, wantErr: true},
		{name: "glob without match", patterns: []string{j("*.parquet")}, wantErr: true},
	}
	h := &provenance.Hasher{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files, err := h.Files(t.Context(), tc.patterns)
			if (err != nil) != tc.wantErr {
				t.Errorf("error %v, want one: %v", err, tc.wantErr)
			}
			var got []string
			for _, f := range files {
				got = append(got, f.Path)
				if f.Path != j("nope") && (len(f.SHA256) != 64 || f.ModTime.IsZero()) {
					t.Errorf("%s: no digest or mtime: %+v", f.Path, f)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("files %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEnvAllowList(t *testing.T) {
	environ := []string{"CUDA_VISIBLE_DEVICES=0", "CUDA_HOME=/cuda", "HOME=/home/me", "GITHUB_TOKEN=ghp_x",
		"SECRET=s", "OMP_NUM_THREADS=4", "WEIRD=a\x00\x1b\"\n", "NOEQUALS"}
	tests := []struct {
		name     string
		patterns []string
		secret   func(string) bool
		want     map[string]string
	}{
		{name: "nothing allowed", patterns: nil, want: nil},
		{name: "glob", patterns: []string{"CUDA_*"}, want: map[string]string{"CUDA_VISIBLE_DEVICES": "0", "CUDA_HOME": "/cuda"}},
		{name: "secret names redacted", patterns: []string{"GITHUB_TOKEN", "OMP_NUM_THREADS"}, want: map[string]string{"GITHUB_TOKEN": provenance.Redacted, "OMP_NUM_THREADS": "4"}},
		{name: "configured redaction", patterns: []string{"OMP_*"}, secret: func(n string) bool { return n == "OMP_NUM_THREADS" }, want: map[string]string{"OMP_NUM_THREADS": provenance.Redacted}},
		{name: "control characters kept", patterns: []string{"WEIRD"}, want: map[string]string{"WEIRD": "a\x00\x1b\"\n"}},
		{name: "bad glob matches only itself", patterns: []string{"[", "NOEQUALS"}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := provenance.Env(environ, tc.patterns, tc.secret)
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestPatterns(t *testing.T) {
	if got := strings.Join(provenance.Patterns(" CUDA_*, OMP_NUM_THREADS\tX,,"), "|"); got != "CUDA_*|OMP_NUM_THREADS|X" {
		t.Errorf("got %q", got)
	}
}

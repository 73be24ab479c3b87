// Package gitrepo makes git repositories for tests and benchmarks of what
// capture costs.
package gitrepo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Large returns a git repository in a temporary directory holding n
// committed files, 100 a directory, one of them then modified. Its files
// are older than its index, as in a repository worked in: files written in
// the index's second would be read again by every git status (racily
// clean entries). It skips tb when git is not on PATH.
func Large(tb testing.TB, n int) string {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("git is not on PATH")
	}
	repo := tb.TempDir()
	old := time.Now().Add(-time.Hour)
	for i := range n {
		dir := filepath.Join(repo, fmt.Sprintf("d%03d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("f%05d.txt", i))
		if err := os.WriteFile(path, fmt.Appendf(nil, "file %d\n", i), 0o644); err != nil {
			tb.Fatal(err)
		}
		if err := os.Chtimes(path, old, old); err != nil {
			tb.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "files"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo, "-c", "gc.auto=0", "-c", "maintenance.auto=false"}, args...)...).CombinedOutput(); err != nil {
			tb.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "d000", "f00000.txt"), []byte("modified\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return repo
}

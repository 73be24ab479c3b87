package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMemoryLimit: the soft memory limit is 3× the size of the large run
// files named (less what the binary takes), none for small files,
// directories or names that are not files (issue 23: peak memory reading
// one run file at most 3× its size).
func TestMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, size int64) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(size); err != nil { // sparse: no disk used
			t.Fatal(err)
		}
		return p
	}
	small, big, big2 := file("small.json", 1<<20), file("big.json", 40<<20), file("big2.json", 20<<20)
	cases := []struct {
		name  string
		args  []string
		limit int64
		ok    bool
	}{
		{"no files", []string{"show", "latest"}, 0, false},
		{"a small file", []string{"show", small}, 0, false},
		{"a directory", []string{"stats", dir}, 0, false},
		{"a large file", []string{"show", "--width", "80", big}, 3*(40<<20) - binaryReserve, true},
		{"a command after --", []string{"exec", "--stage", "x", "--", "cat", big}, 0, false},
		{"two large files and a small one", []string{"diff", big, big2, small}, 3*(60<<20) - binaryReserve, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			limit, ok := memoryLimit(c.args)
			if limit != c.limit || ok != c.ok {
				t.Errorf("memoryLimit = %d, %v; want %d, %v", limit, ok, c.limit, c.ok)
			}
		})
	}
}

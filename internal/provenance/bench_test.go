package provenance_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/provenance"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/benchcpu"
	"github.com/stage-tracker/stage-tracker/internal/testsupport/gitrepo"
)

// BenchmarkCodeState compares GitState, through the git command, with the
// least a Go library must do for the same answer in the same repository of
// 10,000 files: walk the work tree and lstat every file (before it reads
// the index, compares, or hashes anything).
//
//	go test -run '^$' -bench CodeState -benchtime 20x ./internal/provenance
func BenchmarkCodeState(b *testing.B) {
	repo := gitrepo.Large(b, 10_000)
	b.Run("git", func(b *testing.B) {
		cpu := benchcpu.StartWithChildren()
		for b.Loop() {
			if c := provenance.GitState(b.Context(), repo); c == nil || !c.Dirty {
				b.Fatalf("state %+v, want a dirty tree", c)
			}
		}
		cpu.Report(b)
	})
	b.Run("Go walk and lstat only", func(b *testing.B) {
		cpu := benchcpu.StartWithChildren()
		for b.Loop() {
			n := 0
			err := filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
				switch {
				case err != nil:
					return err
				case d.IsDir() && d.Name() == ".git":
					return filepath.SkipDir
				case !d.IsDir():
					if _, err := os.Lstat(p); err != nil {
						return err
					}
					n++
				}
				return nil
			})
			if err != nil || n != 10_000 {
				b.Fatalf("%d files, %v", n, err)
			}
		}
		cpu.Report(b)
	})
}

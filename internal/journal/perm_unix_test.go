//go:build unix

package journal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/journal"
)

// TestCreateModeWhateverTheUmask: a journal is 0600 whatever the umask
// and whatever the run file's mode: it holds what the run file will and
// what joined processes append, and another local user read it at 0644.
// Not parallel: the umask is the process's.
func TestCreateModeWhateverTheUmask(t *testing.T) {
	for _, tc := range []struct {
		umask int
		perm  os.FileMode
	}{
		{0o000, 0o644},
		{0o022, 0o644},
		{0o000, 0o666},
		{0o277, 0o600}, // would leave the owner unable to append
	} {
		t.Run(fmt.Sprintf("umask %04o perm %04o", tc.umask, tc.perm), func(t *testing.T) {
			old := syscall.Umask(tc.umask)
			defer syscall.Umask(old)
			for _, sync := range []bool{false, true} {
				path := filepath.Join(t.TempDir(), "r.journal")
				f, err := journal.Create(path, tc.perm, sync)
				if err != nil {
					t.Fatal(err)
				}
				f.Close()
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != journal.Perm {
					t.Errorf("sync %v: mode %04o, want %04o", sync, fi.Mode().Perm(), journal.Perm)
				}
			}
		})
	}
}

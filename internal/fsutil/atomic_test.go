package fsutil_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

// TestWriteAtomicSyncOutcomes: a new file, a replaced file, a replaced
// symlink (not followed), a refused existing file, a missing directory and
// a failed write each end with the file whole or as it was, and no
// temporary file beside it.
func TestWriteAtomicSyncOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir, path string)
		sub      string // the file is written in this subdirectory, not made first
		replace  bool
		sync     bool
		fail     bool
		wantErr  error
		want     string // the content at path after
		wantLink string // the symlink's target, left as it was
	}{
		{name: "new file", want: "new"},
		{name: "new file synced", sync: true, want: "new"},
		{name: "missing directory made", sub: "a/b", want: "new"},
		{name: "replaces a file", replace: true, want: "new",
			setup: func(t *testing.T, _, path string) { write(t, path, "old") }},
		{name: "replaces a file synced", replace: true, sync: true, want: "new",
			setup: func(t *testing.T, _, path string) { write(t, path, "old") }},
		{name: "keeps a file without replace", wantErr: fs.ErrExist, want: "old",
			setup: func(t *testing.T, _, path string) { write(t, path, "old") }},
		{name: "replaces a symlink, not its target", replace: true, want: "new", wantLink: "old",
			setup: func(t *testing.T, dir, path string) {
				target := filepath.Join(dir, "target")
				write(t, target, "old")
				if err := os.Symlink(target, path); err != nil {
					t.Skip("no symlinks here:", err)
				}
			}},
		{name: "failed write leaves the old file", replace: true, fail: true, wantErr: errWrite, want: "old",
			setup: func(t *testing.T, _, path string) { write(t, path, "old") }},
		{name: "failed write leaves nothing", fail: true, wantErr: errWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tt.sub, "run.json")
			if tt.setup != nil {
				tt.setup(t, dir, path)
			}
			err := fsutil.WriteAtomicSync(path, 0o640, tt.replace, tt.sync, func(w io.Writer) error {
				if _, err := io.WriteString(w, "new"); err != nil {
					return err
				}
				if tt.fail {
					return errWrite
				}
				return nil
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("WriteAtomicSync: %v, want %v", err, tt.wantErr)
			}
			b, rerr := os.ReadFile(path)
			switch {
			case tt.want == "" && !errors.Is(rerr, fs.ErrNotExist):
				t.Errorf("%s: %q, %v; want no file", path, b, rerr)
			case tt.want != "" && string(b) != tt.want:
				t.Errorf("%s holds %q (%v), want %q", path, b, rerr, tt.want)
			}
			if tt.want == "new" && runtime.GOOS != "windows" {
				if fi, err := os.Lstat(path); err != nil || fi.Mode() != 0o640 {
					t.Errorf("%s: mode %v (%v), want -rw-r-----", path, fi.Mode(), err)
				}
			}
			if tt.wantLink != "" {
				if b, _ := os.ReadFile(filepath.Join(dir, "target")); string(b) != tt.wantLink {
					t.Errorf("the symlink's target holds %q, want %q", b, tt.wantLink)
				}
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*"+fsutil.TempInfix+"*"))
			if len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

var errWrite = errors.New("write failed")

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

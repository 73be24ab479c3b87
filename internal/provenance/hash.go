package provenance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stage-tracker/stage-tracker/runfile"
)

// Hasher records files as a stage saw them: size, modification time and
// SHA-256, hashed while the file streams through, never held whole. With a
// CacheDir it remembers each digest under the file's absolute path, size,
// modification time and inode, so that a large file that did not change is
// not read again by the next run.
//
// The zero Hasher hashes every file and remembers nothing. A Hasher is
// safe for concurrent use; processes may share a cache directory.
type Hasher struct {
	// CacheDir is where digests are remembered (DefaultCacheDir); "" for
	// nowhere.
	CacheDir string
	// Open opens a file to hash; nil is os.Open. Tests count reads here.
	Open func(name string) (io.ReadCloser, error)
}

// CacheEnvVar names the variable that moves the digest cache: a directory,
// or "off" for none.
const CacheEnvVar = "STAGE_TRACKER_HASH_CACHE"

// DefaultCacheDir is the digest cache's directory: $STAGE_TRACKER_HASH_CACHE
// when set ("off": none), else stage-tracker/sha256 under the user's cache
// directory (os.UserCacheDir: $XDG_CACHE_HOME or ~/.cache on Linux,
// ~/Library/Caches on macOS, %LocalAppData% on Windows); "" when there is
// none.
func DefaultCacheDir(getenv func(string) string) string {
	switch v := getenv(CacheEnvVar); v {
	case "":
	case "off":
		return ""
	default:
		return v
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "stage-tracker", "sha256")
}

// Files records the files that patterns name: a path, a glob
// (filepath.Glob: data/*.csv) or a directory, whose regular files are
// recorded in lexical order (symbolic links inside it are not followed).
// Each file is recorded once, in the order found. A path that does not
// exist is recorded with its path alone (no mtime, no sha256) and
// reported in the error, as is a glob that matches nothing and anything
// that is not a regular file or directory (a FIFO is never opened).
// Files returns what it recorded beside the joined errors; ctx stops it
// between files.
func (h *Hasher) Files(ctx context.Context, patterns []string) ([]runfile.File, error) {
	var (
		out  []runfile.File
		errs []error
		seen = map[string]bool{}
	)
	add := func(path string, fi fs.FileInfo) {
		if seen[path] {
			return
		}
		seen[path] = true
		f, err := h.file(path, fi)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, f)
	}
	for _, p := range patterns {
		if err := ctx.Err(); err != nil {
			return out, errors.Join(append(errs, err)...)
		}
		paths := []string{p}
		if hasMeta(p) {
			m, err := filepath.Glob(p)
			if err != nil || len(m) == 0 {
				errs = append(errs, fmt.Errorf("%s: no file matches", p))
				continue
			}
			paths = m
		}
		for _, path := range paths {
			fi, err := os.Stat(path)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				errs = append(errs, fmt.Errorf("%s: no such file", path))
				if !seen[path] {
					seen[path] = true
					out = append(out, runfile.File{Path: path})
				}
			case err != nil:
				errs = append(errs, err)
			case fi.IsDir():
				werr := filepath.WalkDir(path, func(sub string, d fs.DirEntry, err error) error {
					if err != nil {
						errs = append(errs, err)
						return nil
					}
					if cerr := ctx.Err(); cerr != nil {
						return cerr
					}
					if d.Type().IsRegular() {
						info, err := d.Info()
						if err != nil {
							errs = append(errs, err)
							return nil
						}
						add(sub, info)
					}
					return nil
				})
				if werr != nil {
					errs = append(errs, werr)
				}
			case !fi.Mode().IsRegular():
				errs = append(errs, fmt.Errorf("%s: not a regular file or directory; not recorded", path))
			default:
				add(path, fi)
			}
		}
	}
	return out, errors.Join(errs...)
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[`) }

// file records the regular file at path, which fi describes.
func (h *Hasher) file(path string, fi fs.FileInfo) (runfile.File, error) {
	f := runfile.File{Path: path, Size: fi.Size(), ModTime: fi.ModTime().UTC()}
	key := h.cacheKey(path, fi)
	if key != "" {
		if b, err := os.ReadFile(filepath.Join(h.CacheDir, key)); err == nil && isDigest(b) {
			f.SHA256 = string(b)
			return f, nil
		}
	}
	sum, err := h.hash(path)
	if err != nil {
		return f, err
	}
	f.SHA256 = sum
	// Remembered only when the file did not change while it was read, and
	// not in the last two seconds: a change within the same mtime tick and
	// size would otherwise look unchanged to the next run.
	if key != "" && time.Since(fi.ModTime()) > 2*time.Second {
		if after, err := os.Stat(path); err == nil && after.Size() == fi.Size() && after.ModTime().Equal(fi.ModTime()) {
			h.remember(key, sum)
		}
	}
	return f, nil
}

// hash returns the hex SHA-256 of path's content, read once in 1 MiB
// pieces.
func (h *Hasher) hash(path string) (string, error) {
	open := h.Open
	if open == nil {
		open = func(name string) (io.ReadCloser, error) { return os.Open(name) }
	}
	r, err := open(path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	d := sha256.New()
	if _, err := io.CopyBuffer(d, r, make([]byte, 1<<20)); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(d.Sum(nil)), nil
}

// cacheKey names path's cache entry: the SHA-256 of its absolute path,
// size, modification time and inode. "" without a cache.
func (h *Hasher) cacheKey(path string, fi fs.FileInfo) string {
	if h.CacheDir == "" {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	k := abs + "\x00" + strconv.FormatInt(fi.Size(), 10) + "\x00" +
		strconv.FormatInt(fi.ModTime().UnixNano(), 10) + "\x00" + inode(fi)
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// remember writes a cache entry whole or not at all: a temporary file
// renamed into place. A cache that cannot be written costs only speed.
func (h *Hasher) remember(key, sum string) {
	if err := os.MkdirAll(h.CacheDir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(h.CacheDir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.WriteString(sum)
	if errors.Join(werr, tmp.Close()) != nil || os.Rename(tmp.Name(), filepath.Join(h.CacheDir, key)) != nil {
		os.Remove(tmp.Name())
	}
}

func isDigest(b []byte) bool {
	if len(b) != 64 {
		return false
	}
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// WriteAtomic writes path so that a reader sees either the whole
// file or nothing: it writes a temporary file in the same directory
// (.<name>.tmp-<random>, locked while it is written, so that CleanTemps
// knows it is in use), syncs it, and moves it to path. On error no
// temporary file is left behind.
//
// With replace, the rename replaces the regular file at path; a symlink
// there is replaced itself, never followed. What is neither, or a symlink
// to what is neither (a device such as /dev/null, a FIFO, a directory), is
// never replaced: the write fails with an error wrapping ErrNotRegular (a
// rename over /dev/null, for a process allowed to write in /dev, would put
// a regular file in its place). Without replace, a file already at path is
// left as it is and the write fails with an error wrapping fs.ErrExist.
func WriteAtomic(path string, perm os.FileMode, replace bool, write func(io.Writer) error) error {
	return WriteAtomicSync(path, perm, replace, true, write)
}

// WriteAtomicSync is WriteAtomic, with the syncs only when sync is set:
// without, the file is whole for every reader while the system runs, and
// its durability is the caller's (SyncFS after a batch of writes), which
// must be able to write it again after a crash.
func WriteAtomicSync(path string, perm os.FileMode, replace, sync bool, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	prefix := "." + filepath.Base(path) + TempInfix
	f, err := createLockedTemp(dir, prefix)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory is made only when it is missing: a stat per file
		// saved on the Collector's hot path.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		f, err = createLockedTemp(dir, prefix)
	}
	if err != nil {
		return err
	}
	return finishTemp(f, path, perm, replace, sync, write)
}

// WriteAtomicIn is WriteAtomicSync with the temporary file in tmpDir, a
// directory on path's file system that no other writer uses (its caller
// holds it, as the store of open runs holds its own): the file needs no
// lock for CleanTemps and no check that it is still there, three system
// calls a file fewer. A crash leaves the temporary file in tmpDir, for its
// holder to remove.
func WriteAtomicIn(tmpDir, path string, perm os.FileMode, replace, sync bool, write func(io.Writer) error) error {
	prefix := filepath.Join(tmpDir, filepath.Base(path)+TempInfix)
	for try := 0; ; try++ {
		f, err := createTemp(prefix + strconv.FormatUint(uint64(rand.Uint32()), 10))
		if errors.Is(err, fs.ErrExist) && try < 10000 {
			continue
		}
		if err != nil {
			return err
		}
		return finishTemp(f, path, perm, replace, sync, write)
	}
}

// finishTemp writes f, a new temporary file, and moves it to path (see
// WriteAtomicSync); on error it is closed and removed.
func finishTemp(f *os.File, path string, perm os.FileMode, replace, sync bool, write func(io.Writer) error) (err error) {
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if sync {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if replace {
		if err = replaceable(path); err == nil {
			err = renameFile(tmp, path)
		}
	} else if err = os.Link(tmp, path); err == nil {
		os.Remove(tmp)
	}
	if err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	// Make the rename itself durable. Some file systems refuse to sync a
	// directory; the file is whole either way, so that is not an error.
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// ErrNotRegular is wrapped by the error of a write that would replace what
// is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// replaceable returns nil when a rename may replace what is at path: a
// regular file, a symlink to one or to nothing, or nothing.
func replaceable(path string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().IsRegular() {
		return nil // nothing there, or an error the write reports better
	}
	mode := fi.Mode()
	if mode&fs.ModeSymlink != 0 {
		if fi, err = os.Stat(path); err != nil || fi.Mode().IsRegular() {
			return nil
		}
		mode = fi.Mode()
	}
	return fmt.Errorf("%s: %w (%s): it is written in place of what is there, never over it", path, ErrNotRegular, FileKind(mode))
}

// FileKind names a file's type for a person: "a FIFO", "a directory".
func FileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// WriteOutput writes what write writes to path, a file a person named for
// a command's output (a report, a merged run file). A regular file, or
// none yet, is written whole, as WriteAtomic writes it, so that a reader
// never sees half of it. A symlink is followed, as every command follows
// the path it is given, and its target written whole. Anything else (a
// device: /dev/null, the terminal or pipe behind /dev/stdout; a FIFO) is
// written in place: renaming over it would replace it. A missing directory
// is an error, as for any command's output.
func WriteOutput(path string, perm os.FileMode, write func(io.Writer) error) error {
	target := path
	if t, err := filepath.EvalSymlinks(path); err == nil {
		target = t
	}
	if fi, err := os.Stat(target); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(target, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		werr := write(f)
		return errors.Join(werr, f.Close())
	}
	if _, err := os.Stat(filepath.Dir(target)); err != nil {
		return err // a missing directory is the person's mistake, not made here
	}
	return WriteAtomic(target, perm, true, write)
}

// createLockedTemp creates a temporary file, prefix and a random number in
// dir, mode 0600, and locks it. A CleanTemps that came between the two
// holds the lock (and will remove the file) or has removed it already:
// then it makes another. It is created with createTemp, not
// os.CreateTemp: on Windows so that it can be renamed while open, on Unix
// without the runtime's poller.
func createLockedTemp(dir, prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := createTemp(name)
		if errors.Is(err, fs.ErrExist) && try < 10000 {
			continue
		}
		if err != nil {
			return nil, err
		}
		locked, err := TryLockExclusive(f)
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		if (locked || !LocksWork) && SameFile(f, f.Name()) {
			return f, nil
		}
		f.Close()
	}
}

// TempInfix marks the temporary files of WriteAtomic.
const TempInfix = ".tmp-"

// CleanTemps removes the temporary files that interrupted atomic writes left
// in dir: only names of our own pattern, only regular files, and only those
// no live writer holds locked.
func CleanTemps(dir string) error {
	matches, err := filepath.Glob(filepath.Join(GlobEscape(dir), ".*"+TempInfix+"*"))
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range matches {
		fi, err := os.Lstat(m)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		f, err := OpenNoFollow(m, os.O_RDONLY)
		if err != nil {
			continue
		}
		if ok, _ := TryLockExclusive(f); ok && LocksWork && SameFile(f, m) {
			if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("remove leftover temporary file %s: %w", m, err))
			}
		}
		f.Close()
	}
	return errors.Join(errs...)
}

// sameFile reports whether path still names the file f has open.
func SameFile(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Lstat(path)
	return err == nil && os.SameFile(fi, pi)
}

// appendLine appends one line to a JSON Lines file with a single write on a
// file opened O_APPEND, so lines from concurrent writers, processes
// included, never interleave, and what is there is never rewritten. When
// the file does not end in a newline (a writer was killed mid-line), the
// line starts with one, so that the torn line stays alone and this one is
// whole.
func AppendLine(path string, line []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, perm)
	if err != nil {
		return err
	}
	// Without the lock, another appender's line could be half visible when
	// the last byte is read, and this line would start with a needless
	// newline.
	if err := lockAppend(f); err != nil {
		f.Close()
		return err
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	_, err = f.Write(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// GlobEscape escapes the glob metacharacters of a literal path.
func GlobEscape(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(p)
}

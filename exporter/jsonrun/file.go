package jsonrun

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ReadFile reads a run file back into a Run.
func ReadFile(path string) (*Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jsonrun: read %s: %w", path, err)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("jsonrun: read %s: %w", path, err)
	}
	return &r, nil
}

// writeFileAtomicFunc writes path so that a reader sees either the whole
// file or nothing: it writes a temporary file in the same directory
// (.<name>.tmp-<random>, locked while it is written, so that cleanTemps
// knows it is in use), syncs it, and moves it to path. On error no
// temporary file is left behind.
//
// With replace, the rename replaces whatever is at path; a symlink there is
// replaced itself, never followed. Without, a file already at path is left
// as it is and the write fails with an error wrapping fs.ErrExist.
func writeFileAtomicFunc(path string, perm os.FileMode, replace bool, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := createLockedTemp(dir, "."+filepath.Base(path)+tempInfix+"*")
	if err != nil {
		return err
	}
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
	if err = f.Sync(); err != nil {
		return err
	}
	if replace {
		err = os.Rename(tmp, path)
	} else if err = os.Link(tmp, path); err == nil {
		os.Remove(tmp)
	}
	if err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	// Make the rename itself durable. Some file systems refuse to sync a
	// directory; the file is whole either way, so that is not an error.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// createLockedTemp creates a temporary file and locks it. A cleanTemps that
// came between the two holds the lock (and will remove the file) or has
// removed it already: then it makes another.
func createLockedTemp(dir, pattern string) (*os.File, error) {
	for {
		f, err := os.CreateTemp(dir, pattern)
		if err != nil {
			return nil, err
		}
		locked, err := tryLockExclusive(f)
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
		if (locked || !locksWork) && sameFile(f, f.Name()) {
			return f, nil
		}
		f.Close()
	}
}

// tempInfix marks the temporary files of writeFileAtomicFunc.
const tempInfix = ".tmp-"

// cleanTemps removes the temporary files that interrupted atomic writes left
// in dir: only names of our own pattern, only regular files, and only those
// no live writer holds locked.
func cleanTemps(dir string) error {
	matches, err := filepath.Glob(filepath.Join(globEscape(dir), ".*"+tempInfix+"*"))
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range matches {
		fi, err := os.Lstat(m)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		f, err := openNoFollow(m, os.O_RDONLY)
		if err != nil {
			continue
		}
		if ok, _ := tryLockExclusive(f); ok && locksWork && sameFile(f, m) {
			if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("jsonrun: remove leftover temporary file %s: %w", m, err))
			}
		}
		f.Close()
	}
	return errors.Join(errs...)
}

// sameFile reports whether path still names the file f has open.
func sameFile(f *os.File, path string) bool {
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
func appendLine(path string, line []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, perm)
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

// LineError reports a history line that could not be read.
type LineError struct {
	Line int   // 1-based line number
	Err  error // why it was skipped
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ReadHistory reads a history file written with WithHistory. Lines that are
// not valid run records (a torn last line after a crash, a corrupted line)
// are skipped; each is reported as a *LineError joined into the returned
// error, next to every run that was read.
func ReadHistory(path string) ([]*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("jsonrun: read history %s: %w", path, err)
	}
	defer f.Close()
	return readHistory(f, path)
}

func readHistory(rd io.Reader, path string) ([]*Run, error) {
	br := bufio.NewReaderSize(rd, 64<<10)
	var (
		runs []*Run
		errs []error
	)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var r Run
			switch {
			case err == io.EOF: // no newline: the writer died mid-line
				errs = append(errs, &LineError{Line: n, Err: errors.New("torn line (no newline at end of file)")})
			default:
				if uerr := json.Unmarshal(line, &r); uerr == nil {
					runs = append(runs, &r)
					break
				} else if rec, ok := salvage(line); ok {
					runs = append(runs, rec)
					errs = append(errs, &LineError{Line: n, Err: errors.New("torn record before a whole one on the same line; kept the whole one")})
				} else {
					errs = append(errs, &LineError{Line: n, Err: uerr})
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			break
		}
	}
	if len(errs) > 0 {
		return runs, fmt.Errorf("jsonrun: read history %s: %w", path, errors.Join(errs...))
	}
	return runs, nil
}

// recordStart is how every history record begins: the encoder writes
// run_id first.
var recordStart = []byte(`{"run_id":`)

// salvage reads the whole record at the end of a line whose beginning is a
// torn record: a writer that died mid-line leaves no newline, so the next
// append lands on the same line. Appends never rewrite the file, so the
// reader is where that is sorted out.
func salvage(line []byte) (*Run, bool) {
	i := bytes.LastIndex(line, recordStart)
	if i <= 0 {
		return nil, false
	}
	var r Run
	if json.Unmarshal(line[i:], &r) != nil {
		return nil, false
	}
	return &r, true
}

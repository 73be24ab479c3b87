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

// writeFileAtomic writes b to path so that a reader sees either the whole
// file or nothing: it writes a temporary file in the same directory, syncs
// it, and renames it over path. On error no temporary file is left behind.
func writeFileAtomic(path string, b []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
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
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
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

// appendLine appends one line to a JSON Lines file with a single write on a
// file opened O_APPEND, so lines from concurrent writers, processes
// included, never interleave, and what is there is never rewritten.
func appendLine(path string, line []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, perm)
	if err != nil {
		return err
	}
	// A writer that died mid-line left a torn last line: start on a fresh
	// line so this record is not glued to it. The torn line stays, for
	// ReadHistory to report.
	if fi, serr := f.Stat(); serr == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, rerr := f.ReadAt(last, fi.Size()-1); rerr == nil && last[0] != '\n' {
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
				if uerr := json.Unmarshal(line, &r); uerr != nil {
					errs = append(errs, &LineError{Line: n, Err: uerr})
				} else {
					runs = append(runs, &r)
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

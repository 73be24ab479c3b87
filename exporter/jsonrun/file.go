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
// file or nothing: write fills a temporary file in the same directory,
// which is synced and renamed over path. On error no temporary file is left
// behind.
func writeFileAtomicFunc(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
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
	if err = write(f); err != nil {
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
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, perm)
	if err != nil {
		return err
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

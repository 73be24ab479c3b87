package runfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

// ReadFile reads a run file back into a Run.
func ReadFile(path string) (*Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("runfile: read %s: %w", path, err)
	}
	r, err := decodeOne(b)
	if err != nil {
		return nil, fmt.Errorf("runfile: read %s: %w", path, err)
	}
	return r, nil
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
	f, err := fsutil.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("runfile: read history %s: %w", path, err)
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
			switch {
			case err == io.EOF: // no newline: the writer died mid-line
				errs = append(errs, &LineError{Line: n, Err: errors.New("torn line (no newline at end of file)")})
			default:
				if r, uerr := decodeOne(line); uerr == nil {
					runs = append(runs, r)
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
		return runs, fmt.Errorf("runfile: read history %s: %w", path, errors.Join(errs...))
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

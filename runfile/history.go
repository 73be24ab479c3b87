package runfile

import (
	"bytes"
	"errors"
	"io"
	"os"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

// appendHistory appends line to the JSON Lines history at path, after
// checking that what is there is JSON Lines. The Python stage-tracker's
// history is a JSON array that it rewrites whole on each finalize: a line
// appended after the array makes it invalid JSON, and Python's next
// finalize then rewrites it from nothing, losing every earlier run.
func appendHistory(path string, line []byte, perm os.FileMode) error {
	if err := checkJSONLines(path); err != nil {
		return err
	}
	return fsutil.AppendLine(path, line, perm)
}

// checkJSONLines returns an error when path exists and does not begin as
// a JSON Lines history (a JSON object). A missing or empty file, and one
// that is not a regular file (/dev/full in tests, a pipe), are fine.
func checkJSONLines(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return nil // a device or pipe the caller chose: nothing there to corrupt
	}
	f, err := fsutil.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	head = bytes.TrimLeft(head[:n], " \t\r\n")
	switch {
	case len(head) == 0, head[0] == '{':
		return nil
	case head[0] == '[':
		return errors.New("it is a JSON array (the Python stage-tracker's history format), not JSON Lines, and appending would corrupt it: give WithHistory another path")
	default:
		return errors.New("it is not a JSON Lines history: give WithHistory a new file or one it wrote")
	}
}

package runfile

import (
	"fmt"
	"io"
	"os"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

// WriteStages writes the run file form of r as Write does, but with the
// top-level stages that stages writes, through its StageWriter, in place of
// r.Stages: a writer that holds its stages packed encodes them one at a
// time, never building them all.
func WriteStages(w io.Writer, r *Run, stages func(*StageWriter)) error {
	// The stages are not in r: the buffer starts at what r holds and a
	// few stages' worth, and grows up to the chunk it flushes. A whole
	// chunk for each file was 128 KiB to allocate and clear for a run
	// file of a few.
	e := encoder{b: make([]byte, 0, min(2*streamChunk, sizeHint(r)+streamStart)), indent: true, w: w, stages: stages}
	e.run(r)
	e.flush()
	return e.err
}

// streamStart is the room WriteStages starts with for the stages.
const streamStart = 8 << 10

// WriteFile writes r to path so that a reader sees either the whole file or
// nothing: a temporary file in the same directory, synced, then renamed
// over path. With replace false, a file already at path is kept and
// WriteFile fails with an error wrapping fs.ErrExist.
func WriteFile(path string, r *Run, perm os.FileMode, replace bool) error {
	return WriteFileWith(path, perm, replace, func(w io.Writer) error { return Write(w, r) })
}

// WriteFileWith is WriteFile with the content written by write (Write or
// WriteStages).
func WriteFileWith(path string, perm os.FileMode, replace bool, write func(io.Writer) error) error {
	if err := fsutil.WriteAtomic(path, perm, replace, write); err != nil {
		return fmt.Errorf("runfile: write %s: %w", path, err)
	}
	return nil
}

// AppendHistory appends r as one line to the JSON Lines history at path,
// with a single write, so that concurrent writers, processes included,
// never interleave. It refuses a file that is not JSON Lines, such as the
// Python stage-tracker's JSON array history.
func AppendHistory(path string, r *Run, perm os.FileMode) error {
	line := append(appendRun(nil, r, false), '\n')
	if err := appendHistory(path, line, perm); err != nil {
		return fmt.Errorf("runfile: append run %s to history %s: %w", r.RunID, path, err)
	}
	return nil
}

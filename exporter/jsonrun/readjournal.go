package jsonrun

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// ReadJournal reads the journal of a run that may still be open and
// returns the run so far: the stages that ended, the stages still running
// (status running, ending at the journal's last event), and the run itself
// with status running, because a journal alone cannot tell a live run from
// one whose process died. It only reads: it writes no run file, takes no
// lock and removes nothing, so it is safe to call on the journal of a live
// run. A path that is not a regular file (a FIFO, a device) is an error,
// never read.
//
// ReadJournal is safe for concurrent use.
func ReadJournal(path string) (*Run, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("jsonrun: read journal: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("jsonrun: read journal: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("jsonrun: read journal %s: not a regular file", path)
	}
	jc := readJournal(f)
	run, err := jc.recoveredRun(path, StageRunning, "")
	if err != nil {
		return nil, err
	}
	// Not recovered: say what this is instead.
	warnings := []string{"the run so far, from its journal: not finished, or its process stopped"}
	for _, w := range run.Warnings {
		if !strings.HasPrefix(w, "recovered from journal") {
			warnings = append(warnings, w)
		}
	}
	run.Warnings = warnings
	return run, nil
}

// maxJournalLine bounds one journal line for readers: a stage's data is
// capped far below it.
const maxJournalLine = 1 << 30

// ScanJournalLines is a bufio.SplitFunc for journal files: each token is
// one event line with its terminator. Lines end in a newline; NUL bytes,
// which no JSON text holds, separate lines too and are skipped. A
// journal's owner fills memory-mapped chunks of the file that stay NUL
// where it has not written yet (docs/reliability.md), so a token that ends
// in NUL, or at the end of the file, without a newline is a torn line: the
// last bytes of a writer that was killed, or an event being written at
// this instant.
func ScanJournalLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	i := 0
	for i < len(data) && data[i] == 0 {
		i++
	}
	if i == len(data) {
		return i, nil, nil
	}
	if k := bytes.IndexAny(data[i:], "\n\x00"); k >= 0 {
		return i + k + 1, data[i : i+k+1], nil
	}
	if atEOF {
		return len(data), data[i:], nil
	}
	return i, nil, nil
}

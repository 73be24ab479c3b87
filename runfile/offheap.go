package runfile

import (
	"bytes"
	"encoding/json"
	"io"
)

// offHeapMin is the size from which ReadRuns reads a run file into memory
// outside the Go heap (where the platform allows, see mapAnon) and gives
// it back as the stages are scanned: a large run's bytes and its decoded
// stages are then never both held whole. Below it, the ordinary read.
const offHeapMin = 8 << 20

// readRunOffHeap reads the run file f of the given size into memory
// mapped outside the Go heap and decodes it with Run.scanReleasing, giving
// back the pages the scan has passed, chunk bytes at a time, so that
// the peak is about the larger of the file and the run, not their sum,
// and the garbage collector's headroom is over the run alone. It returns
// false, having decoded nothing, for anything but one valid run the
// scanner reads (a history, an array, an error, a file that grew while
// read, a platform without anonymous mappings): the caller then reads f
// again the ordinary way, whose value or error is the reader's. Nothing
// the run holds refers to the mapping, which is unmapped on return.
func readRunOffHeap(f io.Reader, size int64, chunk int) (*Run, bool) {
	if size <= 0 || size >= 1<<40 {
		return nil, false
	}
	m, ok := mapAnon(int(size) + 1) // the 1: the read that sees the end
	if !ok {
		return nil, false
	}
	defer unmapAnon(m)
	n := 0
	for {
		k, err := f.Read(m[n:])
		n += k
		if err == io.EOF {
			break
		}
		if err != nil || n == len(m) { // an error, or the file grew
			return nil, false
		}
	}
	b := m[:n]
	lead := len(b) - len(bytes.TrimLeft(b, " \t\r\n"))
	v := bytes.TrimRight(b[lead:], " \t\r\n")
	if len(v) == 0 || v[0] != '{' || isJSONLines(v) || !json.Valid(v) || Nesting(v) > MaxNesting {
		return nil, false
	}
	done := lead &^ (pageSize - 1)
	var r Run
	ok = r.scanReleasing(v, func(i int) {
		upTo := (lead + i) &^ (pageSize - 1)
		if upTo-done >= chunk {
			releasePages(m[done:upTo])
			done = upTo
		}
	})
	if !ok {
		return nil, false
	}
	return &r, true
}

// releaseChunk is how much of the file the scan passes before its pages
// are given back: one system call a megabyte.
const releaseChunk = 1 << 20

//go:build !(linux || darwin || freebsd)

package journal

import (
	"errors"
	"os"
)

// mapsJournals is false where the syscall package has no Mmap: every event
// is one write(2), as with WithJournalSync.
const mapsJournals = false

type chunk struct{}

func (*chunk) free() int      { return 0 }
func (*chunk) put([]byte)     {}
func (*chunk) release() error { return nil }

func newChunk(*os.File, int) (chunk, error) {
	return chunk{}, errors.New("memory-mapped journals are not supported here")
}

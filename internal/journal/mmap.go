//go:build linux || darwin || freebsd

package journal

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// mapsJournals: the owner of a journal writes its events into shared
// memory mapped over the file, with no system call per event. The kernel
// keeps the dirty pages of a MAP_SHARED mapping when the process is killed
// and writes them back as it would a write(2), so an event copied in before
// SIGKILL is in the file afterwards.
const mapsJournals = true

// chunk is the part of a journal file that its owner maps and fills with
// events, front to back. It is appended to the file by a single write(2) of
// zeros, which allocates its blocks (so that a full disk is an error here,
// not a SIGBUS on a page fault later) and lands at the end of the file
// whatever joined processes appended before it: their lines and the
// owner's chunks never overlap. What the owner has not filled stays NUL,
// which readers skip (ScanLines).
type chunk struct {
	mem []byte // the mapping, from the page holding the chunk's first byte
	pos int    // where the next event goes in mem
}

// free is how many bytes the chunk can still take.
func (c *chunk) free() int { return len(c.mem) - c.pos }

// put copies an encoded event into the chunk, which has room for it.
func (c *chunk) put(line []byte) { c.pos += copy(c.mem[c.pos:], line) }

// newChunk appends size zero bytes to f (opened O_RDWR|O_APPEND) with one
// write and maps them.
func newChunk(f *os.File, size int) (chunk, error) {
	// The zeros come from an anonymous mapping: the kernel's zero page, not
	// the Go heap.
	zeros, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return chunk{}, fmt.Errorf("grow: %w", err)
	}
	n, err := f.Write(zeros)
	_ = syscall.Munmap(zeros)
	if err == nil && n < size {
		err = io.ErrShortWrite
	}
	if err != nil {
		return chunk{}, fmt.Errorf("grow: %w", err)
	}
	// An O_APPEND write leaves the file offset at the end of what it wrote.
	end, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return chunk{}, fmt.Errorf("grow: %w", err)
	}
	off := end - int64(size)
	page := int64(os.Getpagesize())
	base := off &^ (page - 1)
	mem, err := syscall.Mmap(int(f.Fd()), base, int(end-base), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return chunk{}, fmt.Errorf("map: %w", err)
	}
	// After the start of the file, the chunk's first byte stays NUL: it
	// ends a line that a joined process was killed in the middle of, so
	// that it does not run into this chunk's first event. The file itself
	// starts with the run event, which joiners check.
	pos := int(off - base)
	if off > 0 {
		pos++
	}
	return chunk{mem: mem, pos: pos}, nil
}

// release unmaps the chunk. What was copied in stays in the file.
func (c *chunk) release() error {
	if c.mem == nil {
		return nil
	}
	err := syscall.Munmap(c.mem)
	*c = chunk{}
	return err
}

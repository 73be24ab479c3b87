package journal

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
)

// File is the open journal of one run in this process. The file is named
// by run id (<dir>/<run_id>.journal), and this process holds a shared flock
// on it from open to close, so that recovery leaves it alone while this
// process lives.
//
// The owner of a run (Create) writes its events into chunks of the file
// that it maps into memory (mmap.go): an event is a copy, not a system
// call. Processes that join the run (Join), and an owner that syncs or is
// on a platform without mmap, append each event with one write(2) to the
// file opened O_APPEND. Both kinds of writer append whole regions at the
// end of the file, so they never overwrite each other; the unfilled end of
// a chunk is NUL bytes, which readers skip.
//
// A File is safe for concurrent use.
type File struct {
	path   string
	f      *os.File
	sync   bool // fsync after every event; events are then written with write(2)
	mapped bool // events go into mapped chunks (see above)

	mu        sync.Mutex
	buf       []byte // the encoded event, reused
	cur       chunk  // the mapped chunk being filled; empty before the first event
	chunkSize int    // the size of the next chunk: doubles up to maxChunk
	owned     int64  // bytes of the file this process appended: lines and chunks
	err       error  // the first write error; later events are skipped
	closed    bool
}

// Chunk sizes: a short run's journal stays small, a long one grows a chunk
// every few thousand stages at most.
const (
	minChunk = 64 << 10
	maxChunk = 4 << 20
)

// Perm is the mode of every journal, whatever the umask: only its owner
// may read it (it holds what the run file will, before the run file's own
// mode applies, and what joined processes append) or write it.
const Perm os.FileMode = 0o600

// Create creates the journal of a run that starts in this process, with
// mode Perm; perm, the run file's mode, does not apply to journals. It
// refuses a file that exists: run ids are unique, so one there is another
// run's or a planted one. With sync, every event is written with write(2)
// and fsynced.
func Create(path string, perm os.FileMode, sync bool) (*File, error) {
	f, err := fsutil.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, Perm)
	if err != nil {
		return nil, err
	}
	// The umask can only take bits away; a umask of 0277 would leave the
	// owner unable to append. The mode is set, not asked for.
	if err := f.Chmod(Perm); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	// Wait, rather than fail, while a recovery (another process's, or this
	// one's own Processor's, in the background) holds the new, empty file.
	if err := fsutil.LockSharedWait(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// With sync, an fsync per event costs milliseconds and a write(2)
	// microseconds: mapping would save nothing, and write(2) keeps a full
	// disk an error on every file system.
	return &File{path: path, f: f, sync: sync, mapped: mapsJournals && !sync, chunkSize: minChunk}, nil
}

// Join opens the journal of a run that another process owns, for
// appending, and takes its shared lock. It fails when the file is not a
// regular file, when no live process holds it (its owner stopped; a
// detached run has no owner by design and is joinable), when a recovery
// holds it, or when it is gone by the time the lock is held (the owner
// finished and removed it).
func Join(path string, sync bool) (*File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := fsutil.OpenNoFollow(path, os.O_WRONLY|os.O_APPEND)
	if err != nil {
		return nil, err
	}
	if !detachedAt(path) {
		if free, _ := fsutil.TryLockExclusive(f); free && fsutil.LocksWork {
			f.Close()
			return nil, fmt.Errorf("no live process holds %s: the run's owner has stopped", path)
		}
	}
	if err := fsutil.LockShared(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is being recovered: its owner stopped", path)
	}
	j := &File{path: path, f: f, sync: sync}
	if j.Gone() {
		f.Close()
		return nil, fmt.Errorf("%s was removed: its run has finished", path)
	}
	return j, nil
}

// Locked makes a File of f, the journal at path opened O_WRONLY|O_APPEND,
// on which the caller holds a shared lock already: a journal taken over
// from a process that stopped. Events are appended with write(2).
func Locked(path string, f *os.File, sync bool) *File {
	return &File{path: path, f: f, sync: sync}
}

// detachedAt reports whether the journal at path is a detached run's.
func detachedAt(path string) bool {
	f, err := fsutil.OpenNoFollow(path, os.O_RDONLY)
	if err != nil {
		return false
	}
	defer f.Close()
	return IsDetached(FirstLine(f))
}

// Path is where the journal is.
func (j *File) Path() string { return j.path }

// Gone reports whether the journal's file is no longer at its path: its
// run was finished (or recovered) and the file removed.
func (j *File) Gone() bool {
	fi, err := j.f.Stat()
	if err != nil {
		return true
	}
	pi, err := os.Lstat(j.path)
	return err != nil || !os.SameFile(fi, pi)
}

// Write appends encoded events (whole lines). After a failure (disk full,
// say) the journal stops: a later partial line would only make recovery
// harder.
func (j *File) Write(lines []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.writeLocked(lines)
}

// WriteEvent appends ev (Append).
func (j *File) WriteEvent(ev *Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	j.buf = Append(j.buf[:0], ev)
	return j.writeLocked(j.buf)
}

// WriteStage appends the start (end false) or end event of a stage
// (AppendStage), encoded into the journal's reused buffer.
func (j *File) WriteStage(s *Stage, end bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	j.buf = AppendStage(j.buf[:0], s, end)
	return j.writeLocked(j.buf)
}

func (j *File) writeLocked(lines []byte) error {
	if j.err != nil {
		return j.err
	}
	if j.closed {
		return fmt.Errorf("journal %s: closed", j.path)
	}
	if j.mapped {
		if j.cur.free() >= len(lines) {
			j.cur.put(lines)
			return nil
		}
		if err := j.grow(len(lines)); err == nil {
			j.cur.put(lines)
			return nil
		}
		// No mapping (a file system without mmap, say): write(2) from now
		// on. A full disk fails that write too, and stops the journal.
		_ = j.cur.release()
		j.mapped = false
	}
	n, err := j.f.Write(lines)
	j.owned += int64(n)
	if err == nil && j.sync {
		err = j.f.Sync()
	}
	if err != nil {
		j.err = fmt.Errorf("journal %s: %w", j.path, err)
	}
	return j.err
}

// grow replaces the mapped chunk with a new one at the end of the file,
// with room for need bytes at least.
func (j *File) grow(need int) error {
	if err := j.cur.release(); err != nil {
		return err
	}
	size := j.chunkSize
	for size < need+1 { // +1: a chunk's first byte stays NUL (newChunk)
		size *= 2
	}
	if j.chunkSize < maxChunk {
		j.chunkSize *= 2
	}
	c, err := newChunk(j.f, size)
	if err != nil {
		return err
	}
	j.cur = c
	j.owned += int64(size)
	return nil
}

// Err returns the first write error, or nil.
func (j *File) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Foreign reports whether another process (or another File of this one)
// appended to the journal: the file is longer than what this File
// appended.
func (j *File) Foreign() bool {
	j.mu.Lock()
	owned := j.owned
	j.mu.Unlock()
	fi, err := j.f.Stat()
	return err == nil && fi.Size() > owned
}

// Close unmaps the chunk and closes the file, which drops the lock. The
// unfilled end of the chunk stays NUL: a joined process may be appending
// right after it, so cutting the file to what this process wrote could cut
// its line. Close is idempotent.
func (j *File) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	err := j.cur.release()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Remove deletes the journal file while its lock is still held, then
// closes it: a recovery waiting for the lock then finds the path gone.
func (j *File) Remove() error {
	err := os.Remove(j.path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("remove journal %s: %w", j.path, err)
	}
	if cerr := j.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close journal %s: %w", j.path, cerr)
	}
	return err
}

// Open opens what the journal's file holds now for reading, other
// processes' events included.
func (j *File) Open() (*os.File, error) {
	return fsutil.OpenNoFollow(j.path, os.O_RDONLY)
}

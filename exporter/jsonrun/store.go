package jsonrun

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/stage-tracker/stage-tracker/internal/fsutil"
	"github.com/stage-tracker/stage-tracker/internal/journal"
)

// The store of open runs (WithRunStore) keeps the lines of every open run
// of the exporter in one append-only log, instead of a journal file (a
// descriptor and a mapping) per run. The log is a directory of segment
// files, <dir>/.openruns/<n>.seg, each a sequence of journal lines
// (internal/journal) that name their run on every line. Lines are
// appended to the newest segment; a segment is removed once every run
// with lines in it is written ("done"). Writes are committed in groups:
// each request's lines are one write(2), and with WithJournalSync one
// fsync covers every request that waits at that moment.
//
// What it holds is bounded: open runs, bytes per run and bytes in all;
// past a bound a span is refused with ErrStoreFull, so that its sender
// retries later, and nothing is accepted that is not on disk when the
// request is answered.

// ErrStoreFull is the error of a span refused because the store of open
// runs is at one of its bounds (WithRunStore): too many open runs, a run
// too large, or the store's bytes. The span was not kept; its sender may
// send it again later.
var ErrStoreFull = errors.New("the store of open runs is full")

// ErrStoreInUse is the error of opening a store of open runs that another
// process (a running Collector) holds: one process at a time holds a
// store.
var ErrStoreInUse = errors.New("the store of open runs is in use by another process")

// storePerm: the store holds what senders sent, for this process alone,
// whatever the run files' permissions.
const storePerm = 0o600

// storeDirName is the store's directory inside the exporter's directory.
const storeDirName = ".openruns"

// segSuffix ends a segment's name: <n>.seg.
const segSuffix = ".seg"

// storeLimits bound the store.
type storeLimits struct {
	openRuns   int   // runs open at once
	runBytes   int64 // a run's lines
	totalBytes int64 // every segment's bytes
	segBytes   int64 // a segment is closed for appends past this
}

// Defaults of the store's bounds.
const (
	DefaultMaxOpenRuns   = 100_000
	DefaultMaxRunBytes   = 16 << 20
	DefaultMaxStoreBytes = 1 << 30
	defaultSegmentBytes  = 32 << 20
)

// runStore is the log of open runs. It is safe for concurrent use; mu is
// never held during a write or fsync, only while lines are queued and
// accounted.
type runStore struct {
	dir  string
	sync bool
	lim  storeLimits
	lock *os.File // holds the store's flock: one process per store
	pid  int      // this process, on each run line: os.Getpid is a system call
	// tmpDir is where run files are written before they are renamed
	// into filesDir (fsutil.WriteAtomicIn): <dir>/tmp, this process's
	// alone as the store is, emptied when the store opens; "" when it is
	// on another file system than filesDir.
	tmpDir string

	mu   sync.Mutex
	cond *sync.Cond // signalled when a group commit ends
	// segs are the segment files by number; cur the one appended to.
	segs map[uint32]*segment
	cur  *segment
	// pending are the lines queued and not yet written, oldest first, in
	// runs of one segment each.
	pending []pendingWrite
	// free are buffers of written batches, for queueLocked to reuse: a
	// buffer a commit is garbage the collector would pay for.
	free [][]byte
	// queued and written count group commits: the lines queued up to
	// sequence queued are on disk once written reaches it.
	queued, written uint64
	writing         bool  // a commit is under way, mu released
	err             error // the first write error: the store stops
	runs            int   // open runs
	bytes           int64 // bytes of every segment, queued lines included
	closed          bool
	// filesDir is where run files are written; syncQ the runs whose files
	// were written without syncs, kept open until a SyncFS of filesDir;
	// syncing says a goroutine (syncLoop) works syncQ off.
	filesDir string
	syncQ    []synced
	syncing  bool
	// syncGate, in tests, holds syncLoop until it is closed.
	syncGate chan struct{}
	// closing is closed when close begins: syncLoop stops gathering.
	closing     chan struct{}
	closingOnce sync.Once
}

// syncWindow is how long syncLoop gathers run files before one SyncFS:
// a SyncFS for every few files cost more CPU than the files' writes.
// The runs stay in the store meanwhile; nothing is acknowledged later.
const syncWindow = 5 * time.Millisecond

// synced is a run whose file, at path, waits for SyncFS.
type synced struct {
	run  *storeRun
	path string
}

// segment is one file of the log.
type segment struct {
	n    uint32
	f    *os.File
	size int64 // bytes, queued lines included
	live int   // open runs with lines in it
}

type pendingWrite struct {
	seg *segment
	buf []byte
}

// extent is where some of a run's lines are: a run's lines are the
// concatenation of its extents.
type extent struct {
	seg uint32
	n   uint32
	off int64
}

// storeRun is one open run's part of the store: the runLog of an open run
// that WithRunStore keeps. Safe for concurrent use (the store's lock).
type storeRun struct {
	s     *runStore
	id    string
	ext   []extent
	bytes int64
	done  bool
	root  bool   // a root line is among its lines
	buf   []byte // the encoded line, reused; guarded by s.mu
}

func segName(n uint32) string { return fmt.Sprintf("%08d%s", n, segSuffix) }

// openStore opens (creating it) the store in dir and returns it with what
// it held: the runs that were open when its last user stopped.
func openStore(dir, filesDir string, syncEach bool, lim storeLimits) (*runStore, []*storedRun, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("jsonrun: store %s: %w", dir, err)
	}
	lock, err := fsutil.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, storePerm)
	if err != nil {
		return nil, nil, fmt.Errorf("jsonrun: store %s: %w", dir, err)
	}
	if free, err := fsutil.TryLockExclusive(lock); err != nil || !free {
		lock.Close()
		return nil, nil, fmt.Errorf("jsonrun: %s: %w: processes that share a directory need a store each", dir, ErrStoreInUse)
	}
	s := &runStore{closing: make(chan struct{}), dir: dir, filesDir: filesDir, sync: syncEach, lim: lim, lock: lock, pid: os.Getpid(), segs: map[uint32]*segment{}}
	s.cond = sync.NewCond(&s.mu)
	s.tmpDir = privateTemp(filepath.Join(dir, "tmp"), filesDir)
	stored, err := s.load()
	if err != nil {
		s.closeFiles()
		return nil, nil, err
	}
	return s, stored, nil
}

// privateTemp empties (making it) tmp, the store's directory for the
// temporary files of run files, and returns it, or "" when it cannot serve:
// not made, or on another file system than filesDir.
func privateTemp(tmp, filesDir string) string {
	if err := os.RemoveAll(tmp); err != nil {
		return ""
	}
	if err := os.Mkdir(tmp, 0o700); err != nil || !fsutil.SameDevice(tmp, filesDir) {
		return ""
	}
	return tmp
}

// storedRun is a run found open in the store when it was opened.
type storedRun struct {
	run    *storeRun
	opened int64          // when it was opened, Unix nanoseconds
	root   *journal.Event // the run span that arrived, or nil
	ended  int            // end events
}

// load reads every segment, in order, and rebuilds the open runs: the
// runs with lines and no done line. Appends go to a new segment, so a
// line torn by a crash at the end of the last one stays apart.
func (s *runStore) load() ([]*storedRun, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("jsonrun: store %s: %w", s.dir, err)
	}
	var nums []uint32
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segSuffix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 32)
		if err != nil {
			continue
		}
		nums = append(nums, uint32(n))
	}
	slices.Sort(nums)
	byID := map[string]*storedRun{}
	var order []*storedRun
	for _, n := range nums {
		f, err := fsutil.OpenNoFollow(filepath.Join(s.dir, segName(n)), os.O_RDWR|os.O_APPEND)
		if err != nil {
			return nil, fmt.Errorf("jsonrun: store: %w", err)
		}
		seg := &segment{n: n, f: f}
		s.segs[n] = seg
		size, err := s.scan(seg, byID, &order)
		if err != nil {
			return nil, err
		}
		seg.size = size
		s.bytes += size
	}
	var open []*storedRun
	for _, sr := range order {
		if byID[sr.run.id] != sr {
			continue // done
		}
		open = append(open, sr)
		s.runs++
		for _, n := range sr.run.segments() {
			s.segs[n].live++
		}
	}
	next := uint32(1)
	if len(nums) > 0 {
		next = nums[len(nums)-1] + 1
	}
	if err := s.roll(next); err != nil {
		return nil, err
	}
	s.dropDeadLocked()
	return open, nil
}

// scan reads the lines of one segment into the runs of byID and returns
// the segment's size.
func (s *runStore) scan(seg *segment, byID map[string]*storedRun, order *[]*storedRun) (int64, error) {
	if _, err := seg.f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("jsonrun: store: %w", err)
	}
	br := bufio.NewReaderSize(seg.f, 256<<10)
	var off int64
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if ev, derr := journal.Decode(line); derr == nil && ev.RunID != "" {
				sr := byID[ev.RunID]
				switch {
				case ev.Kind == journal.KindDone:
					delete(byID, ev.RunID)
				case sr == nil && ev.Kind == journal.KindRun:
					sr = &storedRun{run: &storeRun{s: s, id: ev.RunID}, opened: ev.T}
					byID[ev.RunID] = sr
					*order = append(*order, sr)
				}
				if sr != nil && ev.Kind != journal.KindDone && byID[ev.RunID] == sr {
					sr.run.addExtent(seg.n, off, len(line))
					switch ev.Kind {
					case journal.KindRoot:
						root := ev
						sr.root = &root
						sr.run.root = true
					case journal.KindEnd:
						if ev.ProcessStageCount == 0 { // a count span's line is no stage
							sr.ended++
						}
					}
				}
			}
		}
		off += int64(len(line))
		if err == io.EOF {
			return off, nil
		}
		if err != nil {
			return 0, fmt.Errorf("jsonrun: store: read %s: %w", seg.f.Name(), err)
		}
	}
}

// roll makes segment n the one appended to. s.mu must be held, or the
// store not yet shared.
func (s *runStore) roll(n uint32) error {
	f, err := fsutil.OpenFile(filepath.Join(s.dir, segName(n)), os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, storePerm)
	if err != nil {
		return fmt.Errorf("jsonrun: store: %w", err)
	}
	seg := &segment{n: n, f: f}
	s.segs[n] = seg
	s.cur = seg
	return nil
}

// open opens the part of run id, or refuses with ErrStoreFull; t is when,
// in Unix nanoseconds. Its first line is the run event of a spill (no run
// span).
func (s *runStore) open(id string, t int64, host string) (*storeRun, error) {
	r := &storeRun{s: s, id: id}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs >= s.lim.openRuns {
		return nil, fmt.Errorf("jsonrun: run %s: %w: %d runs open (max_open_runs)", id, ErrStoreFull, s.runs)
	}
	ev := journal.Event{Kind: journal.KindRun, T: t, RunID: id, PID: s.pid, Host: host}
	r.buf = journal.Append(r.buf[:0], &ev)
	if err := s.queueLocked(r, r.buf, true); err != nil {
		return nil, err
	}
	s.runs++
	return r, nil
}

// queueLocked queues the lines of r (nil: lines of no open run, a done
// line) for the next commit. With bound, it refuses lines past the run's
// or the store's byte bounds. s.mu must be held.
func (s *runStore) queueLocked(r *storeRun, lines []byte, bound bool) error {
	switch {
	case s.err != nil:
		return s.err
	case s.closed:
		return errors.New("jsonrun: the store of open runs is closed")
	case r != nil && r.done:
		return nil
	}
	n := int64(len(lines))
	if bound && r.bytes+n > s.lim.runBytes {
		return fmt.Errorf("jsonrun: run %s: %w: the run holds %d bytes (max_run_bytes %d)", r.id, ErrStoreFull, r.bytes, s.lim.runBytes)
	}
	if bound && s.bytes+n > s.lim.totalBytes {
		return fmt.Errorf("jsonrun: run %s: %w: %d bytes stored (max_bytes %d)", r.id, ErrStoreFull, s.bytes, s.lim.totalBytes)
	}
	if s.cur.size > 0 && s.cur.size+n > s.lim.segBytes {
		if err := s.roll(s.cur.n + 1); err != nil {
			s.err = err
			return err
		}
	}
	seg := s.cur
	if r != nil {
		if !r.in(seg.n) {
			seg.live++
		}
		r.addExtent(seg.n, seg.size, len(lines))
		r.bytes += n
	}
	seg.size += n
	s.bytes += n
	if k := len(s.pending); k > 0 && s.pending[k-1].seg == seg {
		s.pending[k-1].buf = append(s.pending[k-1].buf, lines...)
	} else {
		var buf []byte
		if k := len(s.free); k > 0 {
			buf, s.free = s.free[k-1], s.free[:k-1]
		}
		s.pending = append(s.pending, pendingWrite{seg: seg, buf: append(buf, lines...)})
	}
	s.queued++
	return nil
}

// commit returns once every line queued before it was called is written
// (and fsynced, with sync): the first caller writes what every caller
// queued, the others wait for it. A write error stops the store.
func (s *runStore) commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	target := s.queued
	for s.written < target && s.err == nil {
		if s.writing {
			s.cond.Wait()
			continue
		}
		s.writing = true
		batch, upTo := s.pending, s.queued
		s.pending = nil
		s.mu.Unlock()
		err := writeBatch(batch, s.sync)
		s.mu.Lock()
		s.writing = false
		if err != nil {
			s.err = fmt.Errorf("jsonrun: store of open runs: %w", err)
		} else {
			s.written = upTo
			s.dropDeadLocked()
			for _, p := range batch {
				if cap(p.buf) <= maxFreeBuf && len(s.free) < maxFreeBufs {
					s.free = append(s.free, p.buf[:0])
				}
			}
		}
		s.cond.Broadcast()
	}
	return s.err
}

// The buffers of written batches kept for reuse: at most maxFreeBufs,
// each of at most maxFreeBuf bytes.
const (
	maxFreeBufs = 8
	maxFreeBuf  = 1 << 20
)

// writeBatch writes each segment's queued lines with one write, then
// fsyncs the segments written when sync asks.
func writeBatch(batch []pendingWrite, sync bool) error {
	for _, p := range batch {
		if _, err := p.seg.f.Write(p.buf); err != nil {
			return err
		}
	}
	if !sync {
		return nil
	}
	var last *segment
	for _, p := range batch {
		if p.seg != last {
			if err := p.seg.f.Sync(); err != nil {
				return err
			}
			last = p.seg
		}
	}
	return nil
}

// dropDeadLocked removes the segments no open run has lines in, but the
// one appended to; their lines are written (no commit is under way), so
// every done line that freed them is too. s.mu must be held.
func (s *runStore) dropDeadLocked() {
	if s.writing || len(s.pending) > 0 {
		return
	}
	for n, seg := range s.segs {
		if seg.live > 0 || seg == s.cur {
			continue
		}
		seg.f.Close()
		os.Remove(filepath.Join(s.dir, segName(n)))
		s.bytes -= seg.size
		delete(s.segs, n)
	}
}

// write queues encoded lines of r (bounded).
func (r *storeRun) write(lines []byte) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.s.queueLocked(r, lines, true)
}

// writeStage queues the start or end event of a stage (bounded).
func (r *storeRun) writeStage(rec *stageRecord, end bool) error {
	st := journalStage(rec)
	st.RunID = r.id
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.buf = journal.AppendStage(r.buf[:0], &st, end)
	return r.s.queueLocked(r, r.buf, true)
}

// writeRoot queues the record of the run span that arrived, so that a
// restart finishes the run with it. It is not bounded: a run must be
// able to end.
func (r *storeRun) writeRoot(root *rootRecord, t int64, host string) error {
	ev := rootEvent(root, r.id, t, host)
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.buf = journal.Append(r.buf[:0], &ev)
	err := r.s.queueLocked(r, r.buf, false)
	if err == nil {
		r.root = true
	}
	return err
}

// hasRoot reports whether the run's root is among its lines.
func (r *storeRun) hasRoot() bool {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.root
}

// removeAfterSync removes r once its run file, written at path without
// syncs, is durable: a goroutine syncs the files written meanwhile with
// one SyncFS, then marks their runs done. Until then the store keeps r
// (its events and root), from which a restart writes the file again.
func (s *runStore) removeAfterSync(r *storeRun, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncQ = append(s.syncQ, synced{run: r, path: path})
	if !s.syncing {
		s.syncing = true
		go s.syncLoop()
	}
}

// syncLoop syncs the files of syncQ in batches and marks their runs
// done, until syncQ is empty. A failed sync leaves the runs in the store,
// for the next start to write again.
func (s *runStore) syncLoop() {
	for {
		t := time.NewTimer(syncWindow)
		select {
		case <-t.C:
		case <-s.closing:
			t.Stop()
		}
		s.mu.Lock()
		q := s.syncQ
		s.syncQ = nil
		if len(q) == 0 {
			s.syncing = false
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
		gate := s.syncGate
		s.mu.Unlock()
		if gate != nil {
			<-gate
		}
		paths := make([]string, len(q))
		for i, x := range q {
			paths[i] = x.path
		}
		if err := fsutil.SyncFS(s.filesDir, paths); err != nil {
			otel.Handle(fmt.Errorf("jsonrun: sync %d run files: %w; their runs stay in the store of open runs", len(q), err))
			continue
		}
		for _, x := range q {
			_ = x.run.remove()
		}
		if err := s.commit(); err != nil {
			otel.Handle(err)
		}
	}
}

func (r *storeRun) failed() error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.s.err
}

// foreign: no other process writes to the store.
func (r *storeRun) foreign() bool  { return false }
func (r *storeRun) detached() bool { return false }
func (r *storeRun) where() string  { return r.s.dir + " (run " + r.id + ")" }

// close keeps the run's lines for a later exporter (Detach, or a run file
// that could not be written): nothing is written.
func (r *storeRun) close() error { return nil }

// remove marks the run done: its file is written, its lines are dead, and
// a segment whose runs are all done is removed after the next commit.
func (r *storeRun) remove() error {
	s := r.s
	s.mu.Lock()
	if r.done {
		s.mu.Unlock()
		return nil
	}
	ev := journal.Event{Kind: journal.KindDone, RunID: r.id}
	r.buf = journal.Append(r.buf[:0], &ev)
	// The done line is not one of the run's lines: it goes to the
	// segment appended to, accounted to no run.
	err := s.queueLocked(nil, r.buf, false)
	r.done = true
	for _, n := range r.segments() {
		if seg := s.segs[n]; seg != nil {
			seg.live--
		}
	}
	r.ext = nil
	s.runs--
	s.mu.Unlock()
	return err
}

// read returns the run's lines, after committing what is queued.
func (r *storeRun) read() (journalContents, error) {
	if err := r.s.commit(); err != nil {
		return journalContents{}, err
	}
	r.s.mu.Lock()
	ext := slices.Clone(r.ext)
	files := make(map[uint32]*os.File, 2)
	for _, e := range ext {
		if seg := r.s.segs[e.seg]; seg != nil {
			files[e.seg] = seg.f
		}
	}
	r.s.mu.Unlock()
	var buf bytes.Buffer
	for _, e := range ext {
		f := files[e.seg]
		if f == nil {
			return journalContents{}, fmt.Errorf("jsonrun: run %s: segment %s is gone", r.id, segName(e.seg))
		}
		b := make([]byte, e.n)
		if _, err := f.ReadAt(b, e.off); err != nil {
			return journalContents{}, fmt.Errorf("jsonrun: run %s: read %s: %w", r.id, segName(e.seg), err)
		}
		buf.Write(b)
	}
	return readJournal(&buf), nil
}

// addExtent adds n bytes at off of segment seg to the run's lines,
// joining the last extent when they follow it.
func (r *storeRun) addExtent(seg uint32, off int64, n int) {
	if k := len(r.ext); k > 0 {
		last := &r.ext[k-1]
		if last.seg == seg && last.off+int64(last.n) == off && uint64(last.n)+uint64(n) < 1<<32 {
			last.n += uint32(n)
			return
		}
	}
	r.ext = append(r.ext, extent{seg: seg, off: off, n: uint32(n)})
}

// in reports whether the run has lines in segment n.
func (r *storeRun) in(n uint32) bool {
	for _, e := range r.ext {
		if e.seg == n {
			return true
		}
	}
	return false
}

// segments returns the segments the run has lines in, each once.
func (r *storeRun) segments() []uint32 {
	var out []uint32
	for _, e := range r.ext {
		if !slices.Contains(out, e.seg) {
			out = append(out, e.seg)
		}
	}
	return out
}

// stats returns the open runs and bytes.
func (s *runStore) stats() (runs int, bytes int64, segs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs, s.bytes, len(s.segs)
}

// close writes what is queued and closes the files. Open runs stay in the
// store for the next exporter.
func (s *runStore) close() error {
	s.closingOnce.Do(func() { close(s.closing) })
	s.mu.Lock()
	for s.syncing {
		s.cond.Wait()
	}
	s.mu.Unlock()
	err := s.commit()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	if cerr := s.closeFiles(); err == nil {
		err = cerr
	}
	return err
}

// closeFiles closes every file, the lock last, without writing.
func (s *runStore) closeFiles() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, seg := range s.segs {
		if s.sync {
			errs = append(errs, seg.f.Sync())
		}
		errs = append(errs, seg.f.Close())
	}
	s.segs = map[uint32]*segment{}
	s.cur = nil
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
		s.lock = nil
	}
	return errors.Join(errs...)
}

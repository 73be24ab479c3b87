"""The run's journal, in stagetrack's format (internal/journal/doc.go):
JSON Lines in <dir>/<run_id>.journal, a run event first, then a start and
an end event per stage. The writer holds a shared flock while it may write,
so that `stagetrack recover` takes the journal only once this process is
gone."""

import os
import threading

from . import _runfile

try:
    import fcntl
except ImportError:  # not POSIX: no lock, and recover cannot tell live from dead
    fcntl = None

SUFFIX = ".journal"
COUNT_SPAN = "stage_tracker.process"


def _line(fields):
    """One event: fields is [(key, JSON text)], empty values left out."""
    return ("{" + ",".join('"%s":%s' % (k, v) for k, v in fields if v is not None) + "}\n").encode("utf-8")


def _str(s):
    return _runfile.text(s) if s else None


def _int(n):
    return str(n) if n else None


def run_event(t, run_id, trace_id, span_id, parent_span_id, name, args, pid, host):
    return _line([("e", '"run"'), ("t", str(t)), ("run_id", _str(run_id)),
                  ("trace_id", _str(trace_id)), ("span_id", _str(span_id)),
                  ("parent_span_id", _str(parent_span_id)), ("name", _str(name)),
                  ("args", args), ("pid", _int(pid)), ("host", _str(host))])


def stage_event(rec, end, pid=0, host="", parent=None):
    """The start (end False) or end event of rec, a _runfile.Record; parent
    is the parent span id of a top-level stage (None: the run's span)."""
    f = [("e", '"end"' if end else '"start"'), ("t", str(rec.end if end else rec.start)),
         ("span_id", _str(rec.span_id)),
         ("parent_span_id", _str(rec.parent.span_id if rec.parent else parent)),
         ("name", _str(rec.name))]
    if end:
        f += [("pid", _int(pid)), ("host", _str(host))]
    f.append(("start", str(rec.start)))
    if not end:
        return _line(f)
    f += [("end", str(rec.end)),
          ("failed", "true" if rec.failed else None),
          ("error", _str(rec.error)),
          ("status", _str(rec.status if rec.status in ("unfinished", "running") else None)),
          ("data", rec.data),
          ("data_error", _str(rec.data_error)),
          ("stack", _str(rec.stack))]
    return _line(f)


def count_event(span_id, n, t, pid, host, parent):
    """The end event of the count span (docs/attributes.md): this process
    ended n stages of the run."""
    return _line([("e", '"end"'), ("t", str(t)), ("span_id", _str(span_id)),
                  ("parent_span_id", _str(parent)), ("name", _str(COUNT_SPAN)),
                  ("pid", _int(pid)), ("host", _str(host)), ("start", str(t)),
                  ("end", str(t)), ("process_stage_count", _int(n))])


class Journal:
    """An open journal. Each event is one write(2) on O_APPEND, so a kill
    tears at most the last line. Safe for concurrent use."""

    def __init__(self, path, first_line):
        self.path = path
        self._lock = threading.Lock()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_SH)
            os.write(fd, first_line)
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
        self._fd = fd

    @classmethod
    def join(cls, path):
        """Open the journal of a run another process owns (stagetrack start,
        run or exec), to append events after its own. Raises OSError when
        it is gone or being recovered."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            if fcntl is not None:
                # Non-blocking: an exclusive holder is a recovery under way.
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            if not os.path.exists(path):
                raise FileNotFoundError(path)
        except BaseException:
            os.close(fd)
            raise
        self = cls.__new__(cls)
        self.path = path
        self._lock = threading.Lock()
        self._fd = fd
        return self

    def write(self, line):
        with self._lock:
            if self._fd is None:
                return
            os.write(self._fd, line)

    def remove(self):
        """Remove the journal (its run file is written), then drop the lock."""
        with self._lock:
            if self._fd is None:
                return
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            os.close(self._fd)
            self._fd = None

    def close(self):
        """Drop the lock and leave the journal for recovery."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

"""Tracker: the Python stage-tracker's API on stagetrack's run model."""

import contextvars
import functools
import inspect
import os
import re
import secrets
import socket
import threading
import time
import traceback
import uuid
import warnings

from . import _journal, _otlp, _runfile

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# The stage a `with tracker.stage(...)` block (or a decorated function) is
# in, per thread and per asyncio task: stages started inside it nest in it.
_current = contextvars.ContextVar("stage_tracker_current", default=None)


def _span_id():
    while True:
        s = secrets.token_hex(8)
        if s != "0" * 16:
            return s


def _error_text(error):
    """(message, stack) of a string or an exception."""
    if error is None:
        return None, None
    if isinstance(error, BaseException):
        msg = str(error) or type(error).__name__
        stack = None
        if error.__traceback__ is not None:
            stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        return msg, stack
    return str(error), None


class Stage:
    """A running stage: what start_stage returns and `with tracker.stage()`
    gives. Set its data (s.data = {...}) or error before it ends. Safe for
    concurrent use; ending it twice is a no-op."""

    def __init__(self, tracker, rec):
        self._tracker = tracker
        self._rec = rec
        self.data = None
        self.error = None

    @property
    def name(self):
        return self._rec.name

    @property
    def span_id(self):
        return self._rec.span_id

    def end(self, data=None, error=None):
        """End the stage with data (any JSON value) and error (a string or
        an exception), or what was set on it."""
        self._tracker._end_rec(self._rec, self.data if data is None else data,
                           self.error if error is None else error)


class _Scope:
    """tracker.stage(name): a context manager and a decorator."""

    def __init__(self, tracker, name):
        self._tracker = tracker
        self._name = name
        self._stack = []

    def __enter__(self):
        st = self._tracker.start_stage(self._name)
        token = _current.set(st._rec) if st is not None else None
        self._stack.append((st, token))
        return st if st is not None else Stage(self._tracker, None)

    def __exit__(self, exc_type, exc, tb):
        st, token = self._stack.pop()
        if token is not None:
            _current.reset(token)
        if st is not None:
            st.end(error=exc if exc is not None else None)
        return False  # exceptions are recorded and go on

    def __call__(self, fn):
        name = self._name or fn.__name__
        tracker = self._tracker
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def awrapper(*a, **kw):
                with _Scope(tracker, name):
                    return await fn(*a, **kw)
            return awrapper

        @functools.wraps(fn)
        def wrapper(*a, **kw):
            with _Scope(tracker, name):
                return fn(*a, **kw)
        return wrapper


class Tracker:
    """One run of a pipeline and its stages.

    Tracker(args=...) starts the run; start_stage/end_stage, or
    `with tracker.stage(name) as s:`, or `@tracker.stage(name)`, record its
    stages; finalize(path) writes the run file. Safe for concurrent use
    from any number of threads. After finalize, stage calls are no-ops
    that warn (RuntimeWarning); finalize again writes the same run again.

    Standalone, the run keeps a journal at <dir>/<run_id>.journal until
    finalize, so that `stagetrack recover <dir>` turns a killed run into a
    run file. Inside a `stagetrack run`, `start` or `exec` (the run's
    environment is present) the stages join that run instead: appended to
    its journal and sent as spans to its receiver. With
    OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT set, finalize also sends the run
    as OTLP/HTTP JSON spans.
    """

    def __init__(self, args=None, *, name=None, dir="runs", journal=True, env=None):
        env = os.environ if env is None else env
        self._lock = threading.RLock()
        self._wall0 = time.time_ns()
        self._mono0 = time.monotonic_ns()
        self._start = self._wall0
        self._end = None
        self._records = []
        self._open = []
        self._warnings = []
        self._seq = 0
        self._journal = None
        self._made_dir = None
        self._dir = dir
        self.args = args
        try:
            self._args_json = _runfile.value(args) if args is not None else None
        except (TypeError, ValueError, RecursionError) as e:
            self._args_json = None
            self._warn("args cannot be encoded as JSON (%s); args dropped" % e)
        self.name = name or (args if isinstance(args, str) and args else "run")
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.span_id = _span_id()
        self.parent_span_id = None
        self._otlp = _otlp.Config(env)
        self._otlp_err = None
        tp = _otlp.parse_traceparent(env.get("TRACEPARENT"))
        env_run = env.get("STAGE_TRACKER_RUN_ID", "").strip()
        in_run = bool(tp and _UUID.match(env_run))
        # Joined: a stagetrack run is around. Our stages go into the run's
        # journal, as a joined Go process's do (stagetrack start, exec and
        # run all read it, and it outlives a kill of this process), and,
        # when an OTLP endpoint is set (stagetrack run's receiver, or the
        # user's backend), as spans too: the run merges them by span id.
        self._run_journal = None
        if in_run and env.get("STAGE_TRACKER_JOURNAL"):
            try:
                self._run_journal = _journal.Journal.join(env["STAGE_TRACKER_JOURNAL"])
            except OSError as e:
                self._warn("could not join the run's journal %s (%s); recorded on its own"
                           % (env["STAGE_TRACKER_JOURNAL"], e))
        self.joined = in_run and (bool(self._otlp.endpoint) or self._run_journal is not None)
        if tp:
            self.trace_id, self.parent_span_id = tp
        else:
            self.trace_id = secrets.token_hex(16)
        self.run_id = env_run.lower() if self.joined else str(uuid.uuid4())
        if self._run_journal is not None:
            self._journal = self._run_journal
        elif journal and not self.joined:
            self._open_journal()

    # --- the original's API -------------------------------------------

    def start_stage(self, name):
        """Start a stage called name (names may repeat: each occurrence is
        recorded). Inside a `with tracker.stage()` block it nests in that
        stage. Returns its Stage."""
        name = str(name)
        with self._lock:
            if self._end is not None:
                self._misuse("start_stage(%r) after finalize; ignored" % name)
                return None
            parent = _current.get()
            if parent is not None and (parent not in self._open):
                parent = None
            self._seq += 1
            rec = _runfile.Record(name, _span_id(), parent, self._now(), self._seq)
            if parent is not None:
                parent.children.append(rec)
            self._records.append(rec)
            self._open.append(rec)
            if self._journal is not None:
                self._journal_write(_journal.stage_event(rec, False, parent=self._top_parent()))
            return Stage(self, rec)

    def end_stage(self, name, data=None, error=None):
        """End the most recent open stage called name, with data (any JSON
        value) and error (a string or an exception). A name with no open
        stage is a no-op that warns (RuntimeWarning) and is noted in the
        run file's warnings."""
        name = str(name)
        with self._lock:
            if self._end is not None:
                self._misuse("end_stage(%r) after finalize; ignored" % name)
                return
            for rec in reversed(self._open):
                if rec.name == name:
                    break
            else:
                self._misuse("end_stage(%r) without an open stage of that name; ignored" % name)
                return
        self._end_rec(rec, data, error)

    def finalize(self, path=None):
        """End the run and write its run file to path (default
        <dir>/<run_id>.json), atomically. Stages still open end as
        "unfinished". Returns the path written."""
        with self._lock:
            first = self._end is None
            if first:
                self._end = self._now()
                for rec in list(self._open):
                    self._close(rec, None, None, "unfinished")
            if path is None:
                path = os.path.join(self._dir, self.run_id + ".json")
            run = self._run()
            content = _runfile.encode(run)
        _runfile.write_atomic(os.fspath(path), content)
        if first:
            if self.joined and self._records:
                self._send_count()
            if self._run_journal is not None:
                self._run_journal.close()  # the run's, not ours to remove
                self._journal = self._run_journal = None
            elif self._journal is not None:
                self._journal.remove()
                self._journal = None
                if self._made_dir:
                    try:
                        os.rmdir(self._made_dir)  # only when empty
                    except OSError:
                        pass
            if self._otlp.endpoint and not self.joined:
                self._export(self._spans(run))
        return os.fspath(path)

    # --- what Python users expect --------------------------------------

    def stage(self, name=None):
        """`with tracker.stage("train") as s:` records a stage, its error
        when the block raises (the exception goes on), and s.data;
        `@tracker.stage("train")` (or `@tracker.stage()`, named after the
        function) records each call. Stages started inside nest in it."""
        if callable(name):  # @tracker.stage without parentheses
            return _Scope(self, None)(name)
        return _Scope(self, name)

    @property
    def warnings(self):
        with self._lock:
            return list(self._warnings)

    # --- internals -----------------------------------------------------

    def _now(self):
        return self._wall0 + (time.monotonic_ns() - self._mono0)

    def _warn(self, msg):
        self._warnings.append(msg)

    def _misuse(self, msg):
        self._warn(msg)
        warnings.warn("stage_tracker: " + msg, RuntimeWarning, stacklevel=4)

    def _end_rec(self, rec, data, error):
        with self._lock:
            if rec is None or rec not in self._open:
                return  # ended already (or by finalize): a no-op
            self._close(rec, data, error, None)
        if self.joined and self._otlp.endpoint:
            self._export([self._stage_span(rec)])

    def _close(self, rec, data, error, status):
        rec.end = self._now()
        if status == "unfinished":
            rec.status = status
        else:
            rec.data, rec.data_error = _runfile.encode_data(data)
            rec.error, rec.stack = _error_text(error)
            rec.status = "error" if rec.error is not None else "ok"
        self._open.remove(rec)
        if self._journal is not None:
            self._journal_write(_journal.stage_event(rec, True, self.pid, self.host, self._top_parent()))

    def _top_parent(self):
        """The parent span of a top-level stage in the journal: the stage
        (or run) that started this process when joined; else the run's
        span, which recovery treats as top level."""
        return self.parent_span_id if self._run_journal is not None else None

    def _open_journal(self):
        d = self._dir
        try:
            if not os.path.isdir(d):
                os.makedirs(d)
                self._made_dir = d
            line = _journal.run_event(self._start, self.run_id, self.trace_id, self.span_id,
                                      self.parent_span_id, self.name, self._args_json,
                                      self.pid, self.host)
            self._journal = _journal.Journal(os.path.join(d, self.run_id + _journal.SUFFIX), line)
        except OSError as e:
            self._warn("no journal (%s): a killed run cannot be recovered" % e)
            warnings.warn("stage_tracker: " + self._warnings[-1], RuntimeWarning, stacklevel=3)

    def _journal_write(self, line):
        try:
            self._journal.write(line)
        except OSError as e:
            self._warn("journal write failed (%s); journal dropped" % e)
            self._journal.close()
            self._journal = None

    def _run(self):
        top = [r for r in self._records if r.parent is None]
        why = _runfile.failure(top)
        return {
            "run_id": self.run_id, "start": self._start, "end": self._end,
            "args": self._args_json, "stages": top, "name": self.name,
            "status": "failed" if why else "ok", "error": why,
            "trace_id": self.trace_id, "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "host": self.host, "pid": self.pid, "warnings": list(self._warnings),
        }

    def _stage_span(self, rec):
        attrs = [("stage_tracker.run.id", self.run_id), ("stage_tracker.stage.name", rec.name)]
        if rec.status == "unfinished":
            attrs.append(("stage_tracker.stage.status", "unfinished"))
        if rec.data is not None:
            attrs.append(("stage_tracker.stage.data_size", len(rec.data.encode("utf-8"))))
            attrs.append(("stage_tracker.stage.data", rec.data))
        if rec.data_error:
            attrs.append(("stage_tracker.stage.data_error", rec.data_error))
        if rec.stack:
            attrs.append(("stage_tracker.stage.stack", rec.stack))
        if rec.parent is not None:
            parent = rec.parent.span_id
        elif self.joined:
            parent = self.parent_span_id  # the exec stage (or run) that started us
        else:
            parent = self.span_id
        return _otlp.span(self.trace_id, rec.span_id, parent, rec.name, rec.start, rec.end,
                          attrs, error=rec.error, stack=rec.stack)

    def _spans(self, run):
        attrs = [("stage_tracker.run.id", self.run_id)]
        if self._args_json is not None:
            attrs.append(("stage_tracker.run.args", self._args_json))
        attrs.append(("stage_tracker.run.stage_count", len(self._records)))
        root = _otlp.span(self.trace_id, self.span_id, self.parent_span_id, self.name,
                          self._start, self._end, attrs, error=run["error"])
        return [self._stage_span(r) for r in self._records] + [root]

    def _send_count(self):
        """The count span (docs/attributes.md): how many stages of the run
        this joined process ended, sent after them, so that the run file
        says missing_stages when some of them never arrived."""
        n, sid = len(self._records), _span_id()
        if self._run_journal is not None:
            self._journal_write(_journal.count_event(sid, n, self._end, self.pid, self.host, self.parent_span_id))
        if self._otlp.endpoint:
            attrs = [("stage_tracker.process.run_id", self.run_id), ("stage_tracker.process.stage_count", n)]
            self._export([_otlp.span(self.trace_id, sid, self.parent_span_id, _journal.COUNT_SPAN,
                                     self._end, self._end, attrs)])

    def _export(self, spans):
        if self._otlp_err is not None:
            return  # one failure is all a dead endpoint costs
        err = _otlp.post(self._otlp, spans)
        if err is not None:
            with self._lock:
                self._otlp_err = err
            warnings.warn("stage_tracker: spans not sent to %s; later spans are not sent either" % err,
                          RuntimeWarning, stacklevel=3)

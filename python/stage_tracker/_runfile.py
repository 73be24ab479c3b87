"""The run file (schema_version 2, docs/run-file.md): encoding, stage keys,
the status rule and the atomic write. Pure functions over plain records;
no I/O except write_atomic."""

import datetime
import json
import os
import tempfile

SCHEMA_VERSION = 2
TEMP_INFIX = ".tmp-"  # as stagetrack's temporary files, so recover cleans ours

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class Record:
    """One stage as the run file needs it. Times are Unix nanoseconds."""

    __slots__ = ("name", "span_id", "parent", "start", "end", "data", "data_error",
                 "error", "status", "stack", "children", "seq")

    def __init__(self, name, span_id, parent, start, seq):
        self.name = name
        self.span_id = span_id
        self.parent = parent  # Record or None
        self.start = start
        self.end = None
        self.data = None  # JSON text or None
        self.data_error = None
        self.error = None
        self.status = None  # None while open; then ok, error or unfinished
        self.stack = None
        self.children = []
        self.seq = seq  # start order in the run

    @property
    def failed(self):
        return self.status in ("error", "unfinished", "running")


# --- JSON text -------------------------------------------------------------

def _fix_surrogates(s):
    # Lone surrogates cannot be UTF-8: they become U+FFFD, as invalid UTF-8
    # does in Go's encoding/json.
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def text(s):
    """A string the file writes itself (names, errors): JSON, UTF-8,
    U+2028 and U+2029 escaped."""
    out = json.dumps(_fix_surrogates(str(s)), ensure_ascii=False)
    return out.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def value(v):
    """args or data as the Go tracker embeds them (encoding/json's form):
    one line, keys sorted, <, > and & escaped. Raises TypeError or
    ValueError for what JSON cannot hold (NaN, ±Inf, other objects)."""
    out = json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                     allow_nan=False)
    out = _fix_surrogates(out)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        out = out.replace(a, b)
    return out


def encode_data(v):
    """(json_text, None) or (None, data_error) for a stage's data."""
    if v is None:
        return None, None
    try:
        return value(v), None
    except (TypeError, ValueError, RecursionError) as e:
        return None, "data cannot be encoded as JSON: %s" % e


def timestamp(ns):
    """UTC, microseconds truncated, +00:00: Python's isoformat."""
    return (_EPOCH + datetime.timedelta(microseconds=ns // 1000)).isoformat(timespec="microseconds")


def seconds(ns):
    """A duration in nanoseconds as seconds rounded to the microsecond, in
    the shortest exact form: 0.030681, 3, 0."""
    us = (ns + 500) // 1000 if ns >= 0 else -((-ns + 500) // 1000)
    sign = "-" if us < 0 else ""
    us = abs(us)
    whole, frac = divmod(us, 1000000)
    if frac == 0:
        return "%s%d" % (sign, whole)
    return ("%s%d.%06d" % (sign, whole, frac)).rstrip("0")


# --- keys of repeated names ------------------------------------------------

def keys(names):
    """The keys of one level's stages, given their names in start order:
    the last attempt of a name under the plain name, earlier ones name#1,
    name#2, …, skipping numbered keys that are another stage's name.
    Returns [(key, attempt)]."""
    total = {}
    for n in names:
        total[n] = total.get(n, 0) + 1
    has_hash = any("#" in n for n in names)
    seen, last, out = {}, {}, []
    for n in names:
        s = seen.get(n, 0) + 1
        seen[n] = s
        if s >= total[n]:
            out.append((n, s))
            continue
        if not has_hash:
            out.append(("%s#%d" % (n, s), s))
            continue
        k = max(s, last.get(n, 0) + 1)
        while ("%s#%d" % (n, k)) in total:
            k += 1
        last[n] = k
        out.append(("%s#%d" % (n, k), s))
    return out


def _ordered(records):
    return sorted(records, key=lambda r: (r.start, r.span_id))


# --- status ----------------------------------------------------------------

def failure(top):
    """Why the stages fail the run (internal/runstatus's rule), or None."""
    failed = []

    def walk(level, path, counts):
        recs = _ordered(level)
        total = {}
        for r in recs:
            total[r.name] = total.get(r.name, 0) + 1
        for rec, (_key, attempt) in zip(recs, keys([r.name for r in recs])):
            c = counts and attempt == total[rec.name]  # the last attempt of its name
            p = path + [rec.name]
            if c and rec.failed:
                why = rec.error if rec.status == "error" else "did not finish"
                failed.append((rec.seq, p, why or ""))
            walk(rec.children, p, c)

    walk(top, [], True)
    if not failed:
        return None
    failed.sort(key=lambda f: f[0])
    _, path, why = failed[0]
    msg = "stage %s failed" % json.dumps("/".join(path), ensure_ascii=False)
    if why:
        msg += ": " + why
    if len(failed) > 1:
        msg += " (and %d more failed stages)" % (len(failed) - 1)
    return msg


# --- the file --------------------------------------------------------------

def _stage_lines(out, level, indent):
    recs = _ordered(level)
    if not recs:
        out.append("{}")
        return
    out.append("{\n")
    pad = "  " * indent
    for i, (rec, (key, attempt)) in enumerate(zip(recs, keys([r.name for r in recs]))):
        p = pad + "  "
        f = [
            ("start_time", text(timestamp(rec.start))),
            ("duration_sec", seconds(rec.end - rec.start)),
            ("data", rec.data if rec.data is not None else "null"),
            ("error", text(rec.error) if rec.error is not None else "null"),
            ("name", text(rec.name)),
            ("attempt", str(attempt)),
            ("end_time", text(timestamp(rec.end))),
            ("status", text(rec.status)),
            ("span_id", text(rec.span_id)),
        ]
        if rec.data_error:
            f.append(("data_error", text(rec.data_error)))
        if rec.stack:
            f.append(("stack", text(rec.stack)))
        out.append("%s%s: {\n" % (pad, text(key)))
        for j, (k, v) in enumerate(f):
            out.append("%s%s: %s" % (p, text(k), v))
            out.append(",\n" if j < len(f) - 1 or rec.children else "\n")
        if rec.children:
            out.append('%s"stages": ' % p)
            _stage_lines(out, rec.children, indent + 2)
            out.append("\n")
        out.append("%s}%s\n" % (pad, "," if i < len(recs) - 1 else ""))
    out.append("  " * (indent - 1) + "}")


def _count(level):
    return sum(1 + _count(r.children) for r in level)


def encode(run):
    """The run file's text of run, a dict with: run_id, start, end (ns),
    args (JSON text or None), stages (top-level Records), name, status,
    error, trace_id, span_id, parent_span_id, host, pid, warnings."""
    out = ["{\n"]
    f = [
        ("run_id", text(run["run_id"])),
        ("start_time", text(timestamp(run["start"]))),
        ("args", run["args"] if run["args"] is not None else "null"),
        ("stages", None),
        ("completed_at", text(timestamp(run["end"]))),
        ("total_duration_sec", seconds(run["end"] - run["start"])),
        ("schema_version", str(SCHEMA_VERSION)),
        ("name", text(run["name"])),
        ("status", text(run["status"])),
        ("error", text(run["error"]) if run["error"] is not None else "null"),
        ("trace_id", text(run["trace_id"])),
        ("span_id", text(run["span_id"])),
    ]
    if run.get("parent_span_id"):
        f.append(("parent_span_id", text(run["parent_span_id"])))
    f.append(("stage_count", str(_count(run["stages"]))))
    if run.get("host"):
        f.append(("host", text(run["host"])))
    if run.get("pid"):
        f.append(("pid", str(run["pid"])))
    if run.get("warnings"):
        f.append(("warnings", "[" + ", ".join(text(w) for w in run["warnings"]) + "]"))
    for i, (k, v) in enumerate(f):
        out.append("  %s: " % text(k))
        if k == "stages":
            _stage_lines(out, run["stages"], 2)
        else:
            out.append(v)
        out.append(",\n" if i < len(f) - 1 else "\n")
    out.append("}\n")
    return "".join(out)


def write_atomic(path, content, perm=0o644):
    """Write content to path so that a reader sees the whole file or the
    previous one: a temporary file beside it, fsync, os.replace, and an
    fsync of the directory."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + TEMP_INFIX, dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, perm & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)

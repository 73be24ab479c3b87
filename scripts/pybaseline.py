#!/usr/bin/env python3
"""The Python baseline of issue 23: what a user's own stdlib script costs.

It reads the same run files as stagetrack, with Python's json module, and
does the same work as the stagetrack command of the same name, single
threaded, so that scripts/bench-python.sh can measure stagetrack against it:

  stats FILE|DIR...             per stage path: records, runs, failures,
                                duration count, mean, min, p50, p95, max,
                                stages ordered by their median start offset;
                                per stage path and numeric data key: count,
                                mean, min, p50, max, last. Prints JSON.
  report -o OUT FILE|DIR...     the stats above plus what the HTML report
                                shows: runs by status, run durations, the
                                newest failures, a trend of run and stage
                                durations, a Gantt chart (SVG) of the newest
                                ten runs and a list of the others, written as
                                one HTML string to OUT.
  validate [-q] FILE...         json.load and the checks of the run file's
                                JSON Schema (internal/schemajson/schema.json,
                                interpreted here: type, required, properties,
                                additionalProperties, items, minItems, enum,
                                pattern, minimum, $ref); prints problems.
  show FILE                     json.load alone.

Directories are searched recursively for *.json files whose names do not
start with a dot, as stagetrack does. Python standard library only.
"""

import html
import json
import math
import os
import re
import sys
from datetime import datetime

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "internal", "schemajson", "schema.json")


def files_of(paths):
    out = []
    for p in paths:
        if not os.path.isdir(p):
            out.append(p)
            continue
        for root, dirs, names in os.walk(p):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            out.extend(os.path.join(root, n) for n in names if n.endswith(".json") and not n.startswith("."))
    return sorted(set(out))


def load_runs(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return doc if isinstance(doc, list) else [doc]


def ts(s):
    return datetime.fromisoformat(s) if s else None


def nearest_rank(sorted_xs, p):
    return sorted_xs[max(math.ceil(p / 100 * len(sorted_xs)), 1) - 1]


FAILED = {"error", "unfinished", "running"}


class Stats:
    """Per stage path aggregation, as runstats.Aggregator does."""

    def __init__(self):
        self.run_durations = []
        self.runs = 0
        self.failed_runs = 0
        self.groups = {}  # path -> dict
        self.data = {}  # (path, key) -> [values]

    def add(self, run):
        self.runs += 1
        if run.get("status", "ok") != "ok":
            self.failed_runs += 1
        self.run_durations.append(run.get("total_duration_sec") or 0.0)
        start = ts(run.get("start_time"))
        seen = set()
        self._stages(run.get("stages") or {}, "", 0, start, seen)

    def _stages(self, stages, parent, depth, start, seen):
        for st in stages.values():
            path = parent + "/" + st["name"] if parent else st["name"]
            g = self.groups.get(path)
            if g is None:
                g = self.groups[path] = {"depth": depth, "parent": parent, "durations": [], "offsets": [], "failed": 0, "runs": 0, "records": 0}
            g["records"] += 1
            d = st.get("duration_sec")
            if d is not None:
                g["durations"].append(d)
            s = ts(st.get("start_time"))
            if s is not None and start is not None:
                g["offsets"].append((s - start).total_seconds())
            if st.get("status") in FAILED:
                g["failed"] += 1
            if path not in seen:
                seen.add(path)
                g["runs"] += 1
            data = st.get("data")
            if isinstance(data, dict):
                for k, v in data.items():
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        self.data.setdefault((path, k), []).append(v)
            kids = st.get("stages")
            if kids:
                self._stages(kids, path, depth + 1, start, seen)

    @staticmethod
    def row(path, g):
        ds = sorted(g["durations"])
        r = {"path": path, "depth": g["depth"], "count": g["records"], "timed": len(ds), "runs": g["runs"], "failures": g["failed"],
             "failure_rate": g["failed"] / g["records"] if g["records"] else 0}
        if ds:
            r.update(mean_sec=sum(ds) / len(ds), min_sec=ds[0], p50_sec=nearest_rank(ds, 50), p95_sec=nearest_rank(ds, 95), max_sec=ds[-1])
        return r

    def summary(self):
        med = {p: (nearest_rank(sorted(g["offsets"]), 50) if g["offsets"] else math.inf) for p, g in self.groups.items()}
        children = {}
        for p, g in self.groups.items():
            children.setdefault(g["parent"], []).append(p)
        rows = []

        def walk(parent):
            for p in sorted(children.get(parent, []), key=lambda p: (med[p], p)):
                rows.append(self.row(p, self.groups[p]))
                walk(p)

        walk("")
        data = []
        for (path, key), vs in self.data.items():
            s = sorted(vs)
            data.append({"path": path, "key": key, "count": len(vs), "mean": sum(vs) / len(vs), "min": s[0], "p50": nearest_rank(s, 50), "max": s[-1], "last": vs[-1]})
        run = self.row("", {"depth": 0, "durations": self.run_durations, "failed": self.failed_runs, "runs": self.runs, "records": self.runs})
        return {"runs": self.runs, "run": run, "stages": rows, "data": data}


def read_all(paths):
    runs = []
    for f in files_of(paths):
        for i, r in enumerate(load_runs(f)):
            runs.append((f, r))
    runs.sort(key=lambda fr: fr[1].get("start_time") or "")
    return runs


def cmd_stats(paths):
    st = Stats()
    for _, r in read_all(paths):
        st.add(r)
    print(json.dumps(st.summary(), indent=2))


def flatten(stages, depth=0, out=None):
    out = [] if out is None else out
    for key, st in stages.items():
        out.append((depth, key, st))
        if st.get("stages"):
            flatten(st["stages"], depth + 1, out)
    return out


def cmd_report(out, paths):
    runs = read_all(paths)
    st = Stats()
    for _, r in runs:
        st.add(r)
    s = st.summary()
    esc = html.escape
    parts = ["<!doctype html><html><head><meta charset=utf-8><title>stage-tracker report</title><style>body{font:14px sans-serif}</style></head><body>"]
    by_status = {}
    for _, r in runs:
        by_status[r.get("status", "ok")] = by_status.get(r.get("status", "ok"), 0) + 1
    parts.append("<h1>%d runs</h1><p>%s</p>" % (len(runs), ", ".join("%s %d" % (esc(k), v) for k, v in sorted(by_status.items()))))
    parts.append("<table><tr><th>stage<th>count<th>failures<th>p50<th>p95<th>max</tr>")
    for row in s["stages"]:
        parts.append("<tr><td>%s<td>%d<td>%d<td>%.2f<td>%.2f<td>%.2f</tr>" % (esc(row["path"]), row["count"], row["failures"], row.get("p50_sec", 0), row.get("p95_sec", 0), row.get("max_sec", 0)))
    parts.append("</table><h2>Failures</h2><ul>")
    for f, r in reversed(runs):
        if r.get("status", "ok") == "ok":
            continue
        why = r.get("error") or ""
        for _, key, stg in flatten(r.get("stages") or {}):
            if stg.get("status") in FAILED:
                why = "%s: %s" % (key, stg.get("error") or stg.get("status"))
                break
        parts.append("<li>%s %s %s</li>" % (esc(f), esc(r.get("start_time") or ""), esc(why)))
    parts.append("</ul><h2>Trend</h2><svg width=800 height=200>")
    top = [row["path"] for row in s["stages"] if row["depth"] == 0][:8]
    n = max(len(runs) - 1, 1)
    for name in ["", *top]:
        pts = []
        for i, (_, r) in enumerate(runs):
            if name == "":
                y = r.get("total_duration_sec") or 0
            else:
                stg = (r.get("stages") or {}).get(name)
                if not stg or stg.get("duration_sec") is None:
                    continue
                y = stg["duration_sec"]
            pts.append("%.1f,%.1f" % (800 * i / n, 200 - min(y, 200)))
        parts.append('<polyline fill=none stroke=black points="%s"><title>%s</title></polyline>' % (" ".join(pts), esc(name or "run")))
    parts.append("</svg>")
    newest = list(reversed(runs))
    for f, r in newest[:10]:
        start = ts(r.get("start_time"))
        parts.append("<h3>%s</h3><p>%s %s %.2fs</p><pre>%s</pre><svg width=900>" % (esc(r.get("run_id", "")), esc(r.get("status", "")), esc(r.get("start_time") or ""),
                                                                               r.get("total_duration_sec") or 0, esc(json.dumps(r.get("args"), indent=2))))
        for i, (depth, key, stg) in enumerate(flatten(r.get("stages") or {})):
            s0, d = ts(stg.get("start_time")), stg.get("duration_sec") or 0
            x = (s0 - start).total_seconds() if s0 and start else 0
            tip = "%s %.3fs %s %s" % (key, d, stg.get("status"), json.dumps(stg.get("data"), indent=2))
            parts.append('<g><text x=%d y=%d>%s</text><rect x="%.2f" y=%d width="%.2f" height=14 class="%s"><title>%s</title></rect></g>'
                         % (depth * 10, 18 * i + 12, esc(key), 160 + 20 * x, 18 * i, max(20 * d, 1), esc(stg.get("status") or ""), esc(tip)))
        parts.append("</svg>")
    parts.append("<details><summary>older runs</summary><table>")
    for f, r in newest[10:]:
        parts.append("<tr><td>%s<td>%s<td>%s<td>%.2f</tr>" % (esc(f), esc(r.get("run_id", "")), esc(r.get("status", "")), r.get("total_duration_sec") or 0))
    parts.append("</table></details></body></html>\n")
    page = "".join(parts)
    with open(out, "w", encoding="utf-8") as w:
        w.write(page)
    print("wrote %s (%d runs, %d bytes)" % (out, len(runs), len(page)), file=sys.stderr)


# A small interpreter of the JSON Schema keywords the run file's schema uses,
# compiled once into closures that return a list of problems.
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def compile_schema(root):
    defs = {}

    def ref(name):
        def check(v, at):
            return defs[name](v, at)
        return check

    def comp(s):
        checks = []
        if "$ref" in s:
            checks.append(ref(s["$ref"].rsplit("/", 1)[1]))
        if "type" in s:
            ts_ = s["type"] if isinstance(s["type"], list) else [s["type"]]
            fs = [TYPES[t] for t in ts_]
            checks.append(lambda v, at, fs=fs, ts_=ts_: [] if any(f(v) for f in fs) else ["%s: want %s" % (at, " or ".join(ts_))])
        if "enum" in s:
            en = s["enum"]
            checks.append(lambda v, at, en=en: [] if v in en else ["%s: %r not one of %r" % (at, v, en)])
        if "pattern" in s:
            rx = re.compile(s["pattern"])
            checks.append(lambda v, at, rx=rx: ["%s: %r does not match" % (at, v)] if isinstance(v, str) and not rx.search(v) else [])
        if "minimum" in s:
            m = s["minimum"]
            checks.append(lambda v, at, m=m: ["%s: below %s" % (at, m)] if TYPES["number"](v) and v < m else [])
        if "minItems" in s:
            m = s["minItems"]
            checks.append(lambda v, at, m=m: ["%s: fewer than %d items" % (at, m)] if isinstance(v, list) and len(v) < m else [])
        if "required" in s:
            req = s["required"]
            checks.append(lambda v, at, req=req: ["%s: missing %s" % (at, k) for k in req if k not in v] if isinstance(v, dict) else [])
        if "properties" in s:
            props = {k: comp(p) for k, p in s["properties"].items()}

            def check_props(v, at, props=props):
                out = []
                if isinstance(v, dict):
                    for k, c in props.items():
                        if k in v:
                            out += c(v[k], at + "/" + k)
                return out
            checks.append(check_props)
        if "additionalProperties" in s and isinstance(s["additionalProperties"], dict):
            known = set(s.get("properties", {}))
            c = comp(s["additionalProperties"])
            checks.append(lambda v, at, c=c, known=known: [p for k, x in v.items() if k not in known for p in c(x, at + "/" + k)] if isinstance(v, dict) else [])
        if "items" in s:
            c = comp(s["items"])
            checks.append(lambda v, at, c=c: [p for i, x in enumerate(v) for p in c(x, "%s/%d" % (at, i))] if isinstance(v, list) else [])

        def check(v, at):
            out = []
            for c in checks:
                out += c(v, at)
            return out
        return check

    for name, d in root.get("$defs", {}).items():
        defs[name] = comp(d)
    return comp(root)


def cmd_validate(quiet, paths):
    with open(SCHEMA, encoding="utf-8") as f:
        check = compile_schema(json.load(f))
    bad = 0
    for p in paths:
        try:
            with open(p, encoding="utf-8") as f:
                doc = json.load(f)
        except ValueError as e:
            print("%s: not valid JSON: %s" % (p, e))
            bad += 1
            continue
        runs = doc if isinstance(doc, list) else [doc]
        problems = [x for r in runs for x in check(r, "")]
        for x in problems:
            print("%s: %s" % (p, x))
        if problems:
            bad += 1
        elif not quiet:
            print("%s: ok" % p)
    return 1 if bad else 0


def cmd_show(path):
    with open(path, encoding="utf-8") as f:
        json.load(f)


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "stats":
        cmd_stats(args)
    elif cmd == "report":
        if len(args) < 3 or args[0] != "-o":
            print("usage: pybaseline.py report -o OUT FILE|DIR...", file=sys.stderr)
            return 2
        cmd_report(args[1], args[2:])
    elif cmd == "validate":
        quiet = bool(args) and args[0] == "-q"
        return cmd_validate(quiet, args[1:] if quiet else args)
    elif cmd == "show":
        for p in args:
            cmd_show(p)
    else:
        print("unknown command %r" % cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

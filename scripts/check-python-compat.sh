#!/usr/bin/env bash
# check-python-compat.sh: do run files read in Python as the Python
# stage-tracker's users read them?
#
# With no argument it builds examples/quickstart, runs it in a temporary
# directory (nothing lands in the repo) and checks the run_output.json it
# writes, including that it holds the quick start's stages and data; then it
# builds stagetrack and runs, under stagetrack run, a stage that fails once
# and passes on retry (exec --retry), and checks that stages["flaky"] is the
# attempt that passed (error None), as the Python tool's stages[name] held
# the last record of a name, and stages["flaky#1"] the failed one. With
# arguments it checks the given run files instead (only the format checks).
#
# Checks, with Python's json and datetime.fromisoformat: the six keys of the
# Python stage-tracker come first, in its order; every timestamp (run
# start_time and completed_at, stage start_time and end_time at every level)
# parses and is UTC; every stage has start_time, duration_sec (a number),
# data and error (null or a string); duration_sec matches end_time minus
# start_time to the microsecond; total_duration_sec is a number no smaller
# than any top-level stage's duration_sec; from schema_version 2, a stage
# name used more than once at one level keys its last attempt (the highest
# "attempt") by the plain name.
#
# Prints one line per failed check and a summary line
# "python-compat: N passed, M failed"; exits 1 when a check failed, 2 when
# it could not run. Without python3 it says so and exits 0 ("skipped").
set -euo pipefail

if ! command -v python3 >/dev/null 2>&1; then
	echo "python-compat: skipped (python3 not found)"
	exit 0
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
files=("$@")
quickstart=0
if [ ${#files[@]} -eq 0 ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	if ! (cd "$repo" && go build -o "$tmp/quickstart" ./examples/quickstart); then
		echo "python-compat: cannot build ./examples/quickstart" >&2
		exit 2
	fi
	if ! (cd "$tmp" && ./quickstart >/dev/null); then
		echo "python-compat: examples/quickstart failed" >&2
		exit 2
	fi
	files=("$tmp/run_output.json")
	quickstart=1
	if ! (cd "$repo" && go build -o "$tmp/stagetrack" ./cmd/stagetrack); then
		echo "python-compat: cannot build ./cmd/stagetrack" >&2
		exit 2
	fi
	mkdir "$tmp/retry"
	# Fails the first time (no marker yet), passes the second. Nothing from
	# the caller's environment joins it to another run or sends spans.
	flaky='if [ -e marker ]; then exit 0; fi; touch marker; exit 1'
	unset_vars=(-u TRACEPARENT -u TRACESTATE)
	for v in $(compgen -e); do
		case $v in STAGE_TRACKER_* | OTEL_*) unset_vars+=(-u "$v") ;; esac
	done
	if ! (cd "$tmp/retry" && env "${unset_vars[@]}" OTEL_TRACES_EXPORTER=none \
		"$tmp/stagetrack" run -- "$tmp/stagetrack" exec --stage flaky --retry 2 -- sh -c "$flaky" >/dev/null 2>&1); then
		echo "python-compat: stagetrack run with a retried stage failed" >&2
		exit 2
	fi
	retry=("$tmp"/retry/runs/*.json)
	if [ ${#retry[@]} -ne 1 ] || [ ! -f "${retry[0]}" ]; then
		echo "python-compat: stagetrack run wrote no run file (or more than one) in $tmp/retry/runs" >&2
		exit 2
	fi
	files+=("${retry[0]}")
fi

QUICKSTART=$quickstart RETRY=${retry[0]:-} python3 - "${files[@]}" <<'PY'
import datetime
import json
import os
import sys
import uuid

SEED_KEYS = ["run_id", "start_time", "args", "stages", "completed_at", "total_duration_sec"]
STAGE_KEYS = ["start_time", "duration_sec", "data", "error"]

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)
    return ok


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_time(where, v):
    """Parses a timestamp with datetime.fromisoformat; None if it fails."""
    try:
        t = datetime.datetime.fromisoformat(v)
    except (TypeError, ValueError) as e:
        check(False, "%s: %r is not read by datetime.fromisoformat: %s" % (where, v, e))
        return None
    check(t.utcoffset() == datetime.timedelta(0), "%s: %r is not UTC" % (where, v))
    return t


def check_stages(path, where, stages, version):
    if not check(isinstance(stages, dict), "%s: stages is %r, want an object" % (where, type(stages).__name__)):
        return
    if is_number(version) and version >= 2:
        # stages[name] is the attempt that decides the stage: the last.
        last = {}
        for key, st in stages.items():
            if isinstance(st, dict) and isinstance(st.get("name"), str) and is_number(st.get("attempt")):
                if st["attempt"] > last.get(st["name"], (0, None))[0]:
                    last[st["name"]] = (st["attempt"], key)
        for name, (attempt, key) in last.items():
            check(key == name, "%s: the last attempt (%d) of stage %r is keyed %r, want %r" % (where, attempt, name, key, name))
    for key, st in stages.items():
        at = "%s: stage %r" % (where, key)
        if not check(isinstance(st, dict), "%s is not an object" % at):
            continue
        check(list(st)[:4] == STAGE_KEYS, "%s: first keys %s, want %s" % (at, list(st)[:4], STAGE_KEYS))
        start = parse_time(at + " start_time", st.get("start_time"))
        dur = st.get("duration_sec")
        if check(is_number(dur), "%s: duration_sec is %r, want a number" % (at, dur)):
            check(dur >= 0, "%s: duration_sec %r is negative" % (at, dur))
        check(st.get("error") is None or isinstance(st.get("error"), str),
              "%s: error is %r, want null or a string" % (at, st.get("error")))
        if "end_time" in st:
            end = parse_time(at + " end_time", st["end_time"])
            if start and end and is_number(dur):
                # Timestamps are truncated to the microsecond, duration_sec is
                # rounded from the span: they agree within one microsecond.
                diff = abs((end - start).total_seconds() - dur)
                check(diff <= 1.000001e-6, "%s: end_time - start_time = %.6f s, duration_sec %r" % (at, (end - start).total_seconds(), dur))
        if "stages" in st:
            check_stages(path, at, st["stages"], version)


def check_file(path, quickstart):
    try:
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
    except (OSError, ValueError) as e:
        check(False, "%s: json cannot load it: %s" % (path, e))
        return
    if not check(isinstance(run, dict), "%s: not a JSON object" % path):
        return
    check(list(run)[:6] == SEED_KEYS, "%s: first keys %s, want the seed's %s" % (path, list(run)[:6], SEED_KEYS))
    try:
        uuid.UUID(run.get("run_id"))
        check(True, "")
    except (TypeError, ValueError, AttributeError):
        check(False, "%s: run_id %r is not a UUID" % (path, run.get("run_id")))
    start = parse_time(path + ": start_time", run.get("start_time"))
    end = parse_time(path + ": completed_at", run.get("completed_at"))
    if start and end:
        check(end >= start, "%s: completed_at is before start_time" % path)
    stages = run.get("stages")
    check_stages(path, path, stages, run.get("schema_version"))
    total = run.get("total_duration_sec")
    if check(is_number(total), "%s: total_duration_sec is %r, want a number" % (path, total)) and isinstance(stages, dict):
        for key, st in stages.items():
            d = st.get("duration_sec") if isinstance(st, dict) else None
            if is_number(d):
                check(total >= d, "%s: total_duration_sec %r < duration_sec %r of stage %r" % (path, total, d, key))
    if quickstart:
        # The quick start's run, as in the Python stage-tracker's README.
        check(run.get("args") == "Reconnaissance_M1", "%s: args %r, want 'Reconnaissance_M1'" % (path, run.get("args")))
        names = list(stages) if isinstance(stages, dict) else []
        if check(names == ["Detection", "Enrichment"], "%s: stages %s, want ['Detection', 'Enrichment']" % (path, names)):
            check(stages["Detection"].get("data") == {"status": "clean"}, "%s: Detection data %r" % (path, stages["Detection"].get("data")))
            check(stages["Enrichment"].get("data") == {"added_cves": 3}, "%s: Enrichment data %r" % (path, stages["Enrichment"].get("data")))
            for key in names:
                check(stages[key].get("error") is None, "%s: stage %r has error %r" % (path, key, stages[key].get("error")))


def check_retry(path):
    """The run of a stage that failed once and passed on retry, read as a
    program written for the Python stage-tracker reads it."""
    with open(path, encoding="utf-8") as f:
        run = json.load(f)
    stages = run.get("stages") or {}
    check(list(stages) == ["flaky#1", "flaky"], "%s: stages %s, want ['flaky#1', 'flaky']" % (path, list(stages)))
    flaky = stages.get("flaky") or {}
    check(flaky.get("error") is None and flaky.get("attempt") == 2,
          "%s: stages['flaky'] has error %r, attempt %r; want None, 2 (the attempt that passed)" % (path, flaky.get("error"), flaky.get("attempt")))
    first = stages.get("flaky#1") or {}
    check(isinstance(first.get("error"), str), "%s: stages['flaky#1'] has error %r; want the failed attempt's" % (path, first.get("error")))
    check(run.get("status") == "ok" and run.get("error") is None,
          "%s: run status %r, error %r; want ok, None" % (path, run.get("status"), run.get("error")))


quickstart = os.environ.get("QUICKSTART") == "1"
retry = os.environ.get("RETRY", "")
for p in sys.argv[1:]:
    check_file(p, quickstart and p != retry)
    if p == retry:
        check_retry(p)
print("python-compat: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY

#!/usr/bin/env bash
# python-client.sh: the Python package (python/stage_tracker) with the
# machine's python3, standard library only.
#
# 1. its unit tests (python3 -m unittest discover python/tests);
# 2. the Python stage-tracker's README quick start, verbatim: its
#    run_output.json passes stagetrack validate and check-python-compat.sh;
# 3. a script killed with SIGKILL mid-run: stagetrack recover turns its
#    journal into a crashed run file with the stages that ended (and the one
#    running), which passes validate;
# 4. a script under stagetrack run, started by stagetrack exec: its stages
#    are in the run file, nested under the exec stage, with data and errors,
#    and its own finalize(path) file is written too;
# 5. the same script under stagetrack start / exec / finish (no receiver:
#    its stages go through the run's journal);
# 6. the same script standalone with an OTLP endpoint (stagetrack run's
#    receiver, whose jsonrun exporter the Collector runs too): the run file
#    the exporter writes from its spans is finalize's, byte for byte.
#
# Everything happens in a temporary directory. Prints one line per failed
# check and "python-client: N passed, M failed"; exits 1 when a check
# failed, 2 when it could not run, 0 ("skipped") without python3.
set -euo pipefail

if ! command -v python3 >/dev/null 2>&1; then
	echo "python-client: skipped (python3 not found)"
	exit 0
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))'; then
	echo "python-client: skipped (python3 is older than 3.9)"
	exit 0
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$repo" && go build -o "$tmp/bin/stagetrack" ./cmd/stagetrack) || { echo "python-client: cannot build stagetrack"; exit 2; }
st="$tmp/bin/stagetrack"
export PYTHONPATH="$repo/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
# The checks below are about runs this script starts: no outer run or
# exporter settings may leak in.
unset STAGE_TRACKER_RUN_ID STAGE_TRACKER_JOURNAL TRACEPARENT TRACESTATE \
	OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT \
	OTEL_EXPORTER_OTLP_HEADERS OTEL_EXPORTER_OTLP_TRACES_HEADERS

passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check NAME CMD...: CMD exits 0
	local name=$1; shift
	if out=$("$@" 2>&1); then ok; else fail "$name"; printf '%s\n' "$out" | sed 's/^/  /'; fi
}

# 1. unit tests
check "unit tests (python3 -m unittest discover python/tests)" \
	python3 -m unittest discover -s "$repo/python/tests" -t "$repo/python/tests"

# 2. the quick start, verbatim from the Python stage-tracker's README
mkdir -p "$tmp/quickstart"
cp "$repo/testdata/python/quickstart.py" "$tmp/quickstart/quickstart.py" # the README quick start, verbatim
check "quick start runs" bash -c "cd '$tmp/quickstart' && python3 quickstart.py"
check "quick start: stagetrack validate run_output.json" "$st" validate "$tmp/quickstart/run_output.json"
check "quick start: check-python-compat.sh" bash "$repo/scripts/check-python-compat.sh" "$tmp/quickstart/run_output.json"
check "quick start: its stages and data" python3 - "$tmp/quickstart/run_output.json" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
assert run["status"] == "ok", run["status"]
assert run["stages"]["Detection"]["data"] == {"status": "clean"}
assert run["stages"]["Enrichment"]["data"] == {"added_cves": 3}
assert run["stage_count"] == 2 and run["schema_version"] == 2
EOF
check "quick start leaves no journal or runs/ behind" test ! -e "$tmp/quickstart/runs"

# 3. SIGKILL mid-run, then stagetrack recover
mkdir -p "$tmp/kill"
cat >"$tmp/kill/pipeline.py" <<'EOF'
import sys, time
from stage_tracker import Tracker
t = Tracker(args={"target": "10.0.0.0/24"})
t.start_stage("Detection")
t.end_stage("Detection", data={"status": "clean"})
t.start_stage("Enrichment")
t.end_stage("Enrichment", error=ValueError("no CVE feed"))
t.start_stage("Mitigation")
print(t.run_id, flush=True)
time.sleep(300)
EOF
mkfifo "$tmp/kill/ready"
(cd "$tmp/kill" && exec python3 pipeline.py >ready) &
pid=$!
pids+=("$pid")
run_id=$(head -n1 "$tmp/kill/ready") # the stages are journaled once it prints
check "a live run's journal is left alone" bash -c "'$st' recover '$tmp/kill/runs' && test -e '$tmp/kill/runs/$run_id.journal'"
{ kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true # quiet: bash reports the kill
check "stagetrack recover after SIGKILL" "$st" recover "$tmp/kill/runs"
check "recovered run passes stagetrack validate" "$st" validate "$tmp/kill/runs/$run_id.json"
check "recovered run: crashed, with the ended stages and the running one" python3 - "$tmp/kill/runs/$run_id.json" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
assert run["status"] == "crashed", run["status"]
s = run["stages"]
assert list(s) == ["Detection", "Enrichment", "Mitigation"], list(s)
assert s["Detection"]["data"] == {"status": "clean"}, s["Detection"]
assert (s["Enrichment"]["status"], s["Enrichment"]["error"]) == ("error", "no CVE feed"), s["Enrichment"]
assert s["Mitigation"]["status"] == "running", s["Mitigation"]
assert run["args"] == {"target": "10.0.0.0/24"}
EOF

# 4. under stagetrack run, started by stagetrack exec
mkdir -p "$tmp/joined"
cat >"$tmp/joined/pipeline.py" <<'EOF'
from stage_tracker import Tracker
t = Tracker(args="Reconnaissance_M1")
t.start_stage("Detection")
t.end_stage("Detection", data={"status": "clean"})
with t.stage("Enrichment") as s:
    with t.stage("lookup") as inner:
        inner.data = {"cves": [1, 2]}
    s.data = {"added_cves": 3}
try:
    with t.stage("Mitigation"):
        raise RuntimeError("firewall unreachable")
except RuntimeError:
    pass
t.finalize("run_output.json")
EOF
cat >"$tmp/joined/check.py" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
exec_stage = run["stages"]["analysis"]
s = exec_stage.get("stages", {})
assert list(s) == ["Detection", "Enrichment", "Mitigation"], list(run["stages"]) + list(s)
assert s["Detection"]["data"] == {"status": "clean"}, s["Detection"]
assert s["Enrichment"]["data"] == {"added_cves": 3}, s["Enrichment"]
assert s["Enrichment"]["stages"]["lookup"]["data"] == {"cves": [1, 2]}
assert (s["Mitigation"]["status"], s["Mitigation"]["error"]) == ("error", "firewall unreachable"), s["Mitigation"]
assert "RuntimeError: firewall unreachable" in s["Mitigation"]["stack"]
assert run["status"] == "failed", run["status"]
assert run["error"] == 'stage "analysis/Mitigation" failed: firewall unreachable', run["error"]
own = json.load(open(sys.argv[2]))
assert own["run_id"] == run["run_id"] and own["trace_id"] == run["trace_id"], (own["run_id"], run["run_id"])
assert list(own["stages"]) == ["Detection", "Enrichment", "Mitigation"], list(own["stages"])
EOF
rc=0
(cd "$tmp/joined" && "$st" run --dir runs -- "$st" exec --stage analysis -- python3 pipeline.py) >"$tmp/joined/out" 2>&1 || rc=$?
if [ "$rc" = 1 ]; then ok; else fail "stagetrack run: exit $rc, want 1 (a Python stage failed the run)"; sed 's/^/  /' "$tmp/joined/out"; fi
joined_run=$(ls "$tmp/joined/runs/"*.json 2>/dev/null | head -n1)
check "under stagetrack run: run file passes validate" "$st" validate "$joined_run" "$tmp/joined/run_output.json"
check "under stagetrack run: Python stages nested under exec, with data and errors" \
	python3 "$tmp/joined/check.py" "$joined_run" "$tmp/joined/run_output.json"

# 5. under stagetrack start / exec / finish (no receiver: the run's journal)
mkdir -p "$tmp/started"
cp "$tmp/joined/pipeline.py" "$tmp/started/"
check "under stagetrack start/exec/finish" bash -c "
	cd '$tmp/started' &&
	eval \"\$('$st' start --name nightly --dir runs)\" &&
	{ '$st' exec --stage analysis -- python3 pipeline.py || true; } &&
	'$st' finish >/dev/null"
started_run=$(ls "$tmp/started/runs/"*.json 2>/dev/null | head -n1)
check "under stagetrack start: run file passes validate" "$st" validate "$started_run"
check "under stagetrack start: Python stages nested under exec, with data and errors" \
	python3 "$tmp/joined/check.py" "$started_run" "$tmp/started/run_output.json"

# 6. standalone with an OTLP endpoint: the spans finalize sends, written
#    by the jsonrun exporter (the one the Collector runs; here behind
#    stagetrack run's receiver, the script's run variables removed so that
#    it does not join), make the same run file, byte for byte, as finalize.
mkdir -p "$tmp/otlp"
cp "$tmp/joined/pipeline.py" "$tmp/otlp/"
(cd "$tmp/otlp" && "$st" run --quiet --dir runs -- \
	env -u STAGE_TRACKER_RUN_ID -u STAGE_TRACKER_JOURNAL -u TRACEPARENT python3 pipeline.py) >"$tmp/otlp/out" 2>&1 || true
otlp_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$tmp/otlp/run_output.json" 2>/dev/null || echo none)
check "OTLP export: the exporter's run file from the spans equals finalize's" \
	cmp "$tmp/otlp/runs/$otlp_id.json" "$tmp/otlp/run_output.json"

echo "python-client: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

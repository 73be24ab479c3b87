#!/usr/bin/env bash
# Issue 23's reading targets: stagetrack against a user's own stdlib Python
# (scripts/pybaseline.py) on the same files, each pair run alternately in
# every round so that a slow moment of a shared machine hits both. Prints,
# for each command, the ratio stagetrack/Python of CPU time (user + sys)
# and of wall time as median (min–max) over the rounds, the medians
# themselves, and the peak memory (maximum resident set size) of each.
#
#   scripts/bench-python.sh          full: 1,000 and 10,000 runs of 20 stages,
#                                    one run of 100,000 stages, ROUNDS rounds
#   scripts/bench-python.sh smoke    small sizes, one round, for CI: the
#                                    script and the baseline keep working
#
# Environment: ROUNDS=5, RUNS="1000 10000", LARGE=100000, WORK=a directory
# to keep the generated runs in between invocations (default: a temporary
# one, removed at the end).
#
# stagetrack stats reads files on every core (--jobs); Python is single
# threaded. CPU time is the fair comparison of work done; wall time is what
# a user waits.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-full}
case "$mode" in
smoke)
	rounds=1 runs="20" large=2000
	;;
full)
	rounds=${ROUNDS:-5} runs=${RUNS:-1000 10000} large=${LARGE:-100000}
	;;
*)
	echo "usage: $0 [full|smoke]" >&2
	exit 2
	;;
esac
timer=/usr/bin/time
if ! [ -x "$timer" ]; then
	echo "bench-python: needs $timer (GNU time) for CPU time and peak memory" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/stage-tracker-pybench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
work=${WORK:-$tmp/runs}
bin=$tmp/bin
mkdir -p "$bin" "$work"
go build -o "$bin/stagetrack" ./cmd/stagetrack
go build -o "$bin/genruns" ./scripts/genruns
st=$bin/stagetrack
# The interpreter itself, not a version manager's shim in front of it
# (which costs more than the interpreter's own start).
python=$(python3 -c 'import sys; print(sys.executable)')
py=("$python" "$root/scripts/pybaseline.py")

for n in $runs; do
	[ -d "$work/runs$n" ] || "$bin/genruns" -n "$n" -stages 20 -dir "$work/runs$n"
done
[ -f "$work/large$large/large.json" ] || "$bin/genruns" -large "$large" -dir "$work/large$large"
big=$work/large$large/large.json

# measure NAME SIDE CMD...: one timed run, appended to $tmp/times as
# "name side wall cpu maxrss_kib"; stdout discarded, stderr kept on failure.
measure() {
	local name=$1 side=$2
	shift 2
	if ! "$timer" -f '%e %U %S %M' -o "$tmp/t" "$@" >/dev/null 2>"$tmp/err"; then
		echo "bench-python: $name ($side) failed: $*" >&2
		cat "$tmp/err" >&2
		exit 1
	fi
	read -r wall user sys rss <"$tmp/t"
	echo "$name $side $wall $(echo "$user + $sys" | bc) $rss" >>"$tmp/times"
}

for round in $(seq 1 "$rounds"); do
	echo "round $round/$rounds" >&2
	for n in $runs; do
		files=("$work/runs$n"/*.json)
		measure "stats/runs=$n" go "$st" stats --json "$work/runs$n"
		measure "stats/runs=$n" py "${py[@]}" stats "$work/runs$n"
		measure "report/runs=$n" go "$st" report -o "$tmp/report.html" "${files[@]}"
		measure "report/runs=$n" py "${py[@]}" report -o "$tmp/report-py.html" "${files[@]}"
		measure "validate/runs=$n" go "$st" validate -q "${files[@]}"
		measure "validate/runs=$n" py "${py[@]}" validate -q "${files[@]}"
	done
	# One big run: show and validate against json.load alone.
	measure "show/stages=$large" go "$st" show "$big"
	measure "show/stages=$large" py "${py[@]}" show "$big"
	measure "validate/stages=$large" go "$st" validate -q "$big"
	measure "validate/stages=$large" py "${py[@]}" show "$big"
	measure "report/stages=$large" go "$st" report -o "$tmp/report.html" "$big"
	measure "stats/stages=$large" go "$st" stats --json "$big"
done

echo
echo "# stagetrack vs stdlib Python, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty')"
echo "go: $(go version | cut -d' ' -f3-); $("$python" --version)"
echo "nproc: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rounds: $rounds; the big run: $(du -h "$big" | cut -f1) ($(stat -c %s "$big") bytes)"
echo
python3 - "$tmp/times" "$(stat -c %s "$big")" <<'EOF'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
big = int(sys.argv[2])
by = {}
for name, side, wall, cpu, rss in rows:
    by.setdefault(name, {}).setdefault(side, []).append((float(wall), float(cpu), int(rss)))
def mmm(xs):
    return "%.2f× (%.2f–%.2f)" % (statistics.median(xs), min(xs), max(xs))
print("%-24s %-22s %-22s %-16s %-16s %s" % ("what", "CPU go/py", "wall go/py", "CPU go, py (s)", "wall go, py (s)", "peak RSS go, py (MiB)"))
for name, s in by.items():
    go, py = s.get("go", []), s.get("py", [])
    if not py:  # no baseline: stagetrack alone, for its memory
        print("%-24s %-22s %-22s %-16s %-16s %s" % (name, "—", "—", "%.2f" % statistics.median(c for _, c, _ in go), "%.2f" % statistics.median(w for w, _, _ in go),
              "%.0f" % (max(m for _, _, m in go) / 1024)))
        continue
    cpu = [g[1] / p[1] for g, p in zip(go, py) if p[1] > 0]
    wall = [g[0] / p[0] for g, p in zip(go, py) if p[0] > 0]
    print("%-24s %-22s %-22s %-16s %-16s %s" % (name, mmm(cpu), mmm(wall),
          "%.2f, %.2f" % (statistics.median(c for _, c, _ in go), statistics.median(c for _, c, _ in py)),
          "%.2f, %.2f" % (statistics.median(w for w, _, _ in go), statistics.median(w for w, _, _ in py)),
          "%.0f, %.0f" % (max(m for _, _, m in go) / 1024, max(m for _, _, m in py) / 1024)))
print()
print("the big run's file: %.1f MiB; peak RSS over its size (target ≤ 3×):" % (big / 2**20))
for name, s in by.items():
    if "stages=" in name:
        print("  %-24s %.2f×" % (name, max(m for _, _, m in s["go"]) * 1024 / big))
print()
print("targets: stats, report, validate over runs ≤ 1.00× Python (CPU and wall);")
print("show and validate of the big run ≤ 1.50× Python's json.load (validate's py column is json.load alone)")
EOF

#!/usr/bin/env bash
# Runs the performance benchmarks (issues 5 and 12) and prints each path's
# ratio to its baseline (medians, min–max over the rounds, wall and CPU
# time) with its target and verdict; docs/performance.md explains the
# method. BenchmarkCLI (cmd/stagetrack) builds stagetrack and a minimal
# fork-and-wait program once and runs them as whole processes.
#
#   scripts/bench.sh          full run: COUNT rounds of every benchmark
#   scripts/bench.sh smoke    every benchmark once (-benchtime=1x), for CI:
#                             they keep compiling and working
#
# Environment (full mode):
#   COUNT=6        rounds; each round runs every benchmark once, so a path
#                  and its baseline are measured close together in time and
#                  a slow moment of a shared machine hits both
#   BENCHTIME=1s   -benchtime of each benchmark
#   BENCH=.        -bench regexp (e.g. BENCH='Stage|NonRun')
#   OUT=...        raw output file (default /tmp/stage-tracker-bench/<time>.txt)
#   BENCHSTAT=1    also print benchstat's summary of the raw output (needs
#                  the network the first time: go run ...benchstat@latest)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pkgs=(./tracker ./exporter/jsonrun ./cmd/stagetrack)
mode=${1:-full}

case "$mode" in
smoke)
	exec go test -run '^$' -bench . -benchtime=1x "${pkgs[@]}"
	;;
full) ;;
*)
	echo "usage: $0 [full|smoke]" >&2
	exit 2
	;;
esac

count=${COUNT:-6}
benchtime=${BENCHTIME:-1s}
bench=${BENCH:-.}
out=${OUT:-/tmp/stage-tracker-bench/$(date -u +%Y%m%dT%H%M%SZ).txt}
mkdir -p "$(dirname "$out")"

bin=$(mktemp -d /tmp/stage-tracker-bench-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
for p in "${pkgs[@]}"; do
	go test -c -o "$bin/$(basename "$p").test" "$p"
done

{
	echo "# stage-tracker benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty')"
	echo "go: $(go version | cut -d' ' -f3-)"
	echo "nproc: $(nproc)"
	echo "cpu-model: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
	echo "count: $count"
	echo "benchtime: $benchtime"
} >"$out"

echo "raw output: $out" >&2
for round in $(seq 1 "$count"); do
	echo "round $round/$count" >&2
	for p in "${pkgs[@]}"; do
		(cd "$p" && "$bin/$(basename "$p").test" -test.run '^$' -test.bench "$bench" \
			-test.benchtime "$benchtime" -test.benchmem) >>"$out"
	done
done

echo
grep -E '^(commit|go|nproc|cpu-model|count|benchtime): ' "$out"
echo
go run ./scripts/benchratio "$out"
if [[ "${BENCHSTAT:-}" == 1 ]]; then
	echo
	go run golang.org/x/perf/cmd/benchstat@latest "$out"
fi
echo
echo "targets (issue 12 and before):"
go run ./scripts/benchratio "$out" | awk 'NR == 1 || /met|MISSED/'
echo
echo "raw output: $out"

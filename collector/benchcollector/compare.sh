#!/usr/bin/env bash
# Compares the jsonrun exporter with contrib's fileexporter in one Collector
# binary (this module) on one load (cmd/jsonrun-load -mode otlp): for each
# round and exporter, a fresh Collector with that exporter alone in its
# pipeline, RUNS runs of 20 stages sent by three producers at once, and the
# Collector's CPU time, memory and descriptors. One line per measurement.
# BATCH runs' spans go in one request (each producer its share of each).
#   bash collector/benchcollector/compare.sh [ROUNDS] [RUNS] [BATCH]
set -euo pipefail
rounds=${1:-3}
runs=${2:-2000}
batch=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$here" && go build -o "$work/benchcollector" .)
(cd "$here/.." && go build -o "$work/jsonrun-load" ./cmd/jsonrun-load)
port=$((20000 + RANDOM % 20000))

config() { # exporter name, its settings
	cat <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$port
exporters:
$2
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [$1]
  telemetry:
    metrics:
      level: none
YAML
}

n=0
measure() { # name, config
	# Each Collector writes into a directory of its own, all removed at
	# the end: files deleted between rounds would make the next round's
	# file creation dearer (ext4 skips recently freed inodes when it has
	# no journal) for the exporter that creates files.
	n=$((n + 1))
	local dir=$work/out-$n
	mkdir -p "$dir"
	printf '%s\n' "$2" >"$work/config.yaml"
	(cd "$dir" && exec "$work/benchcollector" --config "$work/config.yaml") 2>"$work/collector.log" &
	local pid=$!
	for _ in $(seq 100); do
		"$work/jsonrun-load" -mode otlp -runs 0 -pid "$pid" -endpoint 127.0.0.1:$port >/dev/null 2>&1 && break
		sleep 0.1
	done
	printf 'exporter=%s ' "$1"
	"$work/jsonrun-load" -mode otlp -runs "$runs" -batch "$batch" -pid "$pid" -endpoint 127.0.0.1:$port -count-dir "$dir/runs"
	kill -TERM "$pid" && wait "$pid" || true
}

jsonrun='  jsonrun:
    directory: ./runs'
file='  file:
    path: ./spans.json'
for _ in $(seq "$rounds"); do
	measure jsonrun "$(config jsonrun "$jsonrun")"
	measure file "$(config file "$file")"
done

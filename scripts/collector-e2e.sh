#!/usr/bin/env bash
# The Collector end to end (issue 10): builds stagetrack-collector, stagetrack
# and the test pipeline into a cache outside the repository, then runs the
# test in collector/e2e (build tag e2e). The test starts the Collector on
# free 127.0.0.1 ports with a test config, sends one run's spans from three
# processes over OTLP/gRPC and OTLP/HTTP, kills the Collector with SIGKILL
# half-way through the run, restarts it, and compares the run file with the
# one the same pipeline writes on one machine (a normalising diff: ids, times,
# hosts stripped; the run's error compared exactly). With the Node program it
# also runs the mixed pipeline (issue 19): two `stagetrack exec` stages and the
# Node child under `stagetrack run`, forwarded to the Collector, 20 runs in a
# row (COLLECTOR_E2E_MIXED_RUNS), each Collector run file with the same stages
# (name, span id, nesting), status and error as stagetrack run's local one.
# With the front tier (collector/fronttier, its own module pinned to the
# Collector release of contrib's loadbalancing exporter) it also runs the
# two-tier deployment (issue 20): the front tier in front of three
# stagetrack-collector backends, stagetrack-loadgen's runs from three kinds
# of producer, and three faults (a backend killed, the front tier killed, a
# fourth backend added), then stagetrack recover of each backend and
# stagetrack merge; it prints the fault table (COLLECTOR_E2E_TWOTIER_RUNS,
# COLLECTOR_E2E_TWOTIER_STAGES: 200 × 20).
# The test writes the PID of each Collector it starts to a file; the trap
# here stops those PIDs, whatever happens to the test.
#
#   bash scripts/collector-e2e.sh       # from the repository root
#
# Environment:
#   COLLECTOR_E2E_NODE   a Node program to add as a fourth process (node FILE);
#                        default testdata/node/pipeline.js with the packages
#                        scripts/node-e2e.sh --install puts in its cache
#   E2E_GO_TEST_FLAGS    extra flags for go test (default: -count=1)
#   COLLECTOR_E2E_RUN    the tests to run (go test -run; default ^TestCollectorEndToEnd,
#                        all of them; TwoTier: only the two-tier deployment)
#
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/stage-tracker/collector/bin. A cold
# build of stagetrack-collector takes minutes (see docs/collector.md); Go's
# build cache makes the next one seconds. The front tier is built once per
# version of its module (the hash of its go.mod, go.sum and main.go) into
# .../stage-tracker/fronttier-<hash>/, under a lock, as Jaeger is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}

bin=${XDG_CACHE_HOME:-$HOME/.cache}/stage-tracker/collector/bin
mkdir -p "$bin"
pidfile=$(mktemp)
stop() {
	local pid comm
	# Only our Collectors: each PID must still name a stagetrack-collector
	# or the front tier.
	while read -r pid; do
		comm=$(ps -p "$pid" -o comm= 2>/dev/null || true)
		if [[ "$comm" == stagetrack-coll* || "$comm" == stagetrack-fron* ]]; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done <"$pidfile" 2>/dev/null || true
	rm -f "$pidfile"
}
trap stop EXIT

t0=$(date +%s)
(cd collector && go build -o "$bin/stagetrack-collector" ./cmd/stagetrack-collector &&
	go build -o "$bin/pipeline" ./e2e/pipeline && go build -o "$bin/stagetrack-loadgen" ./cmd/stagetrack-loadgen)
go build -o "$bin/stagetrack" ./cmd/stagetrack
printf 'collector-e2e: binaries built in %ss (%s)\n' "$(($(date +%s) - t0))" "$bin"

# The front tier: its own module, built once per version of it. A cold
# build compiles a Collector release of its own (minutes on 2 cores).
front_hash=$(cat collector/fronttier/go.mod collector/fronttier/go.sum collector/fronttier/main.go | sha256sum | cut -c1-16)
front_dir=${XDG_CACHE_HOME:-$HOME/.cache}/stage-tracker/fronttier-$front_hash
front_bin=$front_dir/stagetrack-fronttier
if [[ ! -x $front_bin ]]; then
	mkdir -p "$front_dir"
	exec 9>"$front_dir/.build.lock"
	flock 9 # another run of this script may be building the same one
	if [[ ! -x $front_bin ]]; then
		t0=$(date +%s)
		# Built to a side name and renamed, so that it is never half written.
		(cd collector/fronttier && go build -o "$front_bin.partial" .)
		mv "$front_bin.partial" "$front_bin"
		printf 'collector-e2e: front tier built in %ss (%s)\n' "$(($(date +%s) - t0))" "$front_bin"
	fi
	exec 9>&-
fi

# The Node program (OTel JS SDK), when the repository has it and npm's
# packages install: the fourth process, over OTLP/HTTP JSON.
if [[ -z "${COLLECTOR_E2E_NODE:-}" && -f testdata/node/pipeline.js && -f scripts/node-e2e.sh ]]; then
	if modules=$(bash scripts/node-e2e.sh --install); then
		export NODE_PATH=$modules COLLECTOR_E2E_NODE=$PWD/testdata/node/pipeline.js
	else
		echo "collector-e2e: the Node packages did not install; running without the Node program" >&2
	fi
fi

cd collector
# shellcheck disable=SC2086 # E2E_GO_TEST_FLAGS is a list of flags
COLLECTOR_E2E_PIDFILE=$pidfile STAGETRACK_COLLECTOR=$bin/stagetrack-collector STAGETRACK=$bin/stagetrack \
	STAGETRACK_PIPELINE=$bin/pipeline STAGETRACK_LOADGEN=$bin/stagetrack-loadgen STAGETRACK_FRONTTIER=$front_bin \
	go test -tags e2e -timeout 30m ${E2E_GO_TEST_FLAGS:--count=1} -v -run "${COLLECTOR_E2E_RUN:-^TestCollectorEndToEnd}" ./e2e/

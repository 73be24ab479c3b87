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
# The test writes each Collector's PID to a file; the trap here stops that
# PID, whatever happens to the test.
#
#   bash scripts/collector-e2e.sh       # from the repository root
#
# Environment:
#   COLLECTOR_E2E_NODE   a Node program to add as a fourth process (node FILE);
#                        default testdata/node/pipeline.js with the packages
#                        scripts/node-e2e.sh --install puts in its cache
#   E2E_GO_TEST_FLAGS    extra flags for go test (default: -count=1)
#
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/stage-tracker/collector/bin. A cold
# build of stagetrack-collector takes minutes (see docs/collector.md); Go's
# build cache makes the next one seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}

bin=${XDG_CACHE_HOME:-$HOME/.cache}/stage-tracker/collector/bin
mkdir -p "$bin"
pidfile=$(mktemp)
stop() {
	local pid
	pid=$(cat "$pidfile" 2>/dev/null || true)
	# Only our Collector: the PID must still name a stagetrack-collector.
	if [[ -n "$pid" ]] && [[ "$(ps -p "$pid" -o comm= 2>/dev/null || true)" == stagetrack-coll* ]]; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
}
trap stop EXIT

t0=$(date +%s)
(cd collector && go build -o "$bin/stagetrack-collector" ./cmd/stagetrack-collector && go build -o "$bin/pipeline" ./e2e/pipeline)
go build -o "$bin/stagetrack" ./cmd/stagetrack
printf 'collector-e2e: binaries built in %ss (%s)\n' "$(($(date +%s) - t0))" "$bin"

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
	STAGETRACK_PIPELINE=$bin/pipeline \
	go test -tags e2e ${E2E_GO_TEST_FLAGS:--count=1} -v -run '^TestCollectorEndToEnd' ./e2e/

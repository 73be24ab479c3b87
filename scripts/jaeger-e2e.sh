#!/usr/bin/env bash
# Runs stage-tracker's end-to-end tests (go test -tags e2e ./e2e/...) against
# a real Jaeger v2, started here and stopped here whatever happens.
#
#   bash scripts/jaeger-e2e.sh            # from the repository root
#
# Exit status: that of go vet + go test (0 when the tests pass), or 1 when
# Jaeger could not be built or started.
#
# Jaeger is built from the Go module proxy, once, into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/stage-tracker/jaeger-<version>/jaeger
# (about 120 MB; a cold build needs about 2.3 GB of memory and 20 CPU-minutes:
# about 10 minutes on 2 idle cores, 52 measured on 2 busy ones). Nothing of Jaeger's goes into the repository. `go install` cannot
# build it (its go.mod has replace directives), so the source is copied out
# of the module cache and built there. While another build of the same
# binary runs, this script waits for it instead of starting a second one.
#
# Jaeger runs all-in-one with in-memory storage and scripts/jaeger-config.yaml,
# every listener on 127.0.0.1 and on ports picked free here, so that two runs
# of this script (or a Jaeger you already have on 4317/4318/16686) never
# collide. Its log is printed when something goes wrong.
#
# Environment:
#   JAEGER_VERSION       module version to build (default v1.76.0, a Jaeger v2 release)
#   JAEGER_BIN           use this jaeger binary instead of building one
#   E2E_GO_TEST_FLAGS    extra flags for go test (default: -count=1)
#   E2E_KEEP_JAEGER_LOG  if set, the path to copy Jaeger's log to
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

JAEGER_VERSION=${JAEGER_VERSION:-v1.76.0}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/stage-tracker
BIN=${JAEGER_BIN:-$CACHE/jaeger-${JAEGER_VERSION#v}/jaeger}
CONFIG=$ROOT/scripts/jaeger-config.yaml

log() { printf 'jaeger-e2e: %s\n' "$*" >&2; }

# build_in_progress: is a `go build -o $BIN` running (ours from another
# shell, or one started by hand)? Only looks; never signals anything.
build_in_progress() {
	pgrep -f -- "go build -o $BIN( |$)" >/dev/null 2>&1
}

wait_for_other_build() {
	local waited=0 limit=2700
	while build_in_progress; do
		if ((waited == 0)); then
			log "a build of $BIN is running (log: /tmp/jaeger-build.log if it was started in the background); waiting for it"
		fi
		if ((waited >= limit)); then
			log "gave up after ${limit}s waiting for the other build"
			return 1
		fi
		sleep 5
		waited=$((waited + 5))
	done
}

build_jaeger() {
	local dir src tmp
	dir=$(dirname "$BIN")
	mkdir -p "$dir"
	exec 9>"$dir/.build.lock"
	if ! flock -n 9; then
		log "another jaeger-e2e.sh is building $BIN; waiting for its lock"
		flock 9
	fi
	wait_for_other_build || return 1
	if [[ -x $BIN ]]; then
		return 0
	fi
	log "building Jaeger $JAEGER_VERSION into $BIN (once; 10 minutes or more cold, longer on a busy machine)"
	src=$(go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	if [[ -z $src || ! -d $src ]]; then
		log "go mod download did not give a source directory for jaeger@$JAEGER_VERSION"
		return 1
	fi
	# The module cache is read-only; build from a writable copy.
	tmp=$CACHE/jaeger-src-${JAEGER_VERSION#v}
	rm -rf "$tmp" || return 1
	cp -R "$src" "$tmp" || return 1
	chmod -R u+w "$tmp" || return 1
	# Build to a side name and rename, so that $BIN is never half written.
	(cd "$tmp" && go build -o "$BIN.partial" ./cmd/jaeger) || return 1
	mv "$BIN.partial" "$BIN" || return 1
	log "built $BIN"
}

if [[ ! -x $BIN ]] || build_in_progress; then
	if [[ -n ${JAEGER_BIN:-} ]]; then
		log "JAEGER_BIN=$JAEGER_BIN is not an executable"
		exit 1
	fi
	build_jaeger || exit 1
fi

# --- ports ---------------------------------------------------------------
# A port is free when nothing listens on it (TCP, any address). The start
# below is retried with new ports should another process take one first.
listening=""
refresh_listening() {
	listening=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
}
picked=()
# pick_port VAR: sets VAR to a port nothing listens on and not picked yet.
pick_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		if ! grep -qx "$p" <<<"$listening" && [[ " ${picked[*]} " != *" $p "* ]]; then
			picked+=("$p")
			printf -v "$1" '%s' "$p"
			return
		fi
	done
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/stage-tracker-e2e.XXXXXX")
JAEGER_LOG=$WORK/jaeger.log
JAEGER_PID=""

stop_jaeger() {
	local pid=$JAEGER_PID
	JAEGER_PID=""
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "Jaeger (pid $pid) did not stop on SIGTERM; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local rc=$?
	stop_jaeger
	if [[ -n ${E2E_KEEP_JAEGER_LOG:-} && -f $JAEGER_LOG ]]; then
		cp "$JAEGER_LOG" "$E2E_KEEP_JAEGER_LOG"
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_jaeger() {
	picked=()
	refresh_listening
	pick_port OTLP_GRPC_PORT
	pick_port OTLP_HTTP_PORT
	pick_port QUERY_HTTP_PORT
	pick_port QUERY_GRPC_PORT
	pick_port HEALTH_PORT

	STAGE_TRACKER_JAEGER_OTLP_GRPC_PORT=$OTLP_GRPC_PORT \
		STAGE_TRACKER_JAEGER_OTLP_HTTP_PORT=$OTLP_HTTP_PORT \
		STAGE_TRACKER_JAEGER_QUERY_HTTP_PORT=$QUERY_HTTP_PORT \
		STAGE_TRACKER_JAEGER_QUERY_GRPC_PORT=$QUERY_GRPC_PORT \
		STAGE_TRACKER_JAEGER_HEALTH_PORT=$HEALTH_PORT \
		"$BIN" --config="file:$CONFIG" >"$JAEGER_LOG" 2>&1 </dev/null &
	JAEGER_PID=$!

	local start=$SECONDS
	while ((SECONDS - start < 60)); do
		if ! kill -0 "$JAEGER_PID" 2>/dev/null; then
			wait "$JAEGER_PID" 2>/dev/null || true
			JAEGER_PID=""
			return 1
		fi
		if curl -fsS -o /dev/null "http://127.0.0.1:$HEALTH_PORT/status" 2>/dev/null &&
			curl -fsS -o /dev/null "http://127.0.0.1:$QUERY_HTTP_PORT/api/services" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	log "Jaeger not healthy after 60s"
	stop_jaeger
	return 1
}

started=""
for attempt in 1 2 3; do
	t0=$(date +%s.%N)
	if start_jaeger; then
		started=1
		break
	fi
	log "Jaeger failed to start (attempt $attempt); its log:"
	tail -n 30 "$JAEGER_LOG" >&2 || true
done
if [[ -z $started ]]; then
	exit 1
fi
t1=$(date +%s.%N)
rss=$(awk '/^VmRSS/ {print $2 " " $3}' "/proc/$JAEGER_PID/status" 2>/dev/null || echo "?")
log "Jaeger $JAEGER_VERSION ($BIN) pid $JAEGER_PID healthy in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')s, RSS $rss"
log "OTLP gRPC 127.0.0.1:$OTLP_GRPC_PORT, OTLP HTTP 127.0.0.1:$OTLP_HTTP_PORT, query http://127.0.0.1:$QUERY_HTTP_PORT, health 127.0.0.1:$HEALTH_PORT"

export STAGE_TRACKER_E2E_JAEGER_QUERY=http://127.0.0.1:$QUERY_HTTP_PORT
export STAGE_TRACKER_E2E_OTLP_HTTP=http://127.0.0.1:$OTLP_HTTP_PORT
export STAGE_TRACKER_E2E_OTLP_GRPC=http://127.0.0.1:$OTLP_GRPC_PORT

rc=0
go vet -tags e2e ./e2e/... || rc=$?
if ((rc == 0)); then
	# shellcheck disable=SC2086 # word splitting of the flags is intended
	go test -race -tags e2e ${E2E_GO_TEST_FLAGS:--count=1} -v ./e2e/... >"$WORK/test.log" 2>&1 || rc=$?
	if ((rc != 0)); then
		cat "$WORK/test.log"
		log "tests failed; Jaeger's log:"
		tail -n 50 "$JAEGER_LOG" >&2 || true
	fi
	log "go test summary:"
	grep -E '^(=== RUN|--- (PASS|FAIL|SKIP)|PASS|FAIL|ok |panic:)|^\s+--- (PASS|FAIL|SKIP)' "$WORK/test.log" | grep -v '^=== RUN' || true
fi
if ! kill -0 "$JAEGER_PID" 2>/dev/null; then
	log "Jaeger died during the tests; its log:"
	tail -n 50 "$JAEGER_LOG" >&2 || true
	rc=1
fi
exit "$rc"

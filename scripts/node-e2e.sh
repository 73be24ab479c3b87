#!/usr/bin/env bash
# Runs the Node end-to-end test: a Node program instrumented with the
# OpenTelemetry JS SDK (testdata/node/pipeline.js) under the built
# `stagetrack run`, whose run file must hold its spans as nested stages with
# their data and error (cmd/stagetrack/internal/cli TestRunReceivesOTLPFromNodeSDK).
#
#   bash scripts/node-e2e.sh            # install if needed, then test
#   bash scripts/node-e2e.sh --install  # install if needed; print the node_modules path
#
# The npm packages, pinned in testdata/node/packages.txt, are installed once
# into a cache outside the repository:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/stage-tracker/node-<hash of packages.txt>/node_modules
# so a change of the list is a new directory, and nothing of npm's (no
# package.json, no lock file, no node_modules) goes into the repository.
# The test finds them through STAGE_TRACKER_NODE_MODULES (and the e2e
# tests too: .ci/run exports it before scripts/jaeger-e2e.sh).
#
# Needs node (>= 18.19) and npm, and the npm registry for the first install.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'node-e2e: %s\n' "$*" >&2; }

LIST=testdata/node/packages.txt
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/stage-tracker
HASH=$(sha256sum "$LIST" | cut -c1-16)
DIR=$CACHE/node-$HASH
MODULES=$DIR/node_modules

for tool in node npm; do
	if ! command -v "$tool" >/dev/null; then
		log "$tool is not installed"
		exit 1
	fi
done

install() {
	if [[ -f $DIR/.complete ]]; then
		return 0
	fi
	mkdir -p "$CACHE"
	# Install beside and rename, so that $DIR is never half installed.
	local tmp
	tmp=$(mktemp -d "$CACHE/node-$HASH.partial.XXXXXX")
	mapfile -t pkgs < <(grep -v '^[[:space:]]*\(#\|$\)' "$LIST")
	log "installing ${pkgs[*]} into $DIR (once)"
	if ! (cd "$tmp" && npm install --no-audit --no-fund --no-save --no-package-lock --loglevel=error "${pkgs[@]}" >&2); then
		rm -rf "$tmp"
		log "npm install failed"
		return 1
	fi
	touch "$tmp/.complete"
	if ! mv -T "$tmp" "$DIR" 2>/dev/null; then
		rm -rf "$tmp" # another install finished first
	fi
	[[ -f $DIR/.complete ]]
}

install
if [[ ${1:-} == --install ]]; then
	printf '%s\n' "$MODULES"
	exit 0
fi

log "node $(node --version), packages in $MODULES"
STAGE_TRACKER_NODE_MODULES=$MODULES go test -race -count=1 -run '^TestRunReceivesOTLPFromNodeSDK$' -v ./cmd/stagetrack/internal/cli/

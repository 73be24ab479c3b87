#!/usr/bin/env bash
# check-report.sh: checks `stagetrack report` in a real browser.
#
# It builds stagetrack, writes the HTML report of the fixture run files in
# internal/cli/testdata/runs (recorded through the tracker; regenerate them
# with `go test ./internal/cli -run TestFixtureRunFiles -update`), loads it
# in headless Chromium and asserts on the DOM that Chromium built:
#   - one <rect class="bar ..."> per stage of every run (stage_count summed),
#   - one section per run,
#   - the inline script ran: opening the report at #run-0/3 shows that
#     stage's details.
# With --update-screenshot it also saves a 1400x900 screenshot of the report
# to docs/report-screenshot.png.
#
# Installs chromium with apt-get when /usr/bin/chromium is missing (CI on a
# fresh machine). Exits 0 when every check passes, 1 when one fails, 2 on
# a usage error.
set -euo pipefail

usage() { sed -n '2,17s/^# \{0,1\}//p' "$0"; }

update=0
for arg in "$@"; do
	case "$arg" in
	--update-screenshot) update=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "check-report.sh: unknown argument $arg" >&2; usage >&2; exit 2 ;;
	esac
done

cd "$(dirname "$0")/.."

chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
	echo "check-report.sh: $chromium is missing; installing chromium" >&2
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
	$sudo apt-get update
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/stagetrack" ./cmd/stagetrack

runs=(
	internal/cli/testdata/runs/security.json
	internal/cli/testdata/runs/train-a.json
	internal/cli/testdata/runs/train-b.json
)
"$work/stagetrack" report "${runs[@]}" -o "$work/report.html"

# What the DOM must hold.
want_bars=0
for f in "${runs[@]}"; do
	n=$(sed -n 's/^  "stage_count": \([0-9]*\),\{0,1\}$/\1/p' "$f")
	if [ -z "$n" ]; then echo "check-report.sh: no stage_count in $f" >&2; exit 1; fi
	want_bars=$((want_bars + n))
done
want_runs=${#runs[@]}

browser() {
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d -p "$work")" "$@" 2>"$work/chromium.log"
}

url="file://$work/report.html#run-0/3"
if ! browser --dump-dom "$url" >"$work/dom.html"; then
	cat "$work/chromium.log" >&2
	echo "check-report.sh: chromium failed" >&2
	exit 1
fi

fail=0
check() { # name got want
	if [ "$2" = "$3" ]; then
		echo "ok   $1: $2"
	else
		echo "FAIL $1: got $2, want $3"
		fail=1
	fi
}
bars=$(grep -o '<rect class="bar[ "]' "$work/dom.html" | wc -l | tr -d ' ')
sections=$(grep -o '<section class="run"' "$work/dom.html" | wc -l | tr -d ' ')
# The details box of stage 3 of the first run (security: Enrichment/osv)
# is filled in by the inline script, so its key is in the DOM only if the
# script ran.
details=$(grep -c '<span class="mono">Enrichment/osv</span>' "$work/dom.html" || true)
check "bars in the DOM (one per stage)" "$bars" "$want_bars"
check "run sections" "$sections" "$want_runs"
check "details shown by the inline script" "$details" 1

if [ "$update" = 1 ]; then
	browser --hide-scrollbars --window-size=1400,900 --screenshot="$work/shot.png" "$url" >/dev/null
	cp "$work/shot.png" docs/report-screenshot.png
	echo "wrote docs/report-screenshot.png"
fi
exit "$fail"

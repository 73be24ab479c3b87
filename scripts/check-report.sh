#!/usr/bin/env bash
# check-report.sh: checks `stagetrack report` in a real browser.
#
# It builds stagetrack and loads two reports in headless Chromium, asserting
# on the DOM that Chromium built:
# 1. the fixture run files in cmd/stagetrack/internal/cli/testdata/runs (recorded through
#    the tracker; regenerate them with
#    `go test ./cmd/stagetrack/internal/cli -run TestFixtureRunFiles -update`):
#   - one <rect class="bar ..."> per stage of every run (stage_count summed),
#   - one section per run,
#   - the inline script ran: a link to the security run's stage 3 shows
#     that stage's details;
# 2. 1,000 generated runs of ten stages (go run ./scripts/genruns):
#   - the page is under 3 MB,
#   - the summary is there and counts 1000 runs,
#   - the trend chart is drawn: its run line has a point per run,
#   - only the newest 10 runs have a chart, the other 990 are in the list.
# With --update-screenshot it also saves a 1400x1400 screenshot of the
# report of 1,000 runs to docs/report-screenshot.png.
#
# Installs chromium with apt-get when /usr/bin/chromium is missing (CI on a
# fresh machine). Exits 0 when every check passes, 1 when one fails, 2 on
# a usage error.
set -euo pipefail

usage() { sed -n '2,25s/^# \{0,1\}//p' "$0"; }

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
	cmd/stagetrack/internal/cli/testdata/runs/security.json
	cmd/stagetrack/internal/cli/testdata/runs/train-a.json
	cmd/stagetrack/internal/cli/testdata/runs/train-b.json
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

# The runs are ordered newest first: find the security run's anchor.
sec=$(grep -o '<section class="run" id="run-[0-9]*" data-run-id="c355abaa-cb8c-4cad-ae67-47bce23be244"' "$work/report.html" | sed 's/.*id="\(run-[0-9]*\)".*/\1/')
url="file://$work/report.html#$sec/3"
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
# The details box of stage 3 of the security run (Enrichment/osv) is filled
# in by the inline script, so its key is in the DOM only if the script ran.
details=$(grep -c '<span class="mono">Enrichment/osv</span>' "$work/dom.html" || true)
check "bars in the DOM (one per stage)" "$bars" "$want_bars"
check "run sections" "$sections" "$want_runs"
check "details shown by the inline script" "$details" 1

# 2. A thousand runs.
n=1000
bound=$((3 * 1024 * 1024))
go run ./scripts/genruns -n "$n" -dir "$work/many"
"$work/stagetrack" report "$work"/many/*.json -o "$work/many.html"
size=$(wc -c <"$work/many.html" | tr -d ' ')
if [ "$size" -lt "$bound" ]; then
	echo "ok   page size for $n runs: $size bytes (bound $bound)"
else
	echo "FAIL page size for $n runs: $size bytes, want under $bound"
	fail=1
fi
# Chromium lays the page out and runs its script; a link into the collapsed
# list (the oldest run, run-999) must open it.
if ! browser --dump-dom "file://$work/many.html#run-$((n - 1))" >"$work/many-dom.html"; then
	cat "$work/chromium.log" >&2
	echo "check-report.sh: chromium failed" >&2
	exit 1
fi
summary=$(grep -c '<section class="summary"' "$work/many-dom.html" || true)
runs_tile=$(grep -o "<div class=\"n\">$n</div><div class=\"k\">runs</div>" "$work/many-dom.html" | wc -l | tr -d ' ')
points=$(grep -o 'data-series="run" fill="none" stroke="[^"]*" points="[^"]*"' "$work/many-dom.html" | sed 's/.*points="//; s/"$//' | wc -w | tr -d ' ')
charts=$(grep -o '<section class="run"' "$work/many-dom.html" | wc -l | tr -d ' ')
listed=$(grep -o '<tr id="run-' "$work/many-dom.html" | wc -l | tr -d ' ')
opened=$(grep -c '<details class="more" id="more" open' "$work/many-dom.html" || true)
check "summary present" "$summary" 1
check "summary counts the runs" "$runs_tile" 1
check "trend chart: points on the run line" "$points" "$n"
check "runs with a chart" "$charts" 10
check "runs in the collapsed list" "$listed" $((n - 10))
check "a link into the collapsed list opens it" "$opened" 1

if [ "$update" = 1 ]; then
	browser --hide-scrollbars --window-size=1400,1400 --screenshot="$work/shot.png" "file://$work/many.html" >/dev/null
	cp "$work/shot.png" docs/report-screenshot.png
	echo "wrote docs/report-screenshot.png"
fi
exit "$fail"

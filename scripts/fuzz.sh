#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a while, one `go test -fuzz`
# invocation per target (go fuzzes one target per run), and stops at the
# first failure. The last line is the summary: "fuzz: 5 passed, 0 failed".
#
#   scripts/fuzz.sh                   every target, FUZZTIME each
#   scripts/fuzz.sh FuzzJournal ...   only the named targets
#
# Environment:
#   FUZZTIME=10s     -fuzztime of each target (a duration, or Nx for N execs)
#   FUZZPARALLEL=    -parallel (fuzzing workers); go's default is GOMAXPROCS
#
# A failing input is written by go to <package>/testdata/fuzz/<Target>/; the
# failure output names it. Once the bug is fixed, commit that file: it is
# then a seed that every `go test` runs. Targets are found by looking for
# `func FuzzXxx(f *testing.F)` in *_test.go files, without building anything.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
fuzztime=${FUZZTIME:-10s}
parallel=()
if [[ -n "${FUZZPARALLEL:-}" ]]; then
	parallel=(-parallel "$FUZZPARALLEL")
fi

# One "<package dir> <target>" line per fuzz target, in a stable order.
mapfile -t targets < <(
	grep -rEo --include='*_test.go' --exclude-dir=.git --exclude-dir=testdata \
		'^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . |
		sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#\1 \2#' |
		sort -u
)
if (($# > 0)); then
	want=" $* "
	selected=()
	for t in "${targets[@]}"; do
		[[ "$want" == *" ${t#* } "* ]] && selected+=("$t")
	done
	targets=("${selected[@]}")
fi
if ((${#targets[@]} == 0)); then
	echo "fuzz: no fuzz targets found${*:+ named $*}" >&2
	exit 2
fi

passed=0
failed=0
for t in "${targets[@]}"; do
	dir=${t% *}
	name=${t#* }
	echo "=== fuzz $name in $dir for $fuzztime"
	if go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "${parallel[@]}" "$dir"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "--- FAIL: $name in $dir (the failing input is under $dir/testdata/fuzz/$name/)"
		break
	fi
done

notrun=$((${#targets[@]} - passed - failed))
summary="fuzz: $passed passed, $failed failed"
if ((notrun > 0)); then
	summary+=", $notrun not run"
fi
echo "$summary"
((failed == 0))

# Shared helpers for tests/hostile/test_*.sh (sourced, not run). See
# docs/internals/hostile.md for what the suite asserts and why the bounds
# have the values they have.
#
# Environment (set by ctest): WARD (the ward binary), WARD_SRC, WARD_BUILD.
set -uo pipefail

: "${WARD:?WARD must point to the ward binary}"
: "${WARD_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${WARD_BUILD:=/tmp}"
GEN="python3 $WARD_SRC/tests/hostile/gen_hostile.py"
TIME_BIN=/usr/bin/time

[ -x "$TIME_BIN" ] || { echo "SKIP-FAIL: $TIME_BIN missing (Debian package 'time')"; exit 1; }
command -v python3 >/dev/null || { echo "python3 missing"; exit 1; }

# Every generated input lives in one mktemp directory, removed on exit.
T=$(mktemp -d "${WARD_BUILD%/}/hostile.XXXXXX" 2>/dev/null || mktemp -d /tmp/hostile.XXXXXX)
trap 'rm -rf "$T"' EXIT

# Sanitizer builds: ASan keeps freed memory in a 256 MiB quarantine and maps
# shadow memory, so RSS ceilings are widened; address-space caps (prlimit
# --as) cannot work at all (ASan reserves terabytes of address space); and
# everything runs ~3x slower.
ASAN=0
if grep -qa __asan_init "$WARD" 2>/dev/null ||
	grep -qs '^WARD_SANITIZE:BOOL=ON' "$WARD_BUILD/CMakeCache.txt"; then
	ASAN=1
fi
# Fixed allowance on top of --max-scantime for process start, the load of a
# one-line database (milliseconds) and the work between the deadline passing
# and the next clock check (at most one 64 KiB archive read or one verifier
# slice of 65,536 units).
MARGIN_S=3
[ $ASAN = 1 ] && MARGIN_S=10

FAILS=0
CASES=0
fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}
ok() { echo "ok: $*"; }

# The EICAR test file, built at run time.
eicar() { printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'; }
EICAR_HEX=$(eicar | od -An -v -tx1 | tr -d ' \n')

# run_ward LABEL SCANTIME_MS RSS_CAP_MIB ward-scan-args...
# Runs `ward scan --no-summary --alert-exceeds-max --max-scantime SCANTIME_MS
# args` under /usr/bin/time and, outside ASan, under an address-space cap of
# 4 x RSS_CAP (a runaway allocation fails instead of swapping). Sets OUT
# (stdout), ERR (stderr), RC, WALL (s), RSS (KiB), and fails the case when
# the process crashed, ran past SCANTIME (x NFILES when set) + MARGIN_S, or used more than
# RSS_CAP MiB.
run_ward() {
	local label=$1 st=$2 cap=$3
	shift 3
	CASES=$((CASES + 1))
	local pre=()
	if [ $ASAN = 0 ] && command -v prlimit >/dev/null; then
		pre=(prlimit --as=$((cap * 4 << 20)) --)
	else
		cap=$((cap * 3 + 320))
	fi
	"${pre[@]}" "$TIME_BIN" -f '%e %M' -o "$T/.time" \
		"$WARD" scan --no-summary --alert-exceeds-max --threads 1 --max-scantime "$st" "$@" \
		>"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	# time(1) prints "Command exited with non-zero status N" first: take the last line.
	read -r WALL RSS < <(tail -n 1 "$T/.time")
	# NFILES: the scan time budget is per file; with several files scanned
	# in one run (one thread), the bound is NFILES budgets.
	local limit_s=$(((${NFILES:-1} * st + 999) / 1000 + MARGIN_S))
	if [ "$RC" -ge 3 ]; then
		fail "$label: exit $RC (crash, sanitizer report or leak)"
		echo "$ERR" | head -30
	fi
	# ASan and UBSan exit with 1 by default, the same code as "found".
	if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: .*Sanitizer' <<<"$ERR"; then
		fail "$label: sanitizer report"
		echo "$ERR" | grep -E -A12 'Sanitizer|runtime error' | head -40
	fi
	if ! awk -v w="$WALL" -v l="$limit_s" 'BEGIN { exit !(w <= l) }'; then
		fail "$label: wall time ${WALL}s > ${limit_s}s (--max-scantime ${st}ms + ${MARGIN_S}s)"
	fi
	if [ "${RSS:-0}" -gt $((cap * 1024)) ]; then
		fail "$label: max RSS ${RSS} KiB > ${cap} MiB"
	fi
	echo "   $label: rc=$RC wall=${WALL}s rss=$((RSS / 1024))MiB"
}

# expect_line LABEL REGEX: stdout has a line matching REGEX (grep -E).
expect_line() {
	if grep -Eq -- "$2" <<<"$OUT"; then ok "$1: $2"; else
		fail "$1: no line matching '$2' in:"
		echo "$OUT" | head -20
		echo "$ERR" | head -5
	fi
}
# expect_no_line LABEL REGEX
expect_no_line() {
	if grep -Eq -- "$2" <<<"$OUT"; then
		fail "$1: unexpected line matching '$2':"
		grep -E -- "$2" <<<"$OUT" | head -5
	else ok "$1: no '$2'"; fi
}
# expect_rc LABEL RC...: the exit code is one of those given.
expect_rc() {
	local label=$1 want
	shift
	for want in "$@"; do [ "$RC" = "$want" ] && { ok "$label: exit $RC"; return; }; done
	fail "$label: exit $RC, expected one of: $*"
}

finish() {
	echo "hostile: $CASES runs, $FAILS failures"
	[ "$FAILS" -eq 0 ]
}

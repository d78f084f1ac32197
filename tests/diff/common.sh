# Shared helpers for the differential tests (sourced, not run).
# Environment (set by ctest): WARD (the ward binary), WARD_SRC (repository),
# WARD_SHARED (shared folder with sigs/), WARD_BUILD (build directory; caches
# go to $WARD_BUILD/diff-cache, never into the source tree).

set -euo pipefail

DIFF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${WARD_SRC:=$(cd "$DIFF_DIR/../.." && pwd)}"
: "${WARD_SHARED:=$WARD_SRC/../shared}"
: "${WARD_BUILD:=$WARD_SRC/build/dev}"
: "${WARD:=$WARD_BUILD/ward}"
DIFF_CACHE=$WARD_BUILD/diff-cache
ALLOW_LIST=$DIFF_DIR/known-divergences.txt
COMPAT_DOC=$WARD_SRC/docs/compat.md
WARD_THREADS=${WARD_THREADS:-2}
mkdir -p "$DIFF_CACHE"
# the generators import each other: keep __pycache__ out of the source tree
export PYTHONDONTWRITEBYTECODE=1

die() {
	echo "FAIL: $*" >&2
	exit 1
}

need_tools() {
	command -v python3 >/dev/null || die "python3 is missing (scripts/install-deps installs it)"
	command -v clamscan >/dev/null || die "clamscan is missing: apt-get install clamav (the oracle, ClamAV 1.4.6)"
	[ -x "$WARD" ] || die "ward binary not found at '$WARD': build the 'ward' target first"
}

# A cache key: sha256 over the named files' contents and the extra strings.
cache_key() {
	local extra=$1
	shift
	{
		printf '%s\n' "$extra" "$(clamscan --version 2>/dev/null)"
		cat "$@"
	} | sha256sum | cut -c1-16
}

# run_clamscan OUT ROOT DB...: one recursive --allmatch clamscan run over ROOT
# (its first-match verdicts are derived from this run: a file is infected iff
# --allmatch reports a name). Fails when a database does not load.
run_clamscan() {
	local out=$1 root=$2
	shift 2
	local dbargs=() db
	for db in "$@"; do dbargs+=(-d "$db"); done
	local rc=0
	clamscan -r --allmatch --no-summary "${dbargs[@]}" "$root" >"$out.tmp" 2>"$out.err" || rc=$?
	if [ "$rc" -ge 2 ] && grep -qE "Malformed database|Can't load|cli_loaddb" "$out.err"; then
		cat "$out.err" >&2
		die "clamscan could not load the databases"
	fi
	mv "$out.tmp" "$out"
}

# run_ward OUT MODE ROOT DB...: MODE is all (--allmatch) or first.
run_ward() {
	local out=$1 mode=$2 root=$3
	shift 3
	local args=(scan -r --no-summary --threads "$WARD_THREADS") db
	[ "$mode" = all ] && args+=(--allmatch)
	for db in "$@"; do args+=(-d "$db"); done
	local rc=0
	"$WARD" "${args[@]}" "$root" >"$out" 2>"$out.err" || rc=$?
	echo "ward ($mode) exit status $rc"
	if [ "$rc" -gt 2 ]; then
		head -20 "$out.err" >&2
		die "ward exited with status $rc (crash or usage error)"
	fi
	if [ ! -s "$out" ]; then
		head -20 "$out.err" >&2
		die "ward printed no verdicts"
	fi
}

# compare CORPUS ROOT CLAM WARD_ALL WARD_FIRST [extra compare.py args]
compare() {
	local corpus=$1 root=$2 clam=$3 wall=$4 wfirst=$5
	shift 5
	python3 "$DIFF_DIR/compare.py" --corpus "$corpus" --root "$root" \
		--clam-all "$clam" --clam-first "$clam" --ward-all "$wall" --ward-first "$wfirst" \
		--allow "$ALLOW_LIST" --compat "$COMPAT_DOC" "$@"
}

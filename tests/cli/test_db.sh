#!/bin/bash
# `ward db check`, `ward db info`, `ward --version`, `ward help` and usage
# errors (exit 2, message on stderr). Env: WARD. PASS/FAIL per case.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

run() { "$@" > out 2> err; rc=$?; }
expect_rc() { # name want-rc
	if [ "$rc" = "$2" ]; then pass "$1"; else
		fail "$1: exit $rc, want $2"; sed 's/^/    out: /' out | head -5; sed 's/^/    err: /' err | head -5; fi
}

printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > eicar.com
echo "$(md5sum eicar.com | cut -d' ' -f1):68:Test.Hash" > good.hdb
printf '%s\n' 'Test.Body:0:*:45494341522d5354414e44415244' 'Test.Body2:0:*:414243444546' > good.ndb
# line 2: not hex; line 4: too few fields; lines 1 and 3 are fine
printf '%s\n' 'Ok.One:0:*:45494341522d' 'Bad.Hex:0:*:4g4g4g4g' 'Ok.Two:0:*:414243444546' 'JustAName' > bad.ndb

# ---- db check ----
run "$WARD" db check good.hdb good.ndb
expect_rc "db check: good files exit 0" 0
grep -q 'good.ndb' out && pass "db check: per-file summary" || fail "db check: per-file summary"

run "$WARD" db check bad.ndb
expect_rc "db check: bad file exits 1" 1
grep -qE '^bad\.ndb:2: .+' out && pass "db check: bad line 2 reported as FILE:LINE: reason" ||
	{ fail "db check: bad line 2 not reported"; sed 's/^/    /' out; }
grep -qE '^bad\.ndb:4: .+' out && pass "db check: bad line 4 reported" ||
	{ fail "db check: bad line 4 not reported"; sed 's/^/    /' out; }
grep -qE '^bad\.ndb:(1|3):' out && fail "db check: good lines reported as bad" || pass "db check: good lines not reported"

run "$WARD" db check good.ndb bad.ndb
expect_rc "db check: one bad among several exits 1" 1

run "$WARD" db check missing.ndb
expect_rc "db check: missing file exits 2" 2

run "$WARD" db check
expect_rc "db check: no argument exits 2" 2
[ -s err ] && pass "db check: usage on stderr" || fail "db check: usage on stderr"

# ---- db info ----
run "$WARD" db info good.hdb good.ndb
expect_rc "db info: exit 0" 0
grep -qE '^Hash signatures \(\.hdb \.hsb\) +1$' out && pass "db info: 1 hash signature" ||
	{ fail "db info: hash count"; sed 's/^/    /' out; }
grep -qE '^Body signatures \(\.ndb\) +2$' out && pass "db info: 2 body signatures" || fail "db info: body count"
nlabels=0
for l in 'Hash signatures' 'PE section hash' 'PE import hash' 'Body signatures' 'Logical signatures' \
	'Allow-list' 'Ignored signature' 'Skipped for functionality' 'Unsupported (' 'Bad lines' \
	'Distinct anchors' 'Unanchored'; do
	grep -qF "$l" out && nlabels=$((nlabels + 1))
done
[ $nlabels = 12 ] && pass "db info: every counter labelled" || fail "db info: $nlabels of 12 counters"
grep -q '^Unsupported features:' out && pass "db info: unsupported feature list" || fail "db info: unsupported feature list"

run "$WARD" db info bad.ndb
grep -qE '^Bad lines +2$' out && pass "db info: counts bad lines" || fail "db info: bad line count"
grep -q 'LibWard: bad.ndb:2: ' err && pass "db info: diagnostics as LibWard: FILE:LINE: msg" ||
	fail "db info: diagnostics on stderr"

run "$WARD" db info missing.ndb
expect_rc "db info: missing database exits 2" 2

# ---- scan: database diagnostics during load, load continues ----
run "$WARD" scan --no-summary -d bad.ndb eicar.com
expect_rc "scan with a partly bad database still scans (exit 1)" 1
grep -q '^eicar.com: Ok.One.UNOFFICIAL FOUND$' out && pass "scan: good lines of a bad database load" ||
	fail "scan: good lines of a bad database load"
grep -q '^LibWard: bad.ndb:2: ' err && pass "scan: load diagnostic on stderr" || fail "scan: load diagnostic on stderr"

run "$WARD" scan -d good.ndb -d missing.ndb eicar.com
expect_rc "scan with a missing -d database: exit 2, as clamscan" 2
grep -q 'missing.ndb' err && pass "scan: missing database named on stderr" || fail "scan: missing database named"

# ---- version, help, usage errors ----
run "$WARD" --version
expect_rc "--version exits 0" 0
grep -qE '^Ward [0-9]+\.[0-9]+\.[0-9]+' out && pass "--version prints Ward's version" || fail "--version output"
run "$WARD" help
expect_rc "help exits 0" 0
grep -q 'ward scan' out && pass "help lists scan" || fail "help lists scan"

usage() { # name args...
	local name=$1; shift
	run "$WARD" "$@"
	if [ "$rc" = 2 ] && [ -s err ] && [ ! -s out ]; then pass "usage error: $name"; else
		fail "usage error: $name (exit $rc)"; fi
}
usage "no command"
usage "unknown command" frobnicate
usage "scan without PATH" scan -d good.ndb
usage "unknown option" scan --bogus -d good.ndb eicar.com
usage "unknown short option" scan -q -d good.ndb eicar.com
usage "-d without value" scan eicar.com -d
usage "--threads 0" scan --threads 0 -d good.ndb eicar.com
usage "--threads -1" scan --threads -1 -d good.ndb eicar.com
usage "--threads 1x" scan --threads=1x -d good.ndb eicar.com
usage "--threads too many" scan --threads 100000 -d good.ndb eicar.com
usage "--max-filesize bad suffix" scan --max-filesize=1x -d good.ndb eicar.com
usage "--max-filesize overflow" scan --max-filesize=99999999999999999999M -d good.ndb eicar.com
usage "--max-filesize suffix overflow" scan --max-filesize=18014398509481984M -d good.ndb eicar.com
usage "--max-files past 32 bits" scan --max-files=4294967296 -d good.ndb eicar.com
usage "--max-scantime empty" scan --max-scantime= -d good.ndb eicar.com
usage "--max-recursion with space" scan "--max-recursion= 5" -d good.ndb eicar.com
usage "flag with a value" scan --recursive=maybe -d good.ndb eicar.com
usage "db without subcommand" db
usage "db bad subcommand" db frob good.ndb

# no -d: /var/lib/clamav is used only if it holds databases
if ! ls /var/lib/clamav 2> /dev/null | grep -qE '\.(cvd|cld|cud|hdb|hsb|mdb|msb|imp|ndb|ldb|fp|sfp|ign|ign2)$'; then
	run "$WARD" scan eicar.com
	[ "$rc" = 2 ] && grep -q -- '-d' err && pass "no -d and no /var/lib/clamav databases: clear error, exit 2" ||
		fail "no -d and no default databases (exit $rc)"
else
	echo "SKIP: /var/lib/clamav holds databases"
fi

# options that must be accepted
run "$WARD" scan --no-summary --recursive=yes --allmatch=no --max-filesize=2M --max-scansize 10k \
	--max-scantime=5000 --max-recursion 4 --max-files=10 --max-dir-recursion 3 --no-sandbox \
	--threads=2 -d good.ndb -- eicar.com
expect_rc "every scan option accepted, -- ends options" 1
run "$WARD" scan --no-summary -rid good.ndb eicar.com
expect_rc "clustered short options (-rid DB)" 1

echo
if [ $fails -gt 0 ]; then echo "test_db: $fails FAILED"; exit 1; fi
echo "test_db: all passed"

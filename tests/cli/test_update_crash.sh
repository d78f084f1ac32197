#!/bin/bash
# Activation safety of `ward update`: the client SIGKILLs itself at step N
# (WARD_UPDATE_TEST_KILL_AT, test-only) for every step; after each kill the
# active pattern (PATTERN/current) must load, and a rerun must finish the
# update. Then: last-known-good and `ward update --rollback`, a release that
# fails its test load is never activated, and a rolled-back version is not
# reinstalled until a newer one. Served over real HTTP on 127.0.0.1.
# Env: WARD. PASS/FAIL per case.
source "$(dirname "${BASH_SOURCE[0]}")/update_common.sh"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
mkdir -p repo/public
timeout 600 python3 -m http.server "$port" --bind 127.0.0.1 --directory repo/public > /dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
M=http://127.0.0.1:$port

mkdir keys
for k in root targets snap ts; do "$WARD" repo keygen keys/$k.pem > /dev/null || exit 1; done
"$WARD" repo init repo --root-key keys/root.pem --targets-key keys/targets.pem \
	--snapshot-key keys/snap.pem --timestamp-key keys/ts.pem > /dev/null &&
	"$WARD" repo sign repo root --key keys/root.pem > /dev/null || { echo "FAIL: repo init"; exit 1; }
release() { # VERSION CONTENT-FILE
	"$WARD" repo add repo "$2" --name "main-$1.ndb" --version "$1" > /dev/null &&
		"$WARD" repo sign repo targets --key keys/targets.pem > /dev/null &&
		"$WARD" repo publish repo --snapshot-key keys/snap.pem --timestamp-key keys/ts.pem > /dev/null
}
good() { printf 'Test.Sig%s:0:*:%s\n' "$1" "$(printf 'crash-test-%s' "$1" | od -An -tx1 | tr -d ' \n')" > "p$1.ndb"; }

update() { # STATE PATTERN [options]
	local s=$1 p=$2
	shift 2
	# in the background: the shell does not announce the SIGKILL then
	"$WARD" update --state "$s" --pattern-dir "$p" --mirror "$M" --timeout 20 "$@" > out 2> err &
	wait $! 2> /dev/null
	rc=$?
}
active() { "$WARD" update status --pattern-dir "$1" | sed -n 's/^current: //p'; }
previous() { "$WARD" update status --pattern-dir "$1" | sed -n 's/^previous: //p'; }
loads() { "$WARD" db info "$1/current" > /dev/null 2>&1; }

good 1 && release 1 p1.ndb || { echo "FAIL: release 1"; exit 1; }
"$WARD" update init --state base-st --root repo/public/root.json > /dev/null
update base-st base-pat
[ "$rc" = 0 ] && [ "$(active base-pat)" = 1 ] && loads base-pat && pass "baseline: version 1 active" ||
	{ fail "baseline"; cat err; exit 1; }
good 2 && release 2 p2.ndb

# ---- kill -9 at every step ----
killed=0
for n in $(seq 1 14); do
	rm -rf st pat && cp -a base-st st && cp -a base-pat pat
	WARD_UPDATE_TEST_KILL_AT=$n update st pat
	[ "$rc" = 137 ] && killed=$((killed + 1))
	a=$(active pat)
	if { [ "$a" = 1 ] || [ "$a" = 2 ]; } && loads pat; then
		pass "kill at step $n (exit $rc): active pattern $a loads"
	else
		fail "kill at step $n (exit $rc): active pattern '$a' does not load"
		ls -la pat pat/versions 2>&1 | sed 's/^/    /'
	fi
	update st pat
	if [ "$rc" = 0 ] && [ "$(active pat)" = 2 ] && loads pat; then
		pass "kill at step $n: rerun completes the update"
	else
		fail "kill at step $n: rerun: rc=$rc active=$(active pat)"
		sed 's/^/    err: /' err | head -5
	fi
	# no stray temporaries or unreferenced versions after the rerun
	nv=$(ls pat/versions | wc -l)
	[ "$nv" -le 2 ] && ! ls -a pat | grep -q '^\.\(download\|unpack\|current\.tmp\|previous\.tmp\)' &&
		pass "kill at step $n: no leftovers after the rerun" ||
		fail "kill at step $n: leftovers: $(ls -a pat pat/versions | tr '\n' ' ')"
done
[ "$killed" -ge 10 ] && pass "the client was killed at $killed distinct steps" ||
	fail "only $killed steps killed the client"

# ---- last known good and --rollback ----
rm -rf st pat && cp -a base-st st && cp -a base-pat pat
update st pat
[ "$rc" = 0 ] && [ "$(active pat)" = 2 ] && [ "$(previous pat)" = 1 ] &&
	pass "update keeps version 1 as last known good" || fail "previous not kept: $(previous pat)"
"$WARD" update --rollback --state st --pattern-dir pat > out 2> err
rc=$?
[ "$rc" = 0 ] && [ "$(active pat)" = 1 ] && [ "$(previous pat)" = 2 ] && loads pat &&
	pass "rollback returns to version 1" || { fail "rollback: rc=$rc active=$(active pat)"; cat err; }
update st pat
[ "$rc" = 0 ] && [ "$(active pat)" = 1 ] && pass "a rolled-back version is not reinstalled" ||
	fail "rolled-back version reinstalled: active=$(active pat)"
update st pat --pin 2
[ "$rc" = 0 ] && [ "$(active pat)" = 2 ] && pass "a pin reinstalls it" || fail "pin 2: active=$(active pat)"
update st pat --pin 1
[ "$rc" = 0 ] && [ "$(active pat)" = 1 ] && pass "a pin can go back to an older version" || fail "pin 1"

# ---- a release that fails its test load is never activated ----
printf 'Bad.Hex:0:*:4g4g4g4g\n' > p3.ndb
release 3 p3.ndb
update st pat
[ "$rc" = 1 ] && grep -q "test load failed" err && [ "$(active pat)" = 1 ] && loads pat &&
	pass "broken release refused by the test load; version 1 stays" ||
	{ fail "broken release: rc=$rc active=$(active pat)"; sed 's/^/    err: /' err | head -5; }
ls pat/versions | grep -q '^3-' && fail "broken release left in versions/" || pass "broken release removed"

# a test load over its memory limit is stopped (RLIMIT_AS), not activated:
# 5000 signatures need far more than 1 MiB of new address space to compile
python3 -c "
import random
random.seed(4)
for i in range(5000):
    print('Big.Sig%d:0:*:%s' % (i, ''.join(random.choice('0123456789abcdef') for _ in range(32))))" > p4.ndb
release 4 p4.ndb
update st pat --load-mem 1M
if [ "$rc" = 1 ] && grep -q "test load failed" err && [ "$(active pat)" = 1 ]; then
	pass "test load under a 1 MiB address-space limit fails cleanly"
else
	# Sanitizer builds skip RLIMIT_AS (shadow memory); the load may pass.
	[ "$(active pat)" = 4 ] && pass "test load limit not enforced in this build (sanitizer)" ||
		fail "load-mem: rc=$rc active=$(active pat)"
fi
update st pat
[ "$rc" = 0 ] && [ "$(active pat)" = 4 ] && loads pat && pass "next release activates" ||
	fail "release 4: rc=$rc active=$(active pat)"

"$WARD" update --rollback --state st --pattern-dir base-pat > out 2> err
[ $? = 2 ] && grep -q "no previous" err && pass "rollback without a previous pattern refused" ||
	fail "rollback without previous"

echo "update crash: $fails failed"
[ "$fails" = 0 ]

#!/bin/bash
# `ward repo` (keygen, init, add, sign, publish: usage errors, key checks,
# thresholds, the static layout) and channels: a client following preview,
# stable or stable+48h, or pinning a version, served over real HTTP.
# Env: WARD. PASS/FAIL per case.
source "$(dirname "${BASH_SOURCE[0]}")/update_common.sh"
run() { "$@" > out 2> err; rc=$?; }
expect_rc() { # NAME WANT
	if [ "$rc" = "$2" ]; then pass "$1"; else
		fail "$1: exit $rc, want $2"; sed 's/^/    err: /' err | head -5; fi
}

# ---- keys ----
mkdir keys
run "$WARD" repo keygen keys/root.pem keys/root.pub
expect_rc "keygen" 0
grep -qE '^key id [0-9a-f]{64}$' out && pass "keygen prints the key id" || fail "keygen output"
[ "$(stat -c %a keys/root.pem)" = 600 ] && pass "private key mode 0600" || fail "private key mode"
run "$WARD" repo keygen keys/root.pem
expect_rc "keygen never overwrites a key" 2
for k in t1 t2 snap ts other; do "$WARD" repo keygen keys/$k.pem keys/$k.pub > /dev/null; done

# ---- init ----
run "$WARD" repo init repo --root-key keys/root.pub --targets-key keys/t1.pub
expect_rc "init without every role's key is a usage error" 2
run "$WARD" repo init repo --root-key keys/root.pub --targets-key keys/t1.pub --targets-key keys/t2.pub \
	--targets-threshold 3 --snapshot-key keys/snap.pub --timestamp-key keys/ts.pub
expect_rc "threshold above the number of keys refused" 2
run "$WARD" repo init repo --root-key keys/root.pub --targets-key keys/t1.pub --targets-key keys/t2.pub \
	--targets-threshold 2 --snapshot-key keys/snap.pub --timestamp-key keys/ts.pub
expect_rc "init" 0
grep -rq "PRIVATE" repo && fail "a private key entered the repository" || pass "no private key in the repository"
run "$WARD" repo init repo --root-key keys/root.pub --targets-key keys/t1.pub \
	--snapshot-key keys/snap.pub --timestamp-key keys/ts.pub
expect_rc "init twice refused" 2

# ---- sign ----
run "$WARD" repo sign repo root --key keys/root.pub
expect_rc "signing needs a private key" 2
run "$WARD" repo sign repo root --key keys/other.pem
expect_rc "a key the root does not list cannot sign root" 2
run "$WARD" repo sign repo snapshot --key keys/snap.pem
expect_rc "snapshot is signed by publish only" 2
run "$WARD" repo sign repo root --key keys/root.pem
expect_rc "sign root" 0

# ---- add ----
sig() { printf 'Test.Sig%s:0:*:%s\n' "$1" "$(printf 'repo-test-%s' "$1" | od -An -tx1 | tr -d ' \n')" > "p$1.ndb"; }
sig 1
run "$WARD" repo add repo p1.ndb --name ../evil --version 1
expect_rc "target name with a path refused" 2
run "$WARD" repo add repo p1.ndb --name main-1.ndb --version 1 --channel nightly
expect_rc "unknown channel refused" 2
run "$WARD" repo add repo missing.ndb --name main-1.ndb --version 1
expect_rc "missing file refused" 2
now=$(date -u +%s)
t() { date -u -d "@$(($now - $1 * 3600))" +%Y-%m-%dT%H:%M:%SZ; }
# channels: 1 stable (5 days old), 2 stable (24 h old), 3 preview (now)
sig 2 && sig 3
run "$WARD" repo add repo p1.ndb --name main-1.ndb --version 1 --channel stable --released "$(t 120)"
expect_rc "add version 1" 0
"$WARD" repo add repo p2.ndb --name main-2.ndb --version 2 --channel stable --released "$(t 24)" > /dev/null
"$WARD" repo add repo p3.ndb --name main-3.ndb --version 3 --channel preview > /dev/null
run "$WARD" repo add repo p3.ndb --name other.ndb --version 3
expect_rc "one version is one target" 2

# ---- publish ----
run "$WARD" repo publish repo --snapshot-key keys/snap.pem --timestamp-key keys/ts.pem
expect_rc "publish refuses targets without signatures" 1
"$WARD" repo sign repo targets --key keys/t1.pem > /dev/null
run "$WARD" repo publish repo --snapshot-key keys/snap.pem --timestamp-key keys/ts.pem
expect_rc "publish refuses 1 of 2 targets signatures" 1
"$WARD" repo sign repo targets --key keys/t2.pem > /dev/null
run "$WARD" repo publish repo --snapshot-key keys/ts.pem --timestamp-key keys/ts.pem
expect_rc "publish refuses a wrong snapshot key" 2
# a week of validity: the stable+48h case below moves the client's clock
run "$WARD" repo publish repo --snapshot-key keys/snap.pem --timestamp-key keys/ts.pem \
	--expires timestamp=604800
expect_rc "publish" 0
for f in 1.root.json root.json 1.targets.json 1.snapshot.json timestamp.json; do
	[ -s "repo/public/$f" ] || fail "missing public/$f"
done
[ "$(ls repo/public/targets | wc -l)" = 3 ] && pass "three packages under public/targets" || fail "targets dir"
h=$(sha256sum p2.ndb | cut -d' ' -f1)
[ -f "repo/public/targets/$h.main-2.ndb" ] && pass "packages are named by their SHA-256" || fail "target naming"
grep -q '"channel":"preview"' repo/public/1.targets.json && grep -q '"released":"' repo/public/1.targets.json &&
	pass "targets carry custom.ward channel and release time" || fail "custom fields"

# ---- channels over HTTP ----
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
timeout 300 python3 -m http.server "$port" --bind 127.0.0.1 --directory repo/public > /dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
client() { # NAME OPTIONS... -> prints the active version
	local n=$1
	shift
	[ -d "st-$n" ] || "$WARD" update init --state "st-$n" --root repo/public/root.json > /dev/null
	"$WARD" update --state "st-$n" --pattern-dir "pat-$n" --mirror "http://127.0.0.1:$port" "$@" > out 2> err
	rc=$?
	"$WARD" update status --pattern-dir "pat-$n" | sed -n 's/^current: //p'
}
[ "$(client preview --channel preview)" = 3 ] && pass "channel preview: version 3" || fail "preview: $(cat err)"
[ "$(client stable --channel stable)" = 2 ] && pass "channel stable: version 2" || fail "stable"
[ "$(client default)" = 2 ] && pass "default channel is stable" || fail "default"
[ "$(client delayed --channel stable+48h)" = 1 ] && pass "channel stable+48h: version 1 (2 is only 24 h old)" ||
	fail "stable+48h"
[ "$(client pinned --pin 1)" = 1 ] && pass "pin 1" || fail "pin 1"
client pinned --pin 9 > /dev/null
[ "$rc" = 2 ] && grep -q "not in the repository" err && pass "pin of a missing version refused" || fail "pin 9"
client bad --channel nightly > /dev/null
[ "$rc" = 2 ] && pass "unknown channel refused by the client" || fail "client channel"
# a client following stable+48h moves once the release is old enough
future=$(date -u -d "@$(($now + 30 * 3600))" +%Y-%m-%dT%H:%M:%SZ)
[ "$(client delayed --channel stable+48h --now "$future")" = 2 ] && pass "stable+48h: version 2 after 48 h" ||
	fail "stable+48h later: $(cat err)"
# promotion: version 3 enters stable
"$WARD" repo add repo p3.ndb --name main-3.ndb --version 3 --channel stable > /dev/null
"$WARD" repo sign repo targets --key keys/t1.pem > /dev/null
"$WARD" repo sign repo targets --key keys/t2.pem > /dev/null
"$WARD" repo publish repo --snapshot-key keys/snap.pem --timestamp-key keys/ts.pem > /dev/null
[ "$(client stable --channel stable)" = 3 ] && pass "promotion to stable reaches stable clients" || fail "promotion"
# a channel never moves a client to an older version than it has
[ "$(client pinned)" = 3 ] && pass "pinned client back on the channel moves up" || fail "unpin"

echo "update repo: $fails failed"
[ "$fails" = 0 ]

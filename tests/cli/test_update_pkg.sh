#!/bin/bash
# `ward update --pkg-key`: targets are pattern packages (ward pattern build).
# The client verifies each package (signature, per-file hashes), requires its
# version to be the one targets.json lists, skips packages that do not serve
# this engine, unpacks the members and test-loads them. Served over HTTP.
# Env: WARD. PASS/FAIL per case.
source "$(dirname "${BASH_SOURCE[0]}")/update_common.sh"

"$WARD" pattern keygen -p pkg.pub -s pkg.sec > /dev/null 2>&1 || { echo "SKIP: no ward pattern"; exit 0; }
"$WARD" pattern keygen -p other.pub -s other.sec > /dev/null 2>&1
new_repo

package() { # VERSION KEY ENGINE-MIN OUT
	mkdir -p "src$1"
	printf 'Pkg.Sig%s:0:*:%s\n' "$1" "$(printf 'pkg-test-%s' "$1" | od -An -tx1 | tr -d ' \n')" > "src$1/daily.ndb"
	printf 'Pkg.Hash%s\n' "$1" > "src$1/local.ign2"
	printf 'version: %s\ncreated: 1704067200\nengine-min: %s\nengine-max: *\nplatform: */*\n' "$1" "$3" > "man$1.txt"
	"$WARD" pattern build --manifest "man$1.txt" --key "$2" -o "$4" "src$1/daily.ndb" "src$1/local.ign2" > /dev/null
}
release() { # VERSION FILE
	"$WARD" repo add repo "$2" --name "pattern-$1.wpkg" --version "$1" > /dev/null &&
		"$WARD" repo sign repo targets --key keys/targets.pem > /dev/null &&
		"$WARD" repo publish repo --snapshot-key keys/snap.pem --timestamp-key keys/ts.pem > /dev/null
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
timeout 300 python3 -m http.server "$port" --bind 127.0.0.1 --directory repo/public > /dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
update() {
	"$WARD" update --state st --pattern-dir pat --mirror "http://127.0.0.1:$port" --pkg-key pkg.pub "$@" > out 2> err
	rc=$?
}
active() { "$WARD" update status --pattern-dir pat | sed -n 's/^current: //p'; }

package 10 pkg.sec 1 p10.wpkg && release 10 p10.wpkg
"$WARD" update init --state st --root repo/public/root.json > /dev/null
update
[ "$rc" = 0 ] && [ "$(active)" = 10 ] && pass "package 10 verified, unpacked, activated" ||
	{ fail "package 10: rc=$rc"; cat err; }
[ -f pat/current/daily.ndb ] && [ -f pat/current/local.ign2 ] && pass "members unpacked as files" ||
	fail "members: $(ls pat/current)"
"$WARD" db info pat/current > /dev/null && pass "unpacked pattern loads" || fail "unpacked pattern does not load"

# signed with another key: the repository vouches for the bytes, the package key does not
package 11 other.sec 1 p11.wpkg && release 11 p11.wpkg
update
[ "$rc" = 1 ] && grep -q "does not verify" err && [ "$(active)" = 10 ] &&
	pass "package signed by another key refused" || { fail "other key: rc=$rc"; cat err; }

# version inside the package differs from targets.json
package 12 pkg.sec 1 p12.wpkg && release 13 p12.wpkg
update
[ "$rc" = 1 ] && grep -q "mix-and-match" err && [ "$(active)" = 10 ] &&
	pass "package version differing from targets.json refused" || { fail "version mismatch: rc=$rc"; cat err; }

# a package for a future engine is skipped: the current pattern stays
package 14 pkg.sec 99999 p14.wpkg && release 14 p14.wpkg
update
[ "$rc" = 0 ] && grep -q "does not serve this client" out && [ "$(active)" = 10 ] &&
	pass "package that does not serve this engine skipped" || { fail "serves: rc=$rc"; cat out err; }

package 15 pkg.sec 1 p15.wpkg && release 15 p15.wpkg
update
[ "$rc" = 0 ] && [ "$(active)" = 15 ] && pass "next good package activated" || { fail "package 15"; cat err; }

echo "update pkg: $fails failed"
[ "$fails" = 0 ]

#!/bin/bash
# `ward pattern keygen|build|verify|info|extract|delta|apply-delta|lint`:
# keys made at run time (never stored), deterministic packages, signify-style
# refusals, deltas that rebuild the exact full package or refuse (the client
# then downloads the full one). Env: WARD. PASS/FAIL per case.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

run() { "$@" > out 2> err; rc=$?; }
expect_rc() { # name want-rc
	if [ "$rc" = "$2" ]; then pass "$1"; else
		fail "$1: exit $rc, want $2"; sed 's/^/    out: /' out | head -5; sed 's/^/    err: /' err | head -5; fi
}

# ---- keys ----
run "$WARD" pattern keygen -p k.pub -s k.sec
expect_rc "keygen" 0
[ "$(stat -c %a k.sec)" = 600 ] && pass "keygen: secret key mode 0600" || fail "keygen: secret key mode $(stat -c %a k.sec)"
head -1 k.pub | grep -q '^untrusted comment: ward pattern public key [0-9a-f]\{16\}$' && pass "keygen: public key comment" || fail "keygen: public key comment"
run "$WARD" pattern keygen -p k.pub -s k.sec
expect_rc "keygen: refuses to overwrite" 2
"$WARD" pattern keygen -p other.pub -s other.sec 2>/dev/null

# ---- build ----
mkdir sigs1 sigs2
printf '%s\n' 'Test.One:0:*:414243444546474849' 'Test.Two:0:*:6a6b6c6d6e6f7071' > sigs1/main.ndb
printf '%s\n' "$(printf abc | md5sum | cut -d' ' -f1):3:Test.Hash" > sigs1/main.hdb
cp sigs1/main.hdb sigs2/
{ cat sigs1/main.ndb; echo 'Test.Three:0:*:7273747576777879'; } > sigs2/main.ndb
sed -i '1d' sigs2/main.ndb
printf '%s\n' 'version: 1238000' 'created: 1704067200' 'engine-min: 200' 'engine-max: *' \
	'platform: linux/x86_64' 'platform: linux/aarch64' 'changelog: first release' > m1.txt
sed 's/1238000/1238001/; s/first release/second release/' m1.txt > m2.txt

run "$WARD" pattern build --manifest m1.txt --key k.sec -o p1.wpkg sigs1
expect_rc "build: full package" 0
run "$WARD" pattern build --manifest m1.txt --key k.sec -o p1b.wpkg sigs1/main.ndb sigs1/main.hdb
cmp -s p1.wpkg p1b.wpkg && pass "build: deterministic (same inputs, same bytes, any input order)" || fail "build: not deterministic"
run "$WARD" pattern build --manifest m2.txt --key k.sec -o p2.wpkg sigs2
expect_rc "build: second package" 0
run "$WARD" pattern build --manifest m1.txt --unsigned -o unsigned.wpkg sigs1
expect_rc "build: unsigned (tests only)" 0
run "$WARD" pattern build --manifest m1.txt -o x.wpkg sigs1
expect_rc "build: needs --key or --unsigned" 2
printf 'version: 0\n' > bad.txt
run "$WARD" pattern build --manifest bad.txt --key k.sec -o x.wpkg sigs1
expect_rc "build: bad manifest refused" 2

# ---- verify ----
run "$WARD" pattern verify --key k.pub p1.wpkg
expect_rc "verify: good package" 0
run "$WARD" pattern verify --key other.pub p1.wpkg
expect_rc "verify: wrong key refused" 1
grep -q 'another key' err && pass "verify: wrong key named (key id checked first)" || fail "verify: wrong key reason"
run "$WARD" pattern verify --key k.pub unsigned.wpkg
expect_rc "verify: unsigned refused" 1
grep -q unsigned err && pass "verify: unsigned named" || fail "verify: unsigned reason"
# Flip one byte inside a member: the signature no longer verifies.
cp p1.wpkg tampered.wpkg
off=$(grep -abo 'Test.One' tampered.wpkg | head -1 | cut -d: -f1)
printf 'X' | dd of=tampered.wpkg bs=1 seek="$off" conv=notrunc 2>/dev/null
run "$WARD" pattern verify --key k.pub tampered.wpkg
expect_rc "verify: tampered member refused" 1
head -c 100 p1.wpkg > trunc.wpkg
run "$WARD" pattern verify --key k.pub trunc.wpkg
expect_rc "verify: truncated refused" 1
cp p1.wpkg trailing.wpkg; printf 'x' >> trailing.wpkg
run "$WARD" pattern verify --key k.pub trailing.wpkg
expect_rc "verify: trailing byte refused" 1

# ---- info, extract ----
run "$WARD" pattern info p1.wpkg
expect_rc "info" 0
grep -q '^version: 1238000$' out && grep -q '^platform: linux/aarch64$' out && grep -q '^file: [0-9a-f]\{64\} [0-9]* main.ndb$' out &&
	pass "info: manifest fields" || { fail "info: manifest fields"; cat out; }
run "$WARD" pattern extract --key k.pub p1.wpkg ex
expect_rc "extract" 0
cmp -s ex/main.ndb sigs1/main.ndb && cmp -s ex/main.hdb sigs1/main.hdb && pass "extract: members byte for byte" || fail "extract: members differ"
run "$WARD" pattern extract --key other.pub p1.wpkg ex2
expect_rc "extract: wrong key refused" 1
[ ! -e ex2 ] && pass "extract: nothing written when refused" || fail "extract: wrote files for a refused package"

# ---- delta ----
run "$WARD" pattern delta --key k.sec p1.wpkg p2.wpkg -o d12.wdelta
expect_rc "delta: build" 0
[ "$(stat -c %s d12.wdelta)" -gt 0 ] && pass "delta: written" || fail "delta: empty"
grep -aq 'edit:main.ndb' d12.wdelta && pass "delta: changed file sent as an edit script" || fail "delta: no edit script"
run "$WARD" pattern apply-delta --key k.pub p1.wpkg d12.wdelta -o p2r.wpkg
expect_rc "apply-delta" 0
cmp -s p2.wpkg p2r.wpkg && pass "apply-delta: rebuilds the exact full package" || fail "apply-delta: result differs"
run "$WARD" pattern apply-delta --key k.pub p2.wpkg d12.wdelta -o x.wpkg
expect_rc "apply-delta: wrong base refused (fall back to full)" 1
grep -q 'full package' err && pass "apply-delta: says to use the full package" || fail "apply-delta: fallback message"
run "$WARD" pattern apply-delta --key other.pub p1.wpkg d12.wdelta -o x.wpkg
expect_rc "apply-delta: wrong key refused" 1
run "$WARD" pattern delta --key k.sec p2.wpkg p1.wpkg -o x.wdelta
expect_rc "delta: refuses a non-increasing version" 2
# A damaged edit script: the delta's signature catches it first.
cp d12.wdelta bad.wdelta
off=$(grep -abo 'Test.Three' bad.wdelta | head -1 | cut -d: -f1)
printf 'Z' | dd of=bad.wdelta bs=1 seek="$off" conv=notrunc 2>/dev/null
run "$WARD" pattern apply-delta --key k.pub p1.wpkg bad.wdelta -o x.wpkg
expect_rc "apply-delta: damaged delta refused" 1
[ ! -e x.wpkg ] && pass "apply-delta: no output when refused" || fail "apply-delta: wrote output"

# ---- lint ----
printf '%s\n' 'Good.Sig:0:*:41424344454647' > good.ndb
run "$WARD" pattern lint good.ndb
expect_rc "lint: clean file" 0
printf '%s\n' 'Short.Anchor:0:*:4142??????????43' > short.ndb
run "$WARD" pattern lint short.ndb
expect_rc "lint: two-byte anchor" 1
grep -q 'anchor too short' out && pass "lint: names the short anchor" || fail "lint: reason"
printf '%s\n' 'Bad.Pcre;Engine:81-255,Target:0;0&1;414243444546;0/(a+)+$/' > pcre.ldb
run "$WARD" pattern lint pcre.ldb
expect_rc "lint: nested quantifier" 1
grep -q 'nested unbounded quantifier' out && pass "lint: names the nested quantifier" || { fail "lint: pcre reason"; cat out err; }
printf '%s\n' 'Zero.Anchor:0:*:0000000000000000' > zero.ndb
run "$WARD" pattern lint zero.ndb
expect_rc "lint: repeated-byte anchor" 1

echo "failures: $fails"
[ "$fails" = 0 ]

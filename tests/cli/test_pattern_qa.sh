#!/bin/bash
# `ward pattern qa`: the release gate. One case per refusal, each with small
# packages built here with keys generated at run time: a clean package
# passes; a false positive (clean corpus, /bin/ls, ward's own binary), a lint
# finding (PCRE (a+)+$, a two-byte anchor), a version that does not grow, a
# wrong key, an unsigned package, a signature inactive on a served matrix
# configuration, and a slow signature are refused; a package that excludes a
# deployed configuration in its metadata is accepted. Env: WARD.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

run() { "$@" > out 2> err; rc=$?; }
expect_rc() { # name want-rc
	if [ "$rc" = "$2" ]; then pass "$1"; else
		fail "$1: exit $rc, want $2"; sed 's/^/    out: /' out | head -40; sed 's/^/    err: /' err | head -5; fi
}
# check_status NAME CHECK STATUS: the JSON report gives CHECK that status.
check_status() {
	if python3 - "$2" "$3" <<'EOF'
import json, sys
r = json.load(open("report.json"))
st = {c["name"]: c["status"] for c in r["checks"]}
sys.exit(0 if st.get(sys.argv[1]) == sys.argv[2] else 1)
EOF
	then pass "$1"; else fail "$1: $2 is not $3"; cat report.json | head -c 2000; echo; fi
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

"$WARD" pattern keygen -p k.pub -s k.sec || exit 1
"$WARD" pattern keygen -p other.pub -s other.sec || exit 1

mkdir clean perf base
printf 'hello world, nothing to see\n' > clean/readme.txt
head -c 4096 /dev/zero > clean/zeros.bin
printf 'plain text used for timing %s\n' {1..2000} > perf/text.txt
python3 -c "open('perf/big.bin','wb').write(b'ABCDEFGH'*(1<<17))"

printf '%s\n' 'engine=216 os=linux arch=x86_64 status=supported' \
	'engine=200 os=windows arch=x86 status=deployed  # Windows 7 32-bit, still in hospitals' > matrix.txt

manifest() { # version platforms... > stdout
	local v=$1; shift
	printf '%s\n' "version: $v" 'created: 1704067200' 'engine-min: 190' 'engine-max: *'
	for p in "$@"; do echo "platform: $p"; done
	echo "changelog: release $v"
}
BASE_SIG='Base.Sig:0:*:7a7a7a7a7b7b7b7b7c7c7c7c'
pkg() { # name version sigline [platforms...]: package with the base sig plus sigline
	local name=$1 v=$2 line=$3; shift 3
	[ $# -gt 0 ] || set -- linux/x86_64 windows/x86
	rm -rf "src-$name"; mkdir "src-$name"
	printf '%s\n' "$BASE_SIG" > "src-$name/main.ndb"
	[ -n "$line" ] && printf '%s\n' "$line" >> "src-$name/$(ext_of "$line")"
	manifest "$v" "$@" > "m-$name.txt"
	"$WARD" pattern build --manifest "m-$name.txt" --key k.sec -o "$name.wpkg" "src-$name" || fail "build $name"
}
ext_of() { case $1 in *\;*) echo main.ldb ;; *:*:*:*) echo main.ndb ;; *) echo main.hdb ;; esac; }

pkg current 1238000 ''
qa() { # pkg [extra options]
	local p=$1; shift
	run "$WARD" pattern qa "$p" --baseline current.wpkg --clean-corpus clean --perf-corpus perf \
		--matrix matrix.txt --key k.pub --reps 3 --report-json report.json --report-md report.md "$@"
}

# ---- a clean release passes (with the system critical tier sampled) ----
pkg good 1238001 'Good.Sig:0:*:4e6f7468696e67546f536565'
qa good.wpkg --critical-max 60
expect_rc "qa: clean package accepted" 0
check_status "qa: all checks pass" false-positives pass
grep -q '^# Pattern release gate: ACCEPTED' report.md && pass "qa: Markdown report" || fail "qa: Markdown report"

# ---- false positives ----
pkg fpclean 1238001 "Fp.Clean:0:*:$(hex 'hello world, nothing')"
qa fpclean.wpkg --no-system-critical
expect_rc "qa: clean-corpus detection refused" 1
check_status "qa: false-positives fails" false-positives fail
grep -q 'Fp.Clean' report.json && pass "qa: names the signature" || fail "qa: FP signature not named"

pkg fpls 1238001 "$(md5sum /bin/ls | cut -d' ' -f1):$(stat -Lc %s /bin/ls):Fp.Ls"
qa fpls.wpkg --no-system-critical --critical /bin/ls
expect_rc "qa: signature matching /bin/ls refused" 1
grep -q 'critical file /bin/ls: detected as Fp.Ls' report.md && pass "qa: /bin/ls FP reported" || { fail "qa: /bin/ls FP"; cat report.md; }

pkg fpward 1238001 "Fp.Ward:0:*:$(hex 'apply-delta --key PUB BASE DELTA')"
qa fpward.wpkg --no-system-critical
expect_rc "qa: signature matching ward itself refused (always in the critical tier)" 1
grep -q 'Fp.Ward' report.md && pass "qa: ward binary FP reported" || fail "qa: ward binary FP"

# ---- lint ----
pkg pcre 1238001 'Bad.Pcre;Engine:81-255,Target:0;0&1;4e6f7468696e67546f536565;0/(a+)+$/'
qa pcre.wpkg --no-system-critical
expect_rc "qa: PCRE (a+)+\$ refused" 1
check_status "qa: lint fails on the PCRE" lint fail
grep -q 'nested unbounded quantifier' report.md && pass "qa: lint reason" || fail "qa: lint reason"

pkg short 1238001 'Short.Anchor:0:*:4d5a??????????????50'
qa short.wpkg --no-system-critical
expect_rc "qa: two-byte anchor refused" 1
check_status "qa: lint fails on the anchor" lint fail

# ---- load ----
pkg broken 1238001 'Broken.Sig:0:*:4g4g4g4g4g4g'
qa broken.wpkg --no-system-critical
expect_rc "qa: signature that does not load refused" 1
check_status "qa: load fails" load fail

# ---- version ----
pkg same 1238000 'Good.Sig:0:*:4e6f7468696e67546f536565'
qa same.wpkg --no-system-critical
expect_rc "qa: version that does not increase refused" 1
check_status "qa: version fails" version fail

# ---- keys ----
qa good.wpkg --no-system-critical --key other.pub
expect_rc "qa: wrong key refused" 1
check_status "qa: package fails (wrong key)" package fail
grep -q 'another key' report.md && pass "qa: wrong key named" || fail "qa: wrong key reason"
manifest 1238001 linux/x86_64 > m-uns.txt
"$WARD" pattern build --manifest m-uns.txt --unsigned -o unsigned.wpkg src-good
qa unsigned.wpkg --no-system-critical
expect_rc "qa: unsigned package refused" 1
grep -q unsigned report.md && pass "qa: unsigned named" || fail "qa: unsigned reason"
head -c 200 good.wpkg > trunc.wpkg
qa trunc.wpkg --no-system-critical
expect_rc "qa: malformed package refused" 1

# ---- release matrix ----
# MinFL 210: inactive on the deployed engine-200 Windows clients the package
# claims to serve.
NEWER='Newer.Sig:0:*:4e6f7468696e67546f536565:210'
pkg level 1238001 "$NEWER"
qa level.wpkg --no-system-critical
expect_rc "qa: signature inactive on a served deployed configuration refused" 1
check_status "qa: matrix fails" matrix fail
grep -q 'Newer.Sig is inactive at engine 200' report.md && pass "qa: matrix names signature and configuration" || { fail "qa: matrix reason"; cat report.md; }
# The same signature in a package that excludes windows/x86: it says so.
pkg levelok 1238001 "$NEWER" linux/x86_64
qa levelok.wpkg --no-system-critical
expect_rc "qa: package excluding the deployed configuration accepted" 0
grep -q 'excluded by the package metadata' report.md && pass "qa: exclusion reported" || fail "qa: exclusion note"
# Excluding it by engine level works too.
sed 's/engine-min: 190/engine-min: 210/' m-level.txt > m-level2.txt
"$WARD" pattern build --manifest m-level2.txt --key k.sec -o level2.wpkg src-level
qa level2.wpkg --no-system-critical
expect_rc "qa: package excluding old engines by engine-min accepted" 0

# ---- performance ----
pkg slow 1238001 'Slow.Sig:0:*:4142434445464748{-2000}5a5a5a5a5a'
qa slow.wpkg --no-system-critical
expect_rc "qa: slow signature refused" 1
check_status "qa: performance fails" performance fail
grep -q 'responsible: main.ndb:2: Slow.Sig' report.md && pass "qa: bisection names the slow signature" || { fail "qa: slow signature not named"; cat report.md; }
qa slow.wpkg --no-system-critical --max-slowdown 100000 --min-slowdown-ms 3600000 --file-budget-ms 5
expect_rc "qa: per-file budget refused" 1
grep -q 'budget 5 ms' report.md && pass "qa: per-file budget reported" || fail "qa: per-file budget"

# ---- usage ----
run "$WARD" pattern qa good.wpkg
expect_rc "qa: missing options is a usage error" 2

echo "failures: $fails"
[ "$fails" = 0 ]

#!/bin/bash
# `ward update --pkg-key` with delta packages (docs/internals/update.md,
# "Delta packages"). The repository lists a delta N-1 -> N beside the full
# package N (`ward repo add --delta`, `ward repo add-delta`); a client whose
# installed pattern is the delta's base downloads the delta, applies it and
# checks the result against the full package's length and SHA-256 from the
# signed targets metadata. Any failure falls back to the full package:
# corrupted delta (hash mismatch), client two versions behind (no delta for
# its version), delta missing (404), delta signed by another key, delta that
# rebuilds another validly signed package (result-hash mismatch), damaged
# local base package. Every case must end with the right version active and
# its files byte-identical to the release's. Bytes fetched come from the HTTP
# server's own log (python3 on 127.0.0.1, free port, killed at exit).
# Env: WARD. Keys are generated here; PASS/FAIL per case.
source "$(dirname "${BASH_SOURCE[0]}")/update_common.sh"

"$WARD" pattern keygen -p pkg.pub -s pkg.sec > /dev/null 2>&1 || { echo "SKIP: no ward pattern"; exit 0; }
"$WARD" pattern keygen -p other.pub -s other.sec > /dev/null 2>&1
new_repo

# A static server that logs "PATH BYTES" for every body it sends: the
# client's traffic, measured outside the client.
cat > server.py <<'EOF'
import http.server, sys
root, log = sys.argv[2], sys.argv[3]
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def copyfile(self, source, outputfile):
        n = 0
        while True:
            b = source.read(65536)
            if not b:
                break
            outputfile.write(b)
            n += len(b)
        with open(log, "a") as f:
            f.write("%s %d\n" % (self.path, n))
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
mkdir -p repo/public
timeout 300 python3 server.py "$port" repo/public "$tmp/access.log" > /dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

# Package V: 400 signatures, of which a window moves with V, so consecutive
# versions share most lines (a delta is a few lines added and removed).
package() { # VERSION KEY OUT [SALT]
	mkdir -p "src$1${4:-}"
	awk -v v="$1" -v salt="${4:-}" 'BEGIN {
		for (i = v * 3; i < v * 3 + 400; i++) {
			s = sprintf("ward-delta-test-%s-%06d", salt, i); h = ""
			for (j = 1; j <= length(s); j++) h = h sprintf("%02x", index("0123456789abcdefghijklmnopqrstuvwxyz-", substr(s, j, 1)) + 47)
			printf "Delta.Sig%d:0:*:%s\n", i, h
		}
	}' > "src$1${4:-}/daily.ndb"
	printf 'Delta.Hash%s\n' "$1" > "src$1${4:-}/local.ign2"
	printf 'version: %s\ncreated: 1704067200\nengine-min: 1\nengine-max: *\nplatform: */*\n' "$1" > "man$1${4:-}.txt"
	"$WARD" pattern build --manifest "man$1${4:-}.txt" --key "$2" -o "$3" \
		"src$1${4:-}/daily.ndb" "src$1${4:-}/local.ign2" > /dev/null
}
sign_publish() {
	"$WARD" repo sign repo targets --key keys/targets.pem > /dev/null &&
		"$WARD" repo publish repo --snapshot-key keys/snap.pem --timestamp-key keys/ts.pem > /dev/null
}
release() { # VERSION [BASE]: full package, and a delta from BASE when given
	package "$1" pkg.sec "p$1.wpkg" || return 1
	if [ -n "${2:-}" ]; then
		"$WARD" pattern delta --key pkg.sec "p$2.wpkg" "p$1.wpkg" -o "d$2-$1.wpkg" > /dev/null &&
			"$WARD" repo add repo "p$1.wpkg" --name "pattern-$1.wpkg" --version "$1" \
				--delta "d$2-$1.wpkg" --pkg-key pkg.pub > /dev/null || return 1
	else
		"$WARD" repo add repo "p$1.wpkg" --name "pattern-$1.wpkg" --version "$1" > /dev/null || return 1
	fi
	sign_publish
}
target_file() { ls repo/public/targets/*."$1"; } # NAME -> the served file
update() { # STATE PATTERN [options...]
	local st=$1 pat=$2
	shift 2
	: > access.log
	"$WARD" update --state "$st" --pattern-dir "$pat" --mirror "http://127.0.0.1:$port" \
		--pkg-key pkg.pub --timeout 20 "$@" > out 2> err
	rc=$?
}
active() { "$WARD" update status --pattern-dir "$1" | sed -n 's/^current: //p'; }
fetched() { awk '$1 ~ /^\/targets\// { n += $2 } END { print n + 0 }' access.log; }
# The activated files are the release's, byte for byte, and the kept package
# is the full package itself.
same_as() { # PATTERN VERSION
	cmp -s "$1/current/daily.ndb" "src$2/daily.ndb" && cmp -s "$1/current/local.ign2" "src$2/local.ign2" &&
		cmp -s "$(ls "$1"/packages/"$(readlink "$1/current" | sed 's|^versions/||')".wpkg)" "p$2.wpkg"
}
expect() { # NAME PATTERN VERSION PATH(delta|full) [WORDS in stderr]
	local ok=1 size
	size=$(stat -c %s "p$3.wpkg")
	[ "$rc" = 0 ] && [ "$(active "$2")" = "$3" ] && same_as "$2" "$3" || ok=0
	if [ "$4" = delta ]; then
		grep -q "delta $(($3 - 1)) -> $3 applied" out && [ "$(fetched)" -lt "$size" ] || ok=0
	else
		! grep -q "applied" out && [ "$(fetched)" -ge "$size" ] || ok=0
	fi
	[ -z "${5:-}" ] || grep -q "$5" err || ok=0
	if [ "$ok" = 1 ]; then
		pass "$1 ($(fetched) of $size bytes fetched)"
		grep -h "delta" err out | head -2 | cut -c1-220 | sed 's/^/    /'
	else
		fail "$1: rc=$rc active=$(active "$2") fetched=$(fetched) size=$size"
		sed 's/^/    out: /' out | head -5
		sed 's/^/    err: /' err | head -8
		sed 's/^/    log: /' access.log | head -8
	fi
}

# 1 and 2 (with a delta 1 -> 2). Client A installs 1 whole (nothing installed
# yet: no base), then 2 through the delta.
release 1 && release 2 1 || { echo "FAIL: releases 1, 2"; exit 1; }
"$WARD" update init --state stA --root repo/public/root.json > /dev/null
"$WARD" update init --state stB --root repo/public/root.json > /dev/null
update stA patA --pin 1
expect "first install is a full download" patA 1 full
update stA patA
expect "delta used when the installed version is its base" patA 2 delta
[ "$(stat -c %s "$(target_file delta-1-2.wpkg)")" -lt "$(stat -c %s p2.wpkg)" ] &&
	pass "delta target is smaller than the full package" || fail "delta size"
grep -q '"delta":{"base":1,"full":"pattern-2.wpkg"}' repo/public/targets.json 2>/dev/null ||
	grep -q '"delta":{"base":1,"full":"pattern-2.wpkg"}' repo/staged/targets.json &&
	pass "targets metadata names the delta's base and full package" ||
	fail "targets metadata: $(head -c 600 repo/staged/targets.json)"
[ "$(ls patA/packages | wc -l)" -le 2 ] && pass "old packages cleaned up" || fail "packages: $(ls patA/packages)"

# Client B at version 2 (for the two-versions-behind case below).
update stB patB --pin 2
expect "client B installs 2 whole" patB 2 full

# 3: the delta on the server is corrupted (same size, one byte flipped): its
# SHA-256 no longer matches targets.json.
release 3 2 || fail "release 3"
f=$(target_file delta-2-3.wpkg)
python3 - "$f" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x55
open(p, "wb").write(b)
EOF
update stA patA
expect "corrupted delta (hash mismatch): full package fetched" patA 3 full "delta refused: .*SHA-256 differ"

# 4 with a delta 3 -> 4 only: client B (at 2) is two versions behind.
release 4 3 || fail "release 4"
update stB patB
expect "client two versions behind: no delta for its version, full package" patB 4 full "no delta from installed version 2"
update stA patA
expect "delta after a fallback (kept package is the full one)" patA 4 delta

# 5: the delta is missing on the server (404).
release 5 4 || fail "release 5"
rm -f "$(target_file delta-4-5.wpkg)"
update stA patA
expect "missing delta (404): full package fetched" patA 5 full "delta refused: .*no mirror"

# 6: a delta signed by the right key that rebuilds another package of
# version 6 (built from other content): it applies, but what it yields is
# not the full package targets.json lists.
package 6 pkg.sec p6.wpkg && package 6 pkg.sec p6x.wpkg x &&
	"$WARD" pattern delta --key pkg.sec p5.wpkg p6x.wpkg -o d5-6x.wpkg > /dev/null &&
	"$WARD" repo add repo p6.wpkg --name pattern-6.wpkg --version 6 > /dev/null || fail "build 6"
"$WARD" repo add-delta repo d5-6x.wpkg --full pattern-6.wpkg > out 2> err
[ $? = 2 ] && grep -q "does not rebuild" err && pass "repo refuses a delta that does not rebuild its full target" ||
	{ fail "repo add-delta mismatch"; cat out err; }
"$WARD" repo add-delta repo d5-6x.wpkg --full pattern-6.wpkg --unsafe > /dev/null && sign_publish ||
	fail "publish 6"
update stA patA
expect "delta yielding other content (result-hash mismatch): full package" patA 6 full "delta refused: .*differ from pattern-6.wpkg"

# 7: a delta signed by another pattern key (the repository does not check
# without --pkg-key; the client does).
package 7 pkg.sec p7.wpkg && package 7 other.sec p7o.wpkg o &&
	"$WARD" pattern delta --key other.sec p6.wpkg p7.wpkg -o d6-7o.wpkg > /dev/null &&
	"$WARD" repo add repo p7.wpkg --name pattern-7.wpkg --version 7 > /dev/null &&
	"$WARD" repo add-delta repo d6-7o.wpkg --full pattern-7.wpkg > /dev/null && sign_publish ||
	fail "publish 7"
"$WARD" repo add-delta repo d6-7o.wpkg --full pattern-7.wpkg --pkg-key pkg.pub > /dev/null 2>&1 &&
	fail "repo accepted a delta signed by another key with --pkg-key" ||
	pass "repo with --pkg-key refuses a delta signed by another key"
update stA patA
expect "delta signed by another key: full package" patA 7 full "delta refused: .*does not verify"

# 8: the client's kept base package was damaged: the delta's base hash
# check refuses it.
release 8 7 || fail "release 8"
base=$(ls patA/packages/"$(readlink patA/current | sed 's|^versions/||')".wpkg)
printf 'X' | dd of="$base" bs=1 seek=100 conv=notrunc 2> /dev/null
update stA patA
expect "damaged local base package: full package" patA 8 full "delta refused: .*does not apply"

# 9: back on the delta path; the scanner loads what was activated.
release 9 8 || fail "release 9"
update stA patA
expect "delta used again" patA 9 delta
"$WARD" db info patA/current > /dev/null 2>&1 && pass "activated pattern loads" || fail "pattern does not load"

# Re-adding a full target with other bytes drops its stale deltas.
package 10 pkg.sec p10.wpkg && package 10 pkg.sec p10b.wpkg b &&
	"$WARD" pattern delta --key pkg.sec p9.wpkg p10.wpkg -o d9-10.wpkg > /dev/null &&
	"$WARD" repo add repo p10.wpkg --name pattern-10.wpkg --version 10 --delta d9-10.wpkg > /dev/null &&
	"$WARD" repo add repo p10b.wpkg --name pattern-10.wpkg --version 10 > /dev/null || fail "stage 10"
grep -q 'delta-9-10' repo/staged/targets.json && fail "stale delta kept" ||
	pass "re-release with other bytes drops the stale delta"

echo "update delta: $fails failed"
[ "$fails" = 0 ]

#!/bin/bash
# `ward update` against a repository served over real HTTP (python3
# http.server on 127.0.0.1, free ports, bounded lifetime): one test per attack
# The Update Framework names (rollback, freeze, mix-and-match, endless data,
# arbitrary package: wrong key / too few signatures / tampered package, bad
# root rotation), and mirror failover (one mirror down, one tampered).
# After every refusal the active pattern must be unchanged and must load.
# Env: WARD. Keys are generated here; PASS/FAIL per case.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# A static server with two hostile modes: files named in $dir/.endless get an
# endless body (no Content-Length), like a mirror that never stops sending.
cat > server.py <<'EOF'
import http.server, os, sys
root = sys.argv[2]
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def do_GET(self):
        endless = os.path.join(root, ".endless")
        names = open(endless).read().split() if os.path.exists(endless) else []
        if self.path.lstrip("/") in names:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            chunk = b"{" * 65536
            try:
                for _ in range(16384):  # 1 GiB at most: bounded even if the client never stops
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        return super().do_GET()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
start_server() { # DIR -> prints the port; the server dies after 300 s in any case
	local port
	port=$(free_port)
	timeout 300 python3 server.py "$port" "$1" > /dev/null 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break
		sleep 0.1
	done
	echo "$port"
}

mkdir keys
for k in root targets1 targets2 snap ts attacker newroot; do
	"$WARD" repo keygen keys/$k.pem keys/$k.pub > /dev/null || { echo "FAIL: keygen"; exit 1; }
done
sig() { printf 'Test.Sig%s:0:*:%s\n' "$1" "$(printf 'ward-update-test-%s' "$1" | od -An -tx1 | tr -d ' \n')"; }
# targets: a 2-of-2 threshold (k-of-n in use from the start)
"$WARD" repo init repo --root-key keys/root.pub --targets-key keys/targets1.pub \
	--targets-key keys/targets2.pub --targets-threshold 2 --snapshot-key keys/snap.pub \
	--timestamp-key keys/ts.pub > /dev/null && "$WARD" repo sign repo root --key keys/root.pem > /dev/null ||
	{ echo "FAIL: repo init"; exit 1; }
release() { # VERSION [extra publish options...]
	local v=$1
	shift
	sig "$v" > "p$v.ndb"
	"$WARD" repo add repo "p$v.ndb" --name "main-$v.ndb" --version "$v" > /dev/null &&
		"$WARD" repo sign repo targets --key keys/targets1.pem > /dev/null &&
		"$WARD" repo sign repo targets --key keys/targets2.pem > /dev/null &&
		publish "$@"
}
publish() { "$WARD" repo publish repo --snapshot-key keys/snap.pem --timestamp-key keys/ts.pem "$@" > /dev/null; }
sync_mirror() { # DIR: make it an exact copy of the published repository
	rm -rf "$1" && mkdir -p "$1" && cp -a repo/public/. "$1"/
}

mkdir m1 m2
P1=$(start_server m1)
P2=$(start_server m2)
DOWN=$(free_port) # nothing listens here
M1=http://127.0.0.1:$P1
M2=http://127.0.0.1:$P2

update() { # extra options...; sets rc, out, err
	"$WARD" update --state st --pattern-dir pat --timeout 20 "$@" > out 2> err
	rc=$?
}
active() { "$WARD" update status --pattern-dir pat | sed -n 's/^current: //p'; }
loads() { "$WARD" db info pat/current > /dev/null 2>&1; }
expect_refused() { # NAME WORDS-IN-MESSAGE WANT-ACTIVE
	if [ "$rc" = 1 ] && grep -qi "$2" err && [ "$(active)" = "$3" ] && loads; then
		pass "$1"
		tail -1 err | cut -c1-200 | sed 's/^/    /'
	else
		fail "$1: rc=$rc active=$(active)"
		sed 's/^/    err: /' err | head -8
	fi
}
expect_ok() { # NAME WANT-ACTIVE
	if [ "$rc" = 0 ] && [ "$(active)" = "$2" ] && loads; then pass "$1"; else
		fail "$1: rc=$rc active=$(active) want $2"
		sed 's/^/    out: /' out | head -5
		sed 's/^/    err: /' err | head -8
	fi
}

# ---- baseline: version 1 through a mirror that is down and one that works ----
release 1 || { echo "FAIL: release 1"; exit 1; }
sync_mirror m1
"$WARD" update init --state st --root repo/public/root.json > /dev/null || { echo "FAIL: update init"; exit 1; }
update --mirror "http://127.0.0.1:$DOWN" --mirror "$M1"
expect_ok "mirrors: first mirror down, second serves version 1" 1
grep -q "mirror failed" err && pass "mirrors: the failed mirror is reported" || fail "mirrors: failure not reported"
cp -a m1 pub-v1 # the repository as it was: an attacker's replay material

release 2 && sync_mirror m1 && cp -a m1 pub-v2
update --mirror "$M1"
expect_ok "update to version 2" 2
update --mirror "$M1"
expect_ok "no change: up to date" 2
grep -q "up to date" out && pass "up to date message" || fail "up to date message"

# ---- rollback: replay the older repository (timestamp version 1) ----
rm -rf m1 && cp -a pub-v1 m1
update --mirror "$M1"
expect_refused "rollback: older timestamp refused" "rollback attack" 2

# ---- freeze: an expired timestamp ----
old=$(date -u -d '-3 days' +%Y-%m-%dT%H:%M:%SZ)
publish --now "$old" && sync_mirror m1
update --mirror "$M1"
expect_refused "freeze: expired timestamp refused" "freeze attack.*timestamp" 2
# expired snapshot behind a valid timestamp
publish --now "$old" --expires timestamp=604800 --expires snapshot=60 && sync_mirror m1
update --mirror "$M1"
expect_refused "freeze: expired snapshot refused" "freeze attack.*snapshot" 2

# ---- mix-and-match: current timestamp and snapshot, older targets ----
release 3 && sync_mirror m1
cur=$(ls m1 | sed -n 's/^\([0-9]*\)\.targets\.json$/\1/p' | sort -n | tail -1)
cp pub-v1/1.targets.json "m1/$cur.targets.json"
update --mirror "$M1"
expect_refused "mix-and-match: older targets.json under the current name refused" "mix-and-match" 2

# ---- endless data: a timestamp that never ends; a package longer than listed ----
sync_mirror m1
echo "timestamp.json" > m1/.endless
start=$(date +%s)
update --mirror "$M1"
expect_refused "endless data: endless timestamp.json refused" "endless data" 2
[ $(($(date +%s) - start)) -lt 30 ] && pass "endless data: stopped reading at the cap" ||
	fail "endless data: took $(($(date +%s) - start)) s"
sync_mirror m1
ls m1/targets | grep 'main-3' > m1/.endless.name
sed 's#^#targets/#' m1/.endless.name > m1/.endless
update --mirror "$M1"
expect_refused "endless data: package longer than its listed length refused" "endless data" 2

# ---- arbitrary package ----
sync_mirror m1
f=$(ls m1/targets/*main-3.ndb)
sig X | head -c "$(stat -c %s "$f")" > "$f.new" && mv "$f.new" "$f"
update --mirror "$M1"
expect_refused "arbitrary package: tampered package (same length) refused" "does not match its hashes" 2

# targets signed by one legitimate key and the attacker's (threshold 2)
sig 4 > p4.ndb
"$WARD" repo add repo p4.ndb --name main-4.ndb --version 4 > /dev/null
"$WARD" repo sign repo targets --key keys/targets1.pem > /dev/null
"$WARD" repo sign --unsafe repo targets --key keys/attacker.pem > /dev/null
publish --unsafe && sync_mirror m1
update --mirror "$M1"
expect_refused "arbitrary package: targets signed by a wrong key refused" "wrong key or too few signatures" 2
grep -q "threshold is 2" err && pass "arbitrary package: message gives the threshold" || fail "threshold not in message"
# one signature of two
"$WARD" repo add repo p4.ndb --name main-4.ndb --version 4 > /dev/null
"$WARD" repo sign repo targets --key keys/targets2.pem > /dev/null
publish --unsafe && sync_mirror m1
update --mirror "$M1"
expect_refused "arbitrary package: too few signatures refused" "1 valid signature" 2
# a whole repository made with the attacker's keys
"$WARD" repo init evil --root-key keys/attacker.pub --targets-key keys/attacker.pub \
	--snapshot-key keys/attacker.pub --timestamp-key keys/attacker.pub > /dev/null
"$WARD" repo sign evil root --key keys/attacker.pem > /dev/null
"$WARD" repo add evil p4.ndb --name main-4.ndb --version 4 > /dev/null
"$WARD" repo sign evil targets --key keys/attacker.pem > /dev/null
for i in 1 2 3 4 5 6 7 8 9; do
	"$WARD" repo publish evil --snapshot-key keys/attacker.pem --timestamp-key keys/attacker.pem > /dev/null
done
rm -rf m1 && mkdir m1 && cp -a evil/public/. m1/ && rm m1/1.root.json
update --mirror "$M1"
expect_refused "arbitrary package: repository signed with unknown keys refused" "timestamp.json.*valid signature" 2

# ---- mirrors: one tampered, one good ----
sig 4 > p4.ndb
"$WARD" repo add repo p4.ndb --name main-4.ndb --version 4 > /dev/null
"$WARD" repo sign repo targets --key keys/targets1.pem > /dev/null
"$WARD" repo sign repo targets --key keys/targets2.pem > /dev/null
publish && sync_mirror m2
update --mirror "$M1" --mirror "$M2"
expect_ok "mirrors: first mirror serves an attacker's repository, second the real one" 4
grep -q "refused" err && pass "mirrors: the tampered mirror is reported" || fail "mirrors: tampering not reported"
update --mirror "$M1"
expect_refused "mirrors: only the tampered mirror left: refused" "valid signature" 4

# ---- bad root rotation: 2.root.json signed by the new key only ----
sync_mirror m1
"$WARD" repo rotate repo --root-key keys/newroot.pub --targets-key keys/targets1.pub \
	--targets-key keys/targets2.pub --targets-threshold 2 --snapshot-key keys/snap.pub \
	--timestamp-key keys/ts.pub > /dev/null
"$WARD" repo sign repo root --key keys/newroot.pem > /dev/null
cp repo/staged/root.json m1/2.root.json
update --mirror "$M1"
expect_refused "bad root rotation: new root without the old keys' signatures refused" "bad root rotation.*trusted root" 4
publish 2> /dev/null && fail "publish accepted a rotation the old root did not sign" ||
	pass "publish refuses a rotation the old root did not sign"
# and a good rotation (both keys) is followed
"$WARD" repo sign repo root --key keys/root.pem > /dev/null
publish && sync_mirror m1
update --mirror "$M1"
expect_ok "good root rotation accepted" 4
grep -q "trusted root is now version 2" err && pass "client walked to root version 2" || fail "root version 2 not reported"

echo "update attacks: $fails failed"
[ "$fails" = 0 ]

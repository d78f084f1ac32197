#!/bin/bash
# Load test: N concurrent INSTREAM clients for T seconds against wardd and
# against Debian's clamd, with the same signatures, in the same run, on this
# machine only (unix sockets; loopback TCP with --tcp). Prints requests per
# second and p50/p90/p99 latency for each daemon and payload.
#
# usage: bench/load/run.sh [--clients N] [--seconds T] [--threads M] [--tcp] [--out FILE]
#   defaults: 8 clients, 10 s per run, MaxThreads 4 for both daemons.
# Needs: a built wardd (WARD_BUILD, default build/release or build/dev),
# clamd (clamav-daemon), cc. Bounded: loadgen caps clients (256) and time
# (600 s); every process started here is stopped by pid on exit.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CLIENTS=8 SECONDS_=10 THREADS=4 TCP=0 OUT=
while [ $# -gt 0 ]; do
	case $1 in
	--clients) CLIENTS=$2; shift 2 ;;
	--seconds) SECONDS_=$2; shift 2 ;;
	--threads) THREADS=$2; shift 2 ;;
	--tcp) TCP=1; shift ;;
	--out) OUT=$2; shift 2 ;;
	*) echo "usage: $0 [--clients N] [--seconds T] [--threads M] [--tcp] [--out FILE]" >&2; exit 2 ;;
	esac
done
if [ -z "${WARD_BUILD:-}" ]; then
	for d in release dev wardd; do [ -x "$SRC/build/$d/wardd" ] && { WARD_BUILD=$SRC/build/$d; break; }; done
fi
WARDD=${WARD_BUILD:?set WARD_BUILD to a build directory with wardd}/wardd
[ -x "$WARDD" ] || { echo "no wardd at $WARDD" >&2; exit 2; }
command -v clamd > /dev/null || { echo "clamd not found: install clamav-daemon (scripts/install-deps)" >&2; exit 2; }
SIGS=${WARD_SHARED:-$SRC/../shared}/sigs

T=$(mktemp -d /tmp/ward-load.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT

cc -O2 -pthread -o "$T/loadgen" "$SRC/bench/load/loadgen.c"

# The same signature set for both: EICAR by hash plus ClamAV's daily.ndb,
# rfxn.ndb and main.ldb from the shared folder (unpacked here, never copied
# into the repository).
mkdir -p "$T/db"
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
printf '%s' "$EICAR" > "$T/eicar.bin"
printf '%s:68:Eicar-Test-Signature\n' "$(md5sum < "$T/eicar.bin" | cut -d' ' -f1)" > "$T/db/test.hdb"
for f in daily.ndb rfxn.ndb main.ldb; do
	[ -r "$SIGS/$f.gz" ] && zcat "$SIGS/$f.gz" > "$T/db/$f"
done
# Payloads: a 64 KiB text file and a 1 MiB binary file, both clean.
python3 -c "
import random; r = random.Random(7)
open('$T/text64k.bin','w').write(''.join(r.choice('abcdefghij klmnop\n') for _ in range(65536)))
open('$T/bin1m.bin','wb').write(bytes(r.getrandbits(8) for _ in range(1 << 20)))"

wait_ping() {
	for _ in $(seq 600); do
		python3 - "$1" <<'PY' && return 0
import socket, sys
t = sys.argv[1]
try:
    s = socket.create_connection(("127.0.0.1", int(t[4:])), 1) if t.startswith("tcp:") else socket.socket(socket.AF_UNIX)
    if not t.startswith("tcp:"):
        s.settimeout(1); s.connect(t)
    s.sendall(b"zPING\0"); sys.exit(0 if s.recv(8) == b"PONG\0" else 1)
except OSError:
    sys.exit(1)
PY
		sleep 0.2
	done
	return 1
}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CP=$(port); WP=$(port)
for d in clamd wardd; do
	p=$CP; [ $d = wardd ] && p=$WP
	cat > "$T/$d.conf" <<EOC
LocalSocket $T/$d.sock
TCPSocket $p
TCPAddr 127.0.0.1
DatabaseDirectory $T/db
LogFile $T/$d.log
Foreground yes
MaxThreads $THREADS
MaxQueue $((THREADS * 4 + CLIENTS))
StreamMaxLength 100M
EOC
done
t0=$(date +%s.%N)
clamd -c "$T/clamd.conf" --foreground > "$T/clamd.out" 2>&1 & PIDS+=($!)
wait_ping "$T/clamd.sock" || { cat "$T/clamd.out"; exit 1; }
t1=$(date +%s.%N)
"$WARDD" -c "$T/wardd.conf" --foreground > "$T/wardd.out" 2>&1 & PIDS+=($!)
wait_ping "$T/wardd.sock" || { cat "$T/wardd.out"; exit 1; }
t2=$(date +%s.%N)
sigs=$(grep -o 'signatures=[0-9]*' "$T/wardd.log" | head -1)

{
echo "# wardd vs clamd: INSTREAM load"
echo
echo "$(date -u +%Y-%m-%d) on $(nproc) CPUs ($(uname -m)); $CLIENTS concurrent clients, $SECONDS_ s per run,"
echo "MaxThreads $THREADS for both daemons; transport: $([ $TCP = 1 ] && echo 'TCP 127.0.0.1' || echo 'unix socket');"
echo "signatures: EICAR (hdb) + daily.ndb + rfxn.ndb + main.ldb (wardd: $sigs)."
printf 'start-up to first PONG: clamd %.1f s, wardd %.1f s\n' "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
echo
echo "| payload | daemon | requests/s | p50 ms | p90 ms | p99 ms | max ms | failed |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for payload in eicar text64k bin1m; do
	exp="stream: OK"; [ $payload = eicar ] && exp="stream: Eicar-Test-Signature.UNOFFICIAL FOUND"
	for d in clamd wardd; do
		tgt="$T/$d.sock"
		if [ $TCP = 1 ]; then tgt=tcp:$CP; [ $d = wardd ] && tgt=tcp:$WP; fi
		line=$("$T/loadgen" "$tgt" "$CLIENTS" "$SECONDS_" "$T/$payload.bin" "$exp" || true)
		v() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$line" | head -1; }
		echo "| $payload | $d | $(v rps) | $(v p50_ms) | $(v p90_ms) | $(v p99_ms) | $(v max_ms) | $(v failed) |"
		grep -q "first unexpected" <<<"$line" && echo "<!-- $d $payload: $(grep 'first unexpected' <<<"$line") -->"
	done
done
} | tee "${OUT:-/dev/null}"

# Shared helpers for the wardd tests (tests/cli/test_wardd_*.sh source this).
# Every test runs in its own temporary directory with its own sockets and
# ports on 127.0.0.1, and stops every process it started (by pid) on exit.
set -euo pipefail

WARDD=${WARDD:-${WARD_BUILD:?WARD_BUILD must point at the build directory}/wardd}
WARD_SRC=${WARD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DAEMON_TESTS=$WARD_SRC/tests/daemon
# Debian's python3: python3-pyclamd installs into its dist-packages.
PY=/usr/bin/python3
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

fail() { echo "FAIL: $*" >&2; exit 1; }

# A missing tool is a failure with the package to install, never a skip.
need_cmd() { command -v "$1" >/dev/null 2>&1 || fail "'$1' not found: install the Debian package '$2' (scripts/install-deps)"; }
need_pymod() { "$PY" -c "import $1" 2>/dev/null || fail "python module '$1' not found: install the Debian package '$2' (scripts/install-deps)"; }
need_perlmod() { perl -M"$1" -e1 2>/dev/null || fail "perl module '$1' not found: install the Debian package '$2' (scripts/install-deps)"; }

[ -x "$WARDD" ] || fail "wardd binary not found at $WARDD (build the 'wardd' target)"
need_cmd "$PY" python3

T=$(mktemp -d /tmp/wardd-test.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP_T:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT

# A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# make_db DIR: EICAR by MD5 (hdb) and a body signature on "hello-ward-test".
make_db() {
	mkdir -p "$1"
	printf '%s' "$EICAR" > "$T/eicar.bin"
	printf '%s:%s:Eicar-Test-Signature\n' "$(md5sum < "$T/eicar.bin" | cut -d' ' -f1)" \
		"$(stat -c %s "$T/eicar.bin")" > "$1/test.hdb"
	printf 'Test.Sig:0:*:%s\n' "$(printf 'hello-ward-test' | od -An -tx1 | tr -d ' \n')" > "$1/test.ndb"
}

# wait_ping SOCKET-or-tcp:PORT SECONDS
wait_ping() {
	"$PY" - "$1" "$2" <<'PYEOF'
import socket, sys, time
target, limit = sys.argv[1], float(sys.argv[2])
end = time.time() + limit
while time.time() < end:
    try:
        if target.startswith("tcp:"):
            s = socket.create_connection(("127.0.0.1", int(target[4:])), timeout=2)
        else:
            s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(target)
        s.sendall(b"zPING\0")
        if s.recv(16) == b"PONG\0":
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PYEOF
}

# start_wardd CONF [env...]: runs in the foreground (in the background of
# the test); sets WARDD_PID.
start_wardd() {
	local conf=$1; shift
	env "$@" "$WARDD" -c "$conf" --foreground >> "$T/wardd.stderr" 2>&1 &
	WARDD_PID=$!
	PIDS+=("$WARDD_PID")
	local sock
	sock=$(awk '$1=="LocalSocket"{print $2}' "$conf")
	wait_ping "$sock" 30 || { cat "$T/wardd.stderr" >&2; fail "wardd did not answer PING"; }
}

# start_clamd CONF: Debian's clamd, started by hand (never as a service).
start_clamd() {
	need_cmd clamd clamav-daemon
	clamd -c "$1" --foreground >> "$T/clamd.stderr" 2>&1 &
	CLAMD_PID=$!
	PIDS+=("$CLAMD_PID")
	local sock
	sock=$(awk '$1=="LocalSocket"{print $2}' "$1")
	wait_ping "$sock" 60 || { cat "$T/clamd.stderr" >&2; fail "clamd did not answer PING"; }
}

# write_conf FILE NAME DBDIR [extra lines...]: a clamd.conf both daemons read.
write_conf() {
	local f=$1 name=$2 db=$3; shift 3
	{
		echo "LocalSocket $T/$name.sock"
		echo "DatabaseDirectory $db"
		echo "LogFile $T/$name.log"
		echo "Foreground yes"
		for l in "$@"; do echo "$l"; done
	} > "$f"
}

#!/bin/bash
# Per-connection limits and hostile clients (tests/daemon/hostile.py):
# StreamMaxLength checked on chunk headers before any data is read (a
# declared 4 GiB chunk allocates nothing), CommandReadTimeout, IdleTimeout,
# ReadTimeout, over-long command lines, descriptor floods, garbage, and
# backpressure with MaxThreads 2 / MaxQueue 3. The daemon's memory must stay
# small throughout.
source "$(dirname "$0")/../daemon/common.sh"
make_db "$T/db"
write_conf "$T/wardd.conf" wardd "$T/db" "StreamMaxLength 1K" "CommandReadTimeout 1" \
	"IdleTimeout 1" "ReadTimeout 2" "MaxThreads 2" "MaxQueue 3" "MaxConnectionQueueLength 512"
start_wardd "$T/wardd.conf"
"$PY" "$DAEMON_TESTS/hostile.py" "$T/wardd.sock" || fail "a limit did not hold"
rss=$(awk '/VmHWM/{print $2}' "/proc/$WARDD_PID/status")
echo "wardd peak RSS: ${rss} kB"
[ "$rss" -lt 200000 ] || fail "wardd peak RSS ${rss} kB"
kill -0 "$WARDD_PID" || fail "wardd died"
grep -q "event=worker_crash" "$T/wardd.log" && fail "a worker crashed"
echo "1 passed, 0 failed"

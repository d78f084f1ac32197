#!/bin/bash
# Operations: started like clamd without --foreground (daemonises, writes its
# PidFile), the shipped example configuration parses, key=value logs, SIGUSR2
# reloads, SIGHUP reopens the log, the Prometheus endpoint (127.0.0.1 only)
# counts scans, bytes, detections and latency, SHUTDOWN stops the daemon and
# removes its socket, and an unusable configuration is refused with a reason.
source "$(dirname "$0")/../daemon/common.sh"
W="$DAEMON_TESTS/wclient.py"
make_db "$T/db"
MP=$(free_port)
# The example configuration, with its paths moved into the test directory.
sed -e "s#/run/ward#$T#g; s#/var/log/ward#$T#; s#/var/lib/ward/patterns/current#$T/db#; s#/var/lib/ward/patterns/last-known-good#$T/db#; s#MetricsPort 9187#MetricsPort $MP#" \
	"$WARD_SRC/daemon/wardd.conf.example" > "$T/wardd.conf"
"$WARDD" -c "$T/wardd.conf" || fail "wardd did not start from the example configuration"
wait_ping "$T/wardd.sock" 20 || fail "the daemonised wardd does not answer"
pid=$(cat "$T/wardd.pid")
PIDS+=("$pid")
[ "$pid" != "$$" ] && kill -0 "$pid" || fail "PidFile does not name a live process"
echo "ok   daemonised, pid $pid"

S=$T/wardd.sock
"$PY" "$W" "$S" instream "$T/eicar.bin" | grep -q "FOUND" || fail "scan"
echo hello > "$T/clean.txt"
"$PY" "$W" "$S" cmd "SCAN $T/clean.txt" | grep -q ": OK" || fail "scan clean"
m=$("$PY" "$W" "$S" metrics "$MP")
grep -q '^wardd_scans_total{result="found"} 1$' <<<"$m" || fail "metrics: found"
grep -q '^wardd_scans_total{result="clean"} 1$' <<<"$m" || fail "metrics: clean"
grep -q '^wardd_detections_total 1$' <<<"$m" || fail "metrics: detections"
grep -q '^wardd_scan_duration_seconds_count 2$' <<<"$m" || fail "metrics: latency count"
grep -q '^wardd_scan_duration_seconds_bucket{le="+Inf"} 2$' <<<"$m" || fail "metrics: histogram"
grep -q '^wardd_scanned_bytes_total [1-9]' <<<"$m" || fail "metrics: bytes"
grep -q '^wardd_pattern_info{version="fp-' <<<"$m" || fail "metrics: pattern version"
echo "ok   metrics"
"$PY" - "$MP" <<'PYEOF' || fail "metrics: other paths must be 404"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("GET", "/")
sys.exit(0 if c.getresponse().status == 404 else 1)
PYEOF
"$PY" -c "import socket,sys; s=socket.socket(); s.settimeout(2); sys.exit(0 if s.connect_ex(('127.0.0.2', $MP)) != 0 else 1)" \
	|| fail "metrics answer on 127.0.0.2: must be bound to 127.0.0.1 only"
echo "ok   metrics: 404 elsewhere, 127.0.0.1 only"

# Every log line is key=value, starting with ts= level= event=.
bad=$(grep -v -E '^ts=[0-9T:.-]+Z level=(debug|info|warn|error) event=[a-z_]+ pid=[0-9]+( [a-z_]+=("([^"\\]|\\.)*"|[^ "]*))*$' "$T/wardd.log" || true)
[ -z "$bad" ] || { echo "$bad" >&2; fail "log lines not in key=value form"; }
echo "ok   $(wc -l < "$T/wardd.log") log lines, all key=value"

kill -USR2 "$pid"
for i in $(seq 100); do [ "$(grep -c event=pattern_activated "$T/wardd.log")" -ge 2 ] && break; sleep 0.1; done
grep -q "event=pattern_activated.*why=reload" "$T/wardd.log" || fail "SIGUSR2 did not reload"
echo "ok   SIGUSR2 reloads"
mv "$T/wardd.log" "$T/wardd.log.1"
kill -HUP "$pid"; sleep 0.3
"$PY" "$W" "$S" instream "$T/eicar.bin" > /dev/null
for i in $(seq 50); do [ -s "$T/wardd.log" ] && break; sleep 0.1; done
grep -q "event=detection" "$T/wardd.log" || fail "SIGHUP did not reopen the log"
echo "ok   SIGHUP reopens the log"

"$PY" "$W" "$S" cmd SHUTDOWN > /dev/null || true
for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "SHUTDOWN did not stop wardd"
[ -e "$S" ] && fail "socket left behind"
[ -e "$T/wardd.pid" ] && fail "pid file left behind"
echo "ok   SHUTDOWN"

# Refused configurations, each with a reason.
printf 'Example\nLocalSocket %s/x.sock\n' "$T" > "$T/bad1.conf"
printf 'LocalSocket relative.sock\n' > "$T/bad2.conf"
printf 'LocalSocket %s/x.sock\nMaxThreads 100000\n' "$T" > "$T/bad3.conf"
printf 'DatabaseDirectory %s/db\n' "$T" > "$T/bad4.conf"
printf 'LocalSocket %s/x.sock\nDatabaseDirectory %s/nonexistent\n' "$T" "$T" > "$T/bad5.conf"
for i in 1 2 3 4 5; do
	rc=0; timeout 10 "$WARDD" -c "$T/bad$i.conf" --foreground > "$T/bad.out" 2>&1 || rc=$?
	[ $rc = 1 ] || fail "bad$i.conf: exit $rc, expected 1 (refused)"
	grep -q ERROR "$T/bad.out" || fail "bad$i.conf refused without a reason"
	echo "ok   bad$i.conf: $(grep -m1 ERROR "$T/bad.out")"
done
printf 'LocalSocket %s/y.sock\nDatabaseDirectory %s/db\nScanOLE2 yes\n' "$T" "$T" > "$T/w.conf"
timeout 2 "$WARDD" -c "$T/w.conf" --foreground > "$T/w.out" 2>&1 || true
grep -q "WARNING: .*ScanOLE2 is not used by wardd" "$T/w.out" || fail "clamd-only options must be warned about and ignored"
echo "ok   clamd-only options ignored with a warning"
# A set with many bad lines still loads (only files refused whole stop it);
# the log names the first WARDD_MAX_LOGGED_DIAGS (20) of them, each with its
# file and line, and counts the rest.
mkdir -p "$T/dbbad"
cp "$T/db/"* "$T/dbbad/"
for i in $(seq 1 30); do echo "Bad.Sig.$i:0:*:zz$i"; done > "$T/dbbad/bad.ndb"
write_conf "$T/diag.conf" diag "$T/dbbad"
start_wardd "$T/diag.conf"
"$PY" "$W" "$T/diag.sock" instream "$T/eicar.bin" | grep -q "FOUND" || fail "a set with bad lines must still serve"
nd=$(grep -c "event=pattern_diag" "$T/diag.log")
[ "$nd" = 20 ] || fail "want 20 logged load diagnostics (the ceiling), got $nd"
grep -q "event=pattern_diag .*file=$T/dbbad/bad.ndb line=1 " "$T/diag.log" || fail "a diagnostic must name the file and line"
grep -q "event=pattern_loaded .*bad_lines=30 " "$T/diag.log" || fail "all 30 bad lines must be counted"
echo "ok   30 bad lines: set loads, 20 logged with file and line, 30 counted"
echo "1 passed, 0 failed"

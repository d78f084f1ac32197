#!/bin/bash
# RELOAD under load: clients doing INSTREAM in a loop (more clients than
# MaxThreads, so the queue is used too) while RELOAD is sent every 0.5 s and
# the pattern set changes version between reloads. The new set loads beside
# the old one and is swapped in when ready; scans in flight finish on the
# old one. Zero failed requests are allowed, and the swaps must really have
# happened (several activations while the clients ran): the clients run at
# least 15 s and until 2 reloads completed (at most 120 s: under ASan on a
# busy 2-core machine one load of this set takes several seconds).
# The set is large enough (part of ClamAV's main.ldb, rfxn.ndb and daily.ndb
# from the shared folder, unpacked at run time) that each load takes a
# noticeable time (about a second with the clients running on 2 cores).
source "$(dirname "$0")/../daemon/common.sh"
W="$DAEMON_TESTS/wclient.py"
SIGS=${WARD_SHARED:-$WARD_SRC/../shared}/sigs
[ -r "$SIGS/main.ldb.gz" ] || fail "signature sets not found in $SIGS (the shared folder)"

make_db "$T/db"
zcat "$SIGS/main.ldb.gz" > "$T/main.ldb" && head -n 4000 "$T/main.ldb" > "$T/db/main.ldb"
zcat "$SIGS/rfxn.ndb.gz" > "$T/db/rfxn.ndb"
zcat "$SIGS/daily.ndb.gz" > "$T/db/daily.ndb"
echo r0 > "$T/db/pattern-version"
MP=$(free_port)
write_conf "$T/wardd.conf" wardd "$T/db" "MaxThreads 4" "MaxQueue 16" "MetricsPort $MP"
start_wardd "$T/wardd.conf"

# Bump the version now and then so reloads activate distinct versions.
( for i in $(seq 1 250); do echo "r$i" > "$T/db/pattern-version.tmp" && mv "$T/db/pattern-version.tmp" "$T/db/pattern-version"; sleep 0.5; done ) &
PIDS+=($!)

"$PY" "$DAEMON_TESTS/reload_load.py" "$T/wardd.sock" 15 6 0.5 "$T/eicar.bin" "$MP" 2 120 || { tail -20 "$T/wardd.log" >&2; fail "requests failed during reloads"; }
m=$("$PY" "$W" "$T/wardd.sock" metrics "$MP")
ok=$(sed -n 's/^wardd_reloads_total{result="ok"} //p' <<<"$m")
gen=$(sed -n 's/^wardd_pattern_generation //p' <<<"$m")
loads=$(grep -c "event=pattern_loaded" "$T/wardd.log")
echo "reloads completed: $ok, active generation: $gen, loads logged: $loads"
grep "event=pattern_loaded" "$T/wardd.log" | sed -n '2p'
[ "${ok:-0}" -ge 2 ] || fail "fewer than 2 reloads completed during the run"
[ "$(grep -c 'event=worker_crash\|event=worker_hang' "$T/wardd.log")" = 0 ] || fail "workers died"
echo "1 passed, 0 failed"

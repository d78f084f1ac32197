#!/bin/bash
# Crash-loop protection: a pattern set whose signatures make the scanning
# worker crash (abort) or hang is activated with RELOAD; every such request
# gets an error reply while other requests keep being answered; after
# CrashRevertThreshold (3) failures the daemon reverts to
# LastKnownGoodDirectory, says why in its log and metrics, refuses to
# re-activate the same bad version, and takes a fixed version again.
# The crash and hang come from the test-only hook: signature names starting
# with Ward.Test.CrashWorker / Ward.Test.HangWorker, active only because this
# test sets WARDD_TEST_HOOKS=1 in the daemon's environment.
source "$(dirname "$0")/../daemon/common.sh"
W="$DAEMON_TESTS/wclient.py"

make_db "$T/good"
echo v1 > "$T/good/pattern-version"
mkdir -p "$T/patterns"
cp -r "$T/good" "$T/patterns/current"
cp -r "$T/good" "$T/patterns/last-known-good"
echo lkg-1 > "$T/patterns/last-known-good/pattern-version"
MP=$(free_port)
write_conf "$T/wardd.conf" wardd "$T/patterns/current" \
	"LastKnownGoodDirectory $T/patterns/last-known-good" \
	"CrashRevertThreshold 3" "CrashRevertWindow 600" \
	"MaxScanTime 1500" "WorkerHangGrace 1" "MaxThreads 2" "MetricsPort $MP"
start_wardd "$T/wardd.conf" WARDD_TEST_HOOKS=1
S=$T/wardd.sock

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
printf 'xx ward-crash-trigger xx' > "$T/crash.bin"
printf 'xx ward-hang-trigger xx' > "$T/hang.bin"
echo "just text" > "$T/clean.bin"

expect() { # expect LABEL PATTERN REPLY
	case "$3" in *$2*) echo "ok   $1: $3" ;; *) fail "$1: expected '$2', got '$3'" ;; esac
}
wait_log() { # wait_log PATTERN SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do grep -q "$1" "$T/wardd.log" && return 0; sleep 0.1; done
	fail "no '$1' in the log after $2 s"
}

expect "v1 eicar" "Eicar-Test-Signature.UNOFFICIAL FOUND" "$("$PY" "$W" "$S" instream "$T/eicar.bin")"
expect "v1 version" "/v1/" "$("$PY" "$W" "$S" cmd VERSION)"

# Activate the bad set (v2): the updater wrote it into DatabaseDirectory.
printf 'Ward.Test.CrashWorker.A:0:*:%s\nWard.Test.HangWorker.B:0:*:%s\n' \
	"$(hex ward-crash-trigger)" "$(hex ward-hang-trigger)" > "$T/patterns/current/bad.ndb"
echo v2-bad > "$T/patterns/current/pattern-version"
expect "reload" "RELOADING" "$("$PY" "$W" "$S" cmd RELOAD)"
wait_log "event=pattern_activated.*version=v2-bad" 20
expect "v2 version" "/v2-bad/" "$("$PY" "$W" "$S" cmd VERSION)"

# Failure 1: a hang (killed after MaxScanTime + WorkerHangGrace).
t0=$(date +%s%N)
expect "hang 1" "stream: Scan worker timed out ERROR" "$("$PY" "$W" "$S" instream "$T/hang.bin")"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $ms -lt 6000 ] || fail "the hung worker was killed only after $ms ms"
# Other requests keep working between failures.
expect "clean between" "stream: OK" "$("$PY" "$W" "$S" instream "$T/clean.bin")"
# Failures 2 and 3: crashes (abort in the worker); only that request fails.
expect "crash 2" "stream: Scan worker crashed ERROR" "$("$PY" "$W" "$S" instream "$T/crash.bin")"
expect "eicar between" "Eicar-Test-Signature.UNOFFICIAL FOUND" "$("$PY" "$W" "$S" instream "$T/eicar.bin")"
expect "crash 3" "stream: Scan worker crashed ERROR" "$("$PY" "$W" "$S" instream "$T/crash.bin")"

# The third failure reverts to the last-known-good set.
wait_log "event=pattern_revert.*bad_version=v2-bad to_version=lkg-1" 20
wait_log "event=pattern_activated.*version=lkg-1.*last_known_good=1" 20
grep "event=pattern_revert" "$T/wardd.log"
expect "reverted version" "/lkg-1/" "$("$PY" "$W" "$S" cmd VERSION)"
expect "trigger after revert" "stream: OK" "$("$PY" "$W" "$S" instream "$T/crash.bin")"
expect "eicar after revert" "Eicar-Test-Signature.UNOFFICIAL FOUND" "$("$PY" "$W" "$S" instream "$T/eicar.bin")"
m=$("$PY" "$W" "$S" metrics "$MP")
grep -q '^wardd_reverts_total 1$' <<<"$m" || fail "metrics: no revert counted"
grep -q 'wardd_pattern_reverted{bad_version="v2-bad"} 1' <<<"$m" || fail "metrics: revert state missing"
grep -q 'wardd_worker_failures_total{kind="crash"} 2' <<<"$m" || fail "metrics: crashes"
grep -q 'wardd_worker_failures_total{kind="hang"} 1' <<<"$m" || fail "metrics: hangs"
echo "ok   metrics record the revert"

# RELOAD with the same bad version still in DatabaseDirectory is refused.
expect "reload bad again" "RELOADING" "$("$PY" "$W" "$S" cmd RELOAD)"
wait_log "event=reload_refused.*version=v2-bad" 20
expect "still lkg" "/lkg-1/" "$("$PY" "$W" "$S" cmd VERSION)"

# The updater fixes the set: the new version is taken.
rm "$T/patterns/current/bad.ndb"
echo v3 > "$T/patterns/current/pattern-version"
expect "reload fixed" "RELOADING" "$("$PY" "$W" "$S" cmd RELOAD)"
wait_log "event=pattern_activated.*version=v3" 20
expect "v3 version" "/v3/" "$("$PY" "$W" "$S" cmd VERSION)"
expect "v3 eicar" "Eicar-Test-Signature.UNOFFICIAL FOUND" "$("$PY" "$W" "$S" instream "$T/eicar.bin")"
kill -0 "$WARDD_PID" || fail "wardd died"
echo "1 passed, 0 failed"

#!/bin/bash
# clamd's User option: wardd binds its socket as root, then runs as User, so
# neither the listener nor the scanning workers keep root while they handle
# clients' bytes; an unknown user stops the start with a clear error.
source "$(dirname "$0")/../daemon/common.sh"
W="$DAEMON_TESTS/wclient.py"
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the privilege drop needs root to start from (running as $(id -un))"
	echo "1 passed, 0 failed, 1 skipped"
	exit 0
fi
nobody_uid=$(id -u nobody) || fail "no user nobody on this machine"
# Pattern sets are loaded as User (as clamd loads its databases after the
# drop), so the set must be readable by nobody: mktemp made $T private.
chmod 755 "$T"
make_db "$T/db"
if ! runuser -u nobody -- test -r "$T/db/test.hdb" 2>/dev/null; then
	# Seen in a chroot whose root directory is mode 0700: no unprivileged
	# user can reach any file, so no set can be loaded after the drop.
	echo "SKIP: user nobody cannot read $T/db on this machine (is / or /tmp private?)"
	echo "1 passed, 0 failed, 1 skipped"
	exit 0
fi
write_conf "$T/w.conf" w "$T/db" "User nobody"
start_wardd "$T/w.conf"
uids=$(awk '$1=="Uid:"{print $2, $3, $4, $5}' "/proc/$WARDD_PID/status")
[ "$uids" = "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ] ||
	fail "wardd runs with uids '$uids', want all $nobody_uid"
echo "ok   listener runs as nobody (uids $uids)"
"$PY" "$W" "$T/w.sock" instream "$T/eicar.bin" | grep -q "FOUND" || fail "INSTREAM after the drop"
echo "ok   scans after the drop"
grep -q 'privileges_dropped.*user="nobody"' "$T/w.log" || fail "log: no privileges_dropped line"
echo "ok   the drop is logged"
# The processes that load sets and fork workers hold no root either.
for pid in $(pgrep -P "$WARDD_PID"); do
	u=$(awk '$1=="Uid:"{print $2, $3, $4, $5}' "/proc/$pid/status")
	[ "$u" = "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ] ||
		fail "child $pid ($(cat /proc/$pid/comm)) runs with uids '$u'"
done
echo "ok   zygote, pattern host and workers run as nobody"

write_conf "$T/bad.conf" bad "$T/db" "User no-such-user-ward"
if "$WARDD" -c "$T/bad.conf" --foreground > "$T/bad.out" 2>&1; then
	fail "wardd started with an unknown User"
fi
grep -q "can't run as user no-such-user-ward" "$T/bad.out" || { cat "$T/bad.out" >&2; fail "no clear error for an unknown user"; }
echo "ok   an unknown User stops the start"
echo "5 passed, 0 failed"

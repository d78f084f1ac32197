#!/bin/bash
# Real clamd clients, unchanged, against wardd and against Debian's clamd on
# the same signatures: Debian's clamdscan (pointed at each daemon by its own
# --config-file), python3-pyclamd and Perl's ClamAV::Client, over the unix
# socket and over TCP on 127.0.0.1. Their outputs must agree.
source "$(dirname "$0")/../daemon/common.sh"
need_cmd clamd clamav-daemon
need_cmd clamdscan clamdscan
need_pymod pyclamd python3-pyclamd
need_cmd perl perl
need_perlmod ClamAV::Client libclamav-client-perl

make_db "$T/db"
mkdir -p "$T/tree/dir/sub" "$T/tree/one"
cp "$T/eicar.bin" "$T/tree/eicar.txt"
cp "$T/eicar.bin" "$T/tree/dir/a.txt"
cp "$T/eicar.bin" "$T/tree/dir/sub/b.txt"
printf 'xx hello-ward-test yy' > "$T/tree/dir/c.txt"
echo clean > "$T/tree/dir/clean.txt"
cp "$T/eicar.bin" "$T/tree/one/only.txt"

CP=$(free_port); WP=$(free_port)
write_conf "$T/clamd.conf" clamd "$T/db" "TCPSocket $CP" "TCPAddr 127.0.0.1"
write_conf "$T/wardd.conf" wardd "$T/db" "TCPSocket $WP" "TCPAddr 127.0.0.1"
start_clamd "$T/clamd.conf"
start_wardd "$T/wardd.conf"

# clamdscan's own config files: one per daemon and transport.
printf 'LocalSocket %s\n' "$T/clamd.sock" > "$T/cs-clamd-unix.conf"
printf 'LocalSocket %s\n' "$T/wardd.sock" > "$T/cs-wardd-unix.conf"
printf 'TCPSocket %s\nTCPAddr 127.0.0.1\n' "$CP" > "$T/cs-clamd-tcp.conf"
printf 'TCPSocket %s\nTCPAddr 127.0.0.1\n' "$WP" > "$T/cs-wardd-tcp.conf"

# Drop what differs by nature: timings and dates in the summary, descriptor
# numbers; sort, since clamd answers multiscans in any order.
norm() { grep -v -E '^(Time|Start Date|End Date):' | sed -E 's/fd\[[0-9]+\]/fd[N]/g' | sort; }

# Run a command, print its output and then "exit=N" (never stops the test).
with_rc() { local e=0; "$@" 2>&1 || e=$?; echo "exit=$e"; }

rc=0
for tr in unix tcp; do
	modes=("" "--stream" "-m" "--stream -m" "--allmatch")
	[ $tr = unix ] && modes+=("--fdpass" "-m --fdpass")
	for mode in "${modes[@]}"; do
		for d in clamd wardd; do
			# shellcheck disable=SC2086
			with_rc clamdscan --config-file="$T/cs-$d-$tr.conf" $mode "$T/tree" | norm > "$T/out-$d"
			# shellcheck disable=SC2086
			with_rc clamdscan --config-file="$T/cs-$d-$tr.conf" $mode - < "$T/eicar.bin" | norm >> "$T/out-$d"
		done
		if [ "$mode" = --allmatch ]; then
			# Known library divergence (docs/internals/wardd.md): in
			# all-match mode clamd reports a body signature once per
			# layer (raw and normalised text), libward once per file.
			for d in clamd wardd; do uniq "$T/out-$d" > "$T/u" && mv "$T/u" "$T/out-$d"; done
		fi
		if ! diff -u "$T/out-clamd" "$T/out-wardd"; then
			echo "clamdscan $tr '$mode': outputs differ" >&2; rc=1
		else
			echo "clamdscan $tr '$mode': same ($(grep -c FOUND "$T/out-wardd") FOUND lines)"
		fi
	done
	for d in clamd wardd; do
		clamdscan --config-file="$T/cs-$d-$tr.conf" --ping 3 > "$T/ping-$d" 2>&1 || true
	done
	diff -u "$T/ping-clamd" "$T/ping-wardd" || { echo "clamdscan --ping differs ($tr)" >&2; rc=1; }
	clamdscan --config-file="$T/cs-wardd-$tr.conf" --version | grep -q '^Ward ' || { echo "clamdscan --version ($tr)" >&2; rc=1; }

	if [ $tr = unix ]; then ct="unix:$T/clamd.sock"; wt="unix:$T/wardd.sock"; else ct="tcp:$CP"; wt="tcp:$WP"; fi
	"$PY" "$DAEMON_TESTS/pyclamd_client.py" "$ct" "$T/tree" > "$T/py-clamd" 2>&1 || true
	"$PY" "$DAEMON_TESTS/pyclamd_client.py" "$wt" "$T/tree" > "$T/py-wardd" 2>&1 || true
	if diff -u "$T/py-clamd" "$T/py-wardd"; then echo "pyclamd $tr: same ($(wc -l < "$T/py-wardd") calls)"; else echo "pyclamd $tr differs" >&2; rc=1; fi
	perl "$DAEMON_TESTS/perl_client.pl" "$ct" "$T/tree" > "$T/pl-clamd" 2>&1 || true
	perl "$DAEMON_TESTS/perl_client.pl" "$wt" "$T/tree" > "$T/pl-wardd" 2>&1 || true
	if diff -u "$T/pl-clamd" "$T/pl-wardd"; then echo "ClamAV::Client $tr: same ($(wc -l < "$T/pl-wardd") calls)"; else echo "ClamAV::Client $tr differs" >&2; rc=1; fi
done
grep -q "FOUND" "$T/py-wardd" || grep -q "Eicar" "$T/py-wardd" || { echo "pyclamd saw no detection at all" >&2; rc=1; }
[ $rc = 0 ] || fail "a client sees wardd differently from clamd"
echo "1 passed, 0 failed"

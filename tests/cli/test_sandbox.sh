#!/bin/bash
# `ward scan` privilege separation and sandbox (docs/internals/sandbox.md):
# - a forbidden system call on the scanning path kills only the worker that
#   made it; that file is reported as an error, the others are scanned, the
#   summary counts the error, exit code 1 when something else was found;
# - --no-sandbox keeps the workers but drops the filter (the same call is
#   harmless then);
# - the parent's watchdog stops a worker that hangs past MaxScanTime;
# - hostile frames from a worker are refused, the worker replaced;
# - workers run with a seccomp filter and no_new_privs.
# The worker misbehaves through test-only hooks (WARD_TEST_* variables).
# Env: WARD.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > eicar.com
echo 'Test.Body:0:*:45494341522d5354414e44415244' > t.ndb
mkdir d
cp eicar.com d/eicar.com
echo 'clean one' > d/a.txt
echo 'clean two' > d/b.txt
gzip -c eicar.com > d/e.gz
echo 'innocent looking' > d/victim.txt

# run NAME ARGS... (with the environment the caller put before it)
run() {
	local n=$1; shift
	"$WARD" scan -d t.ndb "$@" > "$n.out" 2> "$n.err"
	echo $? > "$n.rc"
}
rc() { cat "$1.rc"; }
has() { grep -qxF -- "$2" "$1.out"; }

# Is the sandbox available here? ward says so once on stderr when not.
run probe d/a.txt
if grep -q 'seccomp is not available' probe.err; then
	echo "NOTE: seccomp unavailable on this system: the kill cases are skipped"
	sandbox=0
else
	sandbox=1
fi

KILLED='d/victim.txt: Scanning worker killed by signal 31 (Bad system call) ERROR'
check_kill_run() { # name
	local n=$1
	if has "$n" "$KILLED" && has "$n" 'd/eicar.com: Test.Body.UNOFFICIAL FOUND' &&
		has "$n" 'd/e.gz: Test.Body.UNOFFICIAL FOUND' && has "$n" 'd/a.txt: OK' &&
		has "$n" 'd/b.txt: OK' && [ "$(grep -c '^d/' "$n.out")" = 5 ]; then
		pass "$n: the killed file is an error, the 4 others are scanned"
	else
		fail "$n: lines"; sed 's/^/    /' "$n.out"
	fi
	[ "$(rc "$n")" = 1 ] && pass "$n: exit 1 (found)" || fail "$n: exit $(rc "$n")"
	grep -qx 'Total errors: 1' "$n.out" && grep -qx 'Scanned files: 4' "$n.out" &&
		grep -qx 'Infected files: 2' "$n.out" &&
		pass "$n: summary counts 1 error, 4 files" || fail "$n: summary"
	grep -q 'd/victim.txt: the sandbox stopped a forbidden system call' "$n.err" &&
		pass "$n: stderr says the sandbox stopped it" || fail "$n: stderr: $(cat "$n.err")"
}

if [ $sandbox = 1 ]; then
	# one worker: it dies on victim.txt and a replacement scans the rest
	WARD_TEST_FORBIDDEN_SYSCALL=victim.txt run kill1 --threads 1 d
	check_kill_run kill1
	WARD_TEST_FORBIDDEN_SYSCALL=victim.txt run kill3 --threads 3 d
	check_kill_run kill3

	# one worker, files queued behind the victim (named in this order on
	# the command line): the worker dies with one waiting in its socket,
	# which is opened again and scanned by the replacement
	WARD_TEST_FORBIDDEN_SYSCALL=victim.txt run killq --threads 1 --no-summary \
		d/a.txt d/victim.txt d/b.txt d/eicar.com d/e.gz
	if has killq "$KILLED" && has killq 'd/a.txt: OK' && has killq 'd/b.txt: OK' &&
		has killq 'd/eicar.com: Test.Body.UNOFFICIAL FOUND' &&
		has killq 'd/e.gz: Test.Body.UNOFFICIAL FOUND' &&
		[ "$(grep -c '^d/' killq.out)" = 5 ] && [ "$(rc killq)" = 1 ]; then
		pass "killq: the files queued behind the killed one are scanned"
	else
		fail "killq: lines"; sed 's/^/    /' killq.out
	fi

	# --json: the file's object says error, with the reason
	WARD_TEST_FORBIDDEN_SYSCALL=victim.txt run killj --json d
	if grep -qF '{"path":"d/victim.txt","inner_paths":[],"verdict":"error","signatures":[],"limits":[],"errors":["Scanning worker killed by signal 31 (Bad system call)"],"bytes":0,"ms":0}' killj.out &&
		[ "$(grep -c '"verdict":"infected"' killj.out)" = 2 ] && [ "$(rc killj)" = 1 ]; then
		pass "--json: killed file is an error object"
	else
		fail "--json kill"; sed 's/^/    /' killj.out
	fi

	# several victims in a row: every one reported, the scan goes on
	for i in 1 2 3 4; do echo "v$i" > "d/victim.txt.$i"; done
	mkdir many
	for i in $(seq 1 20); do echo "f$i" > "many/f$i"; done
	cp eicar.com many/victim.txt
	WARD_TEST_FORBIDDEN_SYSCALL=victim.txt run many --threads 2 many
	[ "$(grep -c ': OK$' many.out)" = 20 ] && grep -qx 'many/victim.txt: Scanning worker killed by signal 31 (Bad system call) ERROR' many.out &&
		pass "20 files scanned around a killed worker" || fail "many: $(head -3 many.out)"
	rm -f d/victim.txt.*
else
	echo "SKIP: sandbox kill cases"
fi

# --no-sandbox: same hook, the call is allowed, the file is scanned (this
# also shows that the kill above came from the filter, not from the hook)
WARD_TEST_FORBIDDEN_SYSCALL=victim.txt run nosb --no-sandbox d
if has nosb 'd/victim.txt: OK' && ! grep -q '^Total errors' nosb.out && [ "$(rc nosb)" = 1 ]; then
	pass "--no-sandbox: the hook's call is harmless, victim.txt OK"
else
	fail "--no-sandbox"; sed 's/^/    /' nosb.out
fi

# ---- the workers are confined ----
# A hanging worker is also the chance to look at one: seccomp mode 2
# (filter) and no_new_privs, unless --no-sandbox.
status_of_worker() { # ward-pid field
	local kid
	for kid in $(cat "/proc/$1/task/$1/children" 2> /dev/null); do
		awk -v f="$2:" '$1 == f {print $2}' "/proc/$kid/status"
		return
	done
}
if [ $sandbox = 1 ] && [ -r /proc/self/task/$$/children ]; then
	WARD_TEST_WORKER_HANG=a.txt "$WARD" scan -d t.ndb --threads 1 --max-scantime 3000 d/a.txt > /dev/null 2>&1 &
	pid=$!
	sleep 1
	seccomp=$(status_of_worker $pid Seccomp)
	nnp=$(status_of_worker $pid NoNewPrivs)
	kill $pid 2> /dev/null; wait $pid 2> /dev/null
	[ "$seccomp" = 2 ] && [ "$nnp" = 1 ] && pass "worker runs under a seccomp filter with no_new_privs" ||
		fail "worker Seccomp '$seccomp' NoNewPrivs '$nnp'"
	WARD_TEST_WORKER_HANG=a.txt "$WARD" scan -d t.ndb --threads 1 --no-sandbox --max-scantime 3000 d/a.txt > /dev/null 2>&1 &
	pid=$!
	sleep 1
	seccomp=$(status_of_worker $pid Seccomp)
	kill $pid 2> /dev/null; wait $pid 2> /dev/null
	[ "$seccomp" = 0 ] && pass "--no-sandbox: worker without a filter" || fail "--no-sandbox worker Seccomp '$seccomp'"
else
	echo "SKIP: worker status check (/proc children list unavailable)"
fi

# ---- watchdog: MaxScanTime + grace, then the worker is killed ----
start=$(date +%s)
WARD_TEST_WORKER_HANG=victim.txt timeout 60 "$WARD" scan -d t.ndb --threads 2 --max-scantime 300 d > hang.out 2> hang.err
echo $? > hang.rc
took=$(($(date +%s) - start))
if has hang 'd/victim.txt: OK' && has hang 'd/eicar.com: Test.Body.UNOFFICIAL FOUND' &&
	[ "$(grep -c '^d/' hang.out)" = 5 ] && [ "$(rc hang)" = 1 ] && [ $took -lt 30 ]; then
	pass "watchdog: hanging worker stopped after ${took}s, other files scanned"
else
	fail "watchdog (rc $(rc hang), ${took}s)"; sed 's/^/    /' hang.out
fi
grep -q 'd/victim.txt: the scanning worker did not answer within MaxScanTime' hang.err &&
	grep -q 'd/victim.txt: limit MaxScanTime hit' hang.err &&
	pass "watchdog: said on stderr as a MaxScanTime hit" || fail "watchdog stderr: $(cat hang.err)"
# one worker hanging with files queued behind it: they are scanned after
# the watchdog, none lost
start=$(date +%s)
WARD_TEST_WORKER_HANG=victim.txt timeout 60 "$WARD" scan -d t.ndb --threads 1 --no-summary \
	--max-scantime 300 d/victim.txt d/a.txt d/eicar.com > hangq.out 2> /dev/null
echo $? > hangq.rc
took=$(($(date +%s) - start))
if has hangq 'd/victim.txt: OK' && has hangq 'd/a.txt: OK' &&
	has hangq 'd/eicar.com: Test.Body.UNOFFICIAL FOUND' && [ "$(grep -c '^d/' hangq.out)" = 3 ] &&
	[ "$(rc hangq)" = 1 ] && [ $took -lt 30 ]; then
	pass "watchdog: files queued behind a hanging worker are scanned"
else
	fail "watchdog queue (rc $(rc hangq), ${took}s)"; sed 's/^/    /' hangq.out
fi
WARD_TEST_WORKER_HANG=victim.txt timeout 60 "$WARD" scan -d t.ndb --no-summary --max-scantime 300 \
	--alert-exceeds-max d/victim.txt > hanga.out 2> /dev/null
echo $? > hanga.rc
has hanga 'd/victim.txt: Heuristics.Limits.Exceeded.MaxScanTime FOUND' && [ "$(rc hanga)" = 1 ] &&
	pass "watchdog + --alert-exceeds-max: Heuristics.Limits.Exceeded.MaxScanTime FOUND" ||
	fail "watchdog alert: $(cat hanga.out)"

# ---- hostile worker messages ----
names=("length past the cap" "count larger than the bytes" "result for another job" "trailing bytes")
for kind in 0 1 2 3; do
	WARD_TEST_WORKER_BADMSG=victim.txt WARD_TEST_WORKER_BADMSG_KIND=$kind run bad$kind --threads 1 d
	if grep -qE '^d/victim.txt: Scanning worker sent a (malformed message|result for no file) and was stopped ERROR$' bad$kind.out &&
		[ "$(grep -c '^d/' bad$kind.out)" = 5 ] && has bad$kind 'd/a.txt: OK' &&
		grep -qx 'Total errors: 1' bad$kind.out && [ "$(rc bad$kind)" = 1 ]; then
		pass "hostile frame (${names[$kind]}): refused, worker replaced"
	else
		fail "hostile frame ${names[$kind]}"; sed 's/^/    /' bad$kind.out
	fi
done

# ---- real formats under the filter: nothing the scan needs is forbidden ----
# The C library loads some data on first use (time zone, iconv modules,
# OpenSSL's configuration); ward_sandbox_enter loads it before the filter.
# Hash signatures (OpenSSL), zip/gzip/7z/cpio/cab members (libarchive, iconv,
# mktime), PE hashing: with the database cache off, so no OpenSSL use in the
# parent before the fork can hide a lazy load in the workers.
if [ $sandbox = 1 ]; then
	mkdir real
	cp eicar.com real/
	gzip -c eicar.com > real/e.gz
	echo "$(md5sum eicar.com | cut -d' ' -f1):68:Test.Hash" > t.hdb
	if command -v python3 > /dev/null 2>&1; then
		python3 -c "import zipfile, tarfile
z = zipfile.ZipFile('real/e.zip', 'w', zipfile.ZIP_DEFLATED)
z.write('eicar.com', 'dir/inner.com'); z.close()
t = tarfile.open('real/e.tar.bz2', 'w:bz2'); t.add('eicar.com'); t.close()"
	fi
	tf=/usr/share/clamav-testfiles
	extra=()
	[ -d $tf ] && extra=($tf) && md5sum $tf/clam.exe | awk '{print $1":544:Clam.Exe"}' >> t.hdb
	WARD_CACHE_DIR= "$WARD" scan --no-summary --allmatch -d t.hdb -d t.ndb -r real "${extra[@]}" > real.out 2> real.err
	echo $? > real.rc
	if ! grep -q 'Scanning worker' real.out && ! grep -q 'sandbox stopped' real.err &&
		[ "$(grep -c '^real/.*FOUND$' real.out)" -ge 4 ] && [ "$(rc real)" = 1 ]; then
		pass "archives, hashes and clamav-testfiles scan under the sandbox (no worker killed)"
	else
		fail "real formats under the sandbox"; grep -E 'Scanning worker|^real/' real.out | sed 's/^/    /'
	fi
	WARD_CACHE_DIR= "$WARD" scan --no-summary --allmatch --no-sandbox -d t.hdb -d t.ndb -r real "${extra[@]}" > realn.out 2> /dev/null
	[ "$(sort real.out)" = "$(sort realn.out)" ] && pass "same lines with and without the sandbox" ||
		{ fail "sandbox changes results"; diff <(sort real.out) <(sort realn.out) | sed 's/^/    /'; }
fi

# ---- stdin goes through a worker too ----
out=$("$WARD" scan -d t.ndb --no-summary - < eicar.com)
[ "$out" = 'stdin: Test.Body.UNOFFICIAL FOUND' ] && pass "stdin through a sandboxed worker" || fail "stdin: $out"

# ---- the hooks are inert without their variables ----
run plain d
[ "$(grep -c '^d/' plain.out)" = 5 ] && has plain 'd/victim.txt: OK' && ! grep -q '^Total errors' plain.out &&
	pass "no hook variable: every file scanned normally" || fail "plain run"

echo
if [ $fails -gt 0 ]; then echo "test_sandbox: $fails FAILED"; exit 1; fi
echo "test_sandbox: all passed"

#!/bin/bash
# wardd against Debian's clamd on the same conversations, byte for byte
# (tests/daemon/clamd_compare.py lists every case and each normalisation),
# over the unix socket and over TCP on 127.0.0.1. Also the libFuzzer corpus
# of the parser is replayed by ctest as fuzz-replay/fuzz_clamd_proto.
source "$(dirname "$0")/../daemon/common.sh"
need_cmd clamd clamav-daemon

make_db "$T/db"
# The tree the scan commands walk.
mkdir -p "$T/tree/dir/sub" "$T/tree/cleandir/sub" "$T/tree/one"
cp "$T/eicar.bin" "$T/tree/eicar.txt"
cp "$T/eicar.bin" "$T/tree/dir/a.txt"
cp "$T/eicar.bin" "$T/tree/dir/sub/b.txt"
printf 'xx hello-ward-test yy' > "$T/tree/dir/c.txt"
echo clean > "$T/tree/dir/clean.txt"
echo clean > "$T/tree/cleandir/x.txt"
echo clean > "$T/tree/cleandir/sub/y.txt"
cp "$T/eicar.bin" "$T/tree/one/only.txt"
ln -s "$T/tree/eicar.txt" "$T/tree/dir/link.txt"
mkfifo "$T/tree/fifo"

CP=$(free_port); WP=$(free_port)
write_conf "$T/clamd.conf" clamd "$T/db" "TCPSocket $CP" "TCPAddr 127.0.0.1"
write_conf "$T/wardd.conf" wardd "$T/db" "TCPSocket $WP" "TCPAddr 127.0.0.1"
start_clamd "$T/clamd.conf"
start_wardd "$T/wardd.conf"

rc=0
echo "== unix socket"
"$PY" "$DAEMON_TESTS/clamd_compare.py" "$T/clamd.sock" "$T/wardd.sock" "$T/tree" || rc=1
echo "== tcp 127.0.0.1"
"$PY" "$DAEMON_TESTS/clamd_compare.py" "tcp:$CP" "tcp:$WP" "$T/tree" || rc=1
[ $rc = 0 ] || fail "wardd and clamd answer differently"
echo "1 passed, 0 failed"

#!/bin/bash
# The build machinery as a user meets it: scripts/install-deps is quick and
# idempotent when everything is installed, scripts/make-demo builds the demo
# folder (EICAR made at run time, in a zip and a tar.gz), and the bundled
# starter database db/starter/ loads in clamscan (the oracle) and detects the
# demo files there and in ward.
# Env (from ctest): WARD (ward binary), WARD_SRC (source tree).
set -uo pipefail

src=${WARD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
fails=0
passes=0
ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# install-deps --check: nothing missing (ctest runs after make deps), and fast.
start=$(date +%s%N)
if "$src/scripts/install-deps" --check >"$tmp/deps.out" 2>&1; then
	ms=$((($(date +%s%N) - start) / 1000000))
	if [ "$ms" -lt 5000 ]; then ok "install-deps --check: all present in $ms ms"; else bad "install-deps --check took $ms ms"; fi
else
	bad "install-deps --check: $(cat "$tmp/deps.out")"
fi
for p in clamav clamav-testfiles libvectorscan-dev libcmocka-dev libclang-rt-14-dev; do
	"$src/scripts/install-deps" --print | grep -qx "$p" && ok "package list has $p" || bad "package list lacks $p"
done

# make-demo into a temporary directory.
demo=$tmp/demo
if "$src/scripts/make-demo" "$demo" >"$tmp/demo.out" 2>&1; then ok "make-demo ran"; else bad "make-demo: $(cat "$tmp/demo.out")"; fi
sum=$(md5sum <"$demo/eicar.com" | cut -d' ' -f1)
[ "$sum" = 44d88612fea8a8f36de82e1278abb02f ] && ok "eicar.com is EICAR" || bad "eicar.com md5 $sum"
python3 -c 'import sys, zipfile; sys.exit(zipfile.ZipFile(sys.argv[1]).read("eicar.com") != open(sys.argv[2], "rb").read())' \
	"$demo/archives/eicar.zip" "$demo/eicar.com" && ok "eicar.zip holds EICAR" || bad "eicar.zip"
tar -xzOf "$demo/archives/eicar.tar.gz" eicar.com | cmp -s - "$demo/eicar.com" && ok "eicar.tar.gz holds EICAR" || bad "eicar.tar.gz"
[ -f "$demo/clean.txt" ] && ok "clean.txt" || bad "no clean.txt"
[ -f "$demo/clamav-testfiles/clam.exe" ] && ok "clamav test files copied" || bad "no clamav test files"

# The starter database in clamscan: loads without error, three signatures.
if command -v clamscan >/dev/null; then
	out=$(clamscan -d "$src/db/starter" "$demo/eicar.com" "$demo/clean.txt" "$demo/clamav-testfiles/clam.exe" 2>&1)
	rc=$?
	[ "$rc" -eq 1 ] && ok "clamscan -d db/starter: exit 1" || bad "clamscan -d db/starter: exit $rc: $out"
	grep -q '^Known viruses: 3$' <<<"$out" && ok "clamscan loads 3 starter signatures" || bad "clamscan signature count: $out"
	grep -q 'eicar.com: .* FOUND' <<<"$out" && ok "clamscan finds EICAR" || bad "clamscan misses EICAR"
	grep -q 'clam.exe: Clamav.Test.File-6.UNOFFICIAL FOUND' <<<"$out" && ok "clamscan finds clam.exe" || bad "clamscan misses clam.exe"
	grep -q 'clean.txt: OK' <<<"$out" && ok "clamscan: clean.txt OK" || bad "clamscan flags clean.txt"
else
	bad "clamscan not installed"
fi

# The same in ward, when it is built.
if [ -n "${WARD:-}" ] && [ -x "$WARD" ]; then
	out=$("$WARD" scan --no-summary -d "$src/db/starter" "$demo/eicar.com" "$demo/clean.txt" "$demo/clamav-testfiles/clam.exe" 2>&1)
	rc=$?
	[ "$rc" -eq 1 ] && ok "ward scan -d db/starter: exit 1" || bad "ward scan -d db/starter: exit $rc: $out"
	grep -q 'eicar.com: .* FOUND' <<<"$out" && ok "ward finds EICAR" || bad "ward misses EICAR: $out"
	grep -q 'clam.exe: Clamav.Test.File-6.UNOFFICIAL FOUND' <<<"$out" && ok "ward finds clam.exe" || bad "ward misses clam.exe: $out"
	grep -q 'clean.txt: OK' <<<"$out" && ok "ward: clean.txt OK" || bad "ward on clean.txt: $out"
else
	echo "skip: ward not built (WARD=${WARD:-unset})"
fi

echo "test_install_deps: $passes passed, $fails failed"
[ "$fails" -eq 0 ]

#!/bin/bash
# `ward scan` output shapes and exit codes, compared line for line with
# clamscan's on the same tiny inputs and database (when clamscan is installed;
# otherwise against the shapes clamscan 1.4.6 prints, written out here).
# Env: WARD (the ward binary). Prints PASS/FAIL per case; exits 1 on any FAIL.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# ---- inputs: EICAR built at run time, never stored ----
printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > eicar.com
md5=$(md5sum eicar.com | cut -d' ' -f1)
echo "$md5:68:Test.Hash" > t.hdb
echo 'Test.Body:0:*:45494341522d5354414e44415244' > t.ndb   # "EICAR-STANDARD"
echo 'just a clean file' > clean.txt
: > empty
mkdir -p d/sub
cp eicar.com d/sub/e2
cp clean.txt d/c
ln -s ../eicar.com d/link
ln -s sub d/dirlink
(head -c 3000 /dev/zero; cat eicar.com) > big
gzip -c eicar.com > e.gz
# One signature per file for single-detection cases (which of two matching
# signatures is reported first is the engine's business, not the CLI's);
# both for --allmatch and the summary.
DB1=(-d t.ndb)
DB2=(-d t.hdb -d t.ndb)
DB=("${DB1[@]}")

have_clam=0
command -v clamscan > /dev/null 2>&1 && have_clam=1
[ $have_clam = 1 ] || echo "NOTE: clamscan not installed: comparing with recorded clamscan 1.4.6 shapes only"

# run NAME PROGRAM ARGS... -> $NAME.out $NAME.err $NAME.rc
run() {
	local n=$1; shift
	"$@" > "$n.out" 2> "$n.err"
	echo $? > "$n.rc"
}
ward() { run w "$WARD" scan "$@"; }
clam() { run c clamscan "$@"; }
rc() { cat "$1.rc"; }

# same_lines NAME: stdout of ward equals clamscan's (sorted: thread order
# differs), and the exit codes match. Without clamscan, compare with $expect.
same() {
	local name=$1 expect=$2 erc=$3
	if [ $have_clam = 1 ]; then
		sort c.out > c.sorted
	else
		printf '%s' "$expect" | sort > c.sorted
		echo "$erc" > c.rc
	fi
	sort w.out > w.sorted
	if ! cmp -s w.sorted c.sorted; then
		fail "$name: output differs from clamscan"; diff c.sorted w.sorted | sed 's/^/    /'
	elif [ "$(rc w)" != "$(rc c)" ]; then
		fail "$name: exit code $(rc w), clamscan $(rc c)"
	elif [ "$(rc w)" != "$erc" ]; then
		fail "$name: exit code $(rc w), expected $erc"
	else
		pass "$name"
	fi
}

case_cmp() { # name expected-stdout expected-rc args...
	local name=$1 expect=$2 erc=$3; shift 3
	ward --no-summary "${DB[@]}" "$@"
	[ $have_clam = 1 ] && clam --no-summary "${DB[@]}" "$@"
	same "$name" "$expect" "$erc"
}

# ---- single files ----
case_cmp "infected file" $'eicar.com: Test.Body.UNOFFICIAL FOUND\n' 1 eicar.com
case_cmp "clean file" $'clean.txt: OK\n' 0 clean.txt
case_cmp "empty file" $'empty: Empty file\n' 0 empty
DB=("${DB2[@]}")
case_cmp "allmatch: one line per signature" \
	$'eicar.com: Test.Body.UNOFFICIAL FOUND\neicar.com: Test.Hash.UNOFFICIAL FOUND\n' 1 --allmatch eicar.com
case_cmp "-z is --allmatch" \
	$'eicar.com: Test.Body.UNOFFICIAL FOUND\neicar.com: Test.Hash.UNOFFICIAL FOUND\n' 1 -z eicar.com
DB=("${DB1[@]}")
case_cmp "infected only (-i)" $'eicar.com: Test.Body.UNOFFICIAL FOUND\n' 1 -i eicar.com clean.txt empty d
case_cmp "detection inside gzip on the archive's line" $'e.gz: Test.Body.UNOFFICIAL FOUND\n' 1 e.gz
if command -v python3 > /dev/null 2>&1; then
	python3 -c "import zipfile
z = zipfile.ZipFile('e.zip', 'w', zipfile.ZIP_DEFLATED)
z.write('eicar.com', 'dir/inner.com'); z.write('clean.txt'); z.close()"
	DB=("${DB2[@]}")
	case_cmp "allmatch inside a zip: every detection on the zip's line" \
		$'e.zip: Test.Body.UNOFFICIAL FOUND\ne.zip: Test.Hash.UNOFFICIAL FOUND\n' 1 --allmatch e.zip
	DB=("${DB1[@]}")
else
	echo "SKIP: zip case (no python3 to build the zip)"
fi

# ---- missing paths and errors ----
case_cmp "missing file: exit 2, nothing on stdout" '' 2 missing
want_err=$'missing: No such file or directory\nWARNING: missing: Can\'t access file'
if [ "$(cat w.err)" = "$want_err" ]; then pass "missing file: stderr as clamscan"; else
	fail "missing file: stderr"; sed 's/^/    /' w.err; fi
case_cmp "missing + infected: exit 1 (found wins)" $'eicar.com: Test.Body.UNOFFICIAL FOUND\n' 1 missing eicar.com

mkfifo fifo
case_cmp "fifo on the command line: error" '' 2 fifo
grep -qx "WARNING: fifo: Not supported file type" w.err && pass "fifo: warning on stderr" || fail "fifo: warning on stderr"

asuser=()
clam_ok=$have_clam
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
	asuser=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	if ! "${asuser[@]}" "$WARD" --version > /dev/null 2>&1; then
		# nobody cannot run ward here (e.g. a chroot whose / is 0700, as
		# ../shared/tools/fresh-debian makes): stay root but without
		# CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so permission bits apply.
		# clamscan checks access(2), which ignores that, so ward is held
		# to the lines clamscan prints as nobody (the expected text).
		asuser=(setpriv --bounding-set=-dac_override,-dac_read_search
			--inh-caps=-dac_override,-dac_read_search)
		clam_ok=0
	fi
fi
if [ "$(id -u)" != 0 ] || [ ${#asuser[@]} -gt 0 ]; then
	chmod 755 "$tmp"; chmod 644 eicar.com clean.txt t.hdb t.ndb
	cp clean.txt unread; chmod 000 unread
	mkdir noread; chmod 000 noread
	run w "${asuser[@]}" "$WARD" scan --no-summary "${DB[@]}" unread noread clean.txt
	[ $clam_ok = 1 ] && run c "${asuser[@]}" clamscan --no-summary "${DB[@]}" unread noread clean.txt
	saved=$have_clam; have_clam=$clam_ok
	same "unreadable file and directory" $'unread: Access denied\nnoread: Can\'t open directory.\nclean.txt: OK\n' 2
	have_clam=$saved
	chmod 700 noread; rmdir noread; rm -f unread
else
	echo "SKIP: unreadable file (root without setpriv)"
fi

# ---- directories ----
case_cmp "directory without -r: top level only, symlinks not followed" \
	$'d/dirlink: Symbolic link\nd/c: OK\nd/link: Symbolic link\n' 0 d
case_cmp "directory with -r" \
	$'d/dirlink: Symbolic link\nd/c: OK\nd/link: Symbolic link\nd/sub/e2: Test.Body.UNOFFICIAL FOUND\n' 1 -r d
case_cmp "trailing slashes dropped" \
	$'d/dirlink: Symbolic link\nd/c: OK\nd/link: Symbolic link\n' 0 d//
case_cmp "symlinks on the command line are followed" \
	$'d/link: Test.Body.UNOFFICIAL FOUND\nd/dirlink/e2: Test.Body.UNOFFICIAL FOUND\n' 1 d/link d/dirlink

mkdir -p deep/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15
cp eicar.com deep/1/2/3/4/5/6/7/8/9/10/11/12/13/14/e
cp eicar.com deep/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/e
case_cmp "directory depth: clamscan's default max-dir-recursion 15" \
	$'deep/1/2/3/4/5/6/7/8/9/10/11/12/13/14/e: Test.Body.UNOFFICIAL FOUND\n' 1 -r deep
rm -rf deep

# ---- standard input ----
run w "$WARD" scan --no-summary "${DB[@]}" - < eicar.com
[ "$(cat w.out)" = "stdin: Test.Body.UNOFFICIAL FOUND" ] && [ "$(rc w)" = 1 ] &&
	pass "stdin (-)" || fail "stdin (-): $(cat w.out) rc $(rc w)"

# ---- limits ----
case_cmp "max-filesize hit, no alert: OK" $'big: OK\n' 0 --max-filesize=1K big
grep -q 'MaxFileSize' w.err && pass "max-filesize hit is said on stderr" || fail "max-filesize hit is said on stderr"
case_cmp "alert-exceeds-max: MaxFileSize FOUND" \
	$'big: Heuristics.Limits.Exceeded.MaxFileSize FOUND\n' 1 --max-filesize 1K --alert-exceeds-max big
case_cmp "size suffix m" $'big: Test.Body.UNOFFICIAL FOUND\n' 1 --max-filesize=1m big

# ---- summary block ----
DB=("${DB2[@]}")
ward "${DB[@]}" eicar.com clean.txt missing
[ $have_clam = 1 ] && clam "${DB[@]}" eicar.com clean.txt missing
labels() { sed -n '/^----------- SCAN SUMMARY -----------$/,$p' "$1" | sed 's/:.*//'; }
if [ $have_clam = 1 ]; then
	if [ "$(labels w.out)" = "$(labels c.out)" ]; then pass "summary: same lines as clamscan"; else
		fail "summary: lines differ"; diff <(labels c.out) <(labels w.out) | sed 's/^/    /'; fi
fi
sumok=1
for re in '^$' '^----------- SCAN SUMMARY -----------$' '^Known viruses: 2$' '^Engine version: [0-9]+\.[0-9]+\.[0-9]+$' \
	'^Scanned directories: 0$' '^Scanned files: 2$' '^Infected files: 1$' \
	'^Data scanned: [0-9]+\.[0-9][0-9] MB$' '^Data read: [0-9]+\.[0-9][0-9] MB \(ratio [0-9]+\.[0-9][0-9]:1\)$' \
	'^Time: [0-9]+\.[0-9]{3} sec \([0-9]+ m [0-9]+ s\)$' \
	'^Start Date: [0-9]{4}:[0-9]{2}:[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' \
	'^End Date:   [0-9]{4}:[0-9]{2}:[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$'; do
	grep -qE "$re" w.out || { sumok=0; echo "    no line matching $re"; }
done
[ $sumok = 1 ] && pass "summary: line formats" || fail "summary: line formats"
# clamscan leaves missing command-line paths out of "Total errors" (exit 2 still)
grep -q '^Total errors' w.out && fail "summary: no Total errors line for a missing path" ||
	pass "summary: no Total errors line for a missing path"
grep -q "^Engine version: $("$WARD" --version | sed -n 's/^Ward \([0-9.]*\).*/\1/p')$" w.out &&
	pass "summary: engine version is Ward's" || fail "summary: engine version is Ward's"
[ "$(rc w)" = 1 ] && pass "summary run: exit 1" || fail "summary run: exit $(rc w)"

ward --quiet "${DB[@]}" eicar.com
[ ! -s w.out ] && [ "$(rc w)" = 1 ] && pass "--quiet: nothing on stdout, exit 1" || fail "--quiet"

# ---- threads: same set of lines ----
DB=("${DB1[@]}")
mkdir -p tree
for i in $(seq 1 120); do
	mkdir -p "tree/s$((i % 7))"
	if [ $((i % 10)) = 0 ]; then cp eicar.com "tree/s$((i % 7))/f$i"; else echo "file $i" > "tree/s$((i % 7))/f$i"; fi
done
run t1 "$WARD" scan --no-summary --threads 1 "${DB[@]}" -r tree
run t2 "$WARD" scan --no-summary --threads 2 "${DB[@]}" -r tree
run t8 "$WARD" scan --no-summary --threads=8 "${DB[@]}" -r tree
if [ "$(sort t1.out)" = "$(sort t2.out)" ] && [ "$(sort t1.out)" = "$(sort t8.out)" ] &&
	[ "$(wc -l < t1.out)" = 120 ] && [ "$(grep -c ' FOUND$' t1.out)" = 12 ] &&
	[ "$(rc t1)" = 1 ] && [ "$(rc t2)" = 1 ]; then
	pass "--threads 1, 2, 8: same lines (120 files, 12 found)"
else
	fail "--threads: outputs differ or wrong counts ($(wc -l < t1.out) lines, rc $(rc t1)/$(rc t2))"
fi
# every line whole: PATH: OK or PATH: NAME FOUND, nothing torn
if grep -vqE '^tree/s[0-6]/f[0-9]+: (OK|Test\.Body\.UNOFFICIAL FOUND)$' t8.out; then
	fail "--threads 8: torn or odd lines"; grep -vE '^tree/s[0-6]/f[0-9]+: (OK|Test\.Body\.UNOFFICIAL FOUND)$' t8.out | head -3
else
	pass "--threads 8: every line whole"
fi

# ---- hostile file name cannot forge a line ----
nl_name=$'evil\nclean.txt: OK'
cp eicar.com "$nl_name"
ward --no-summary "${DB[@]}" "$nl_name"
[ "$(wc -l < w.out)" = 1 ] && grep -q 'FOUND$' w.out && pass "newline in a file name stays on one line" ||
	fail "newline in a file name: $(cat w.out)"
rm -f "$nl_name"

echo
if [ $fails -gt 0 ]; then echo "test_scan: $fails FAILED"; exit 1; fi
echo "test_scan: all passed"

#!/bin/bash
# `ward scan --json`: one JSON object per file per line, valid even for
# hostile file names (control characters, quotes, invalid UTF-8).
# Env: WARD. Needs python3 or jq to validate; fails (not skips) without both.
if command -v python3 > /dev/null 2>&1; then
	validator=python3
elif command -v jq > /dev/null 2>&1; then
	validator=jq
else
	echo "FAIL: neither python3 nor jq is installed: cannot validate JSON"
	exit 1
fi
echo "NOTE: validating JSON with $validator"

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > eicar.com
echo "$(md5sum eicar.com | cut -d' ' -f1):68:Test.Hash" > t.hdb
echo 'Test.Body:0:*:45494341522d5354414e44415244' > t.ndb
mkdir d
echo clean > d/clean.txt
: > d/empty
cp eicar.com d/eicar.com
ln -s eicar.com d/link
# hostile names: newline, tab, quote, backslash, ESC, DEL, invalid UTF-8, valid UTF-8
cp eicar.com "d/$(printf 'nl\nname')"
cp eicar.com "d/$(printf 'q"b\\\\t\tesc\033del\177')"
cp eicar.com "d/$(printf 'bad\377\300\200utf8')"
echo clean > "d/$(printf 'caf\303\251-\360\237\230\200')"

"$WARD" scan --json --allmatch -d t.hdb -d t.ndb -r d missing > out.json 2> err.txt
rc=$?
[ $rc = 1 ] && pass "exit code 1 (found)" || fail "exit code $rc, want 1"

# validate: every line is one object with the documented fields and types
check_py='
import json, sys
n = 0
for raw in sys.stdin.buffer.read().split(b"\n"):
    if not raw:
        continue
    raw.decode("utf-8")  # the output itself must be valid UTF-8
    o = json.loads(raw)
    for k, t in (("path", str), ("inner_paths", list), ("verdict", str), ("signatures", list),
                 ("limits", list), ("errors", list), ("bytes", int), ("ms", int)):
        assert isinstance(o[k], t), (k, o)
    assert o["verdict"] in ("clean", "infected", "error", "skipped"), o
    if o["verdict"] == "infected":
        assert o["signatures"] and len(o["inner_paths"]) == len(o["signatures"]), o
    n += 1
print(n)
'
if [ $validator = python3 ]; then
	nlines=$(python3 -c "$check_py" < out.json)
	ok=$?
else
	nlines=0; ok=0
	while IFS= read -r line; do
		printf '%s' "$line" | jq -e 'has("path") and has("inner_paths") and has("verdict") and has("signatures") and has("limits") and has("errors") and has("bytes") and has("ms")' > /dev/null || ok=1
		nlines=$((nlines + 1))
	done < out.json
fi
[ $ok = 0 ] && pass "every line parses as a JSON object with the fields" || fail "JSON does not parse"
# d: clean.txt empty eicar.com link nl bad-utf8 quote/esc café + missing = 9
[ "$nlines" = 9 ] && pass "one line per file (9)" || fail "one line per file: got $nlines lines"
[ "$(wc -l < out.json)" = 9 ] && pass "newline in a name does not split a line" || fail "line count $(wc -l < out.json)"

if [ $validator = python3 ]; then
	q() { python3 -c "import json,sys
objs=[json.loads(l) for l in open('out.json','rb').read().split(b'\n') if l]
by={o['path']:o for o in objs}
$1" 2>&1; }
	r=$(q "o=by['d/eicar.com']; assert o['verdict']=='infected' and sorted(o['signatures'])==['Test.Body.UNOFFICIAL','Test.Hash.UNOFFICIAL'] and o['bytes']>=68, o")
	[ -z "$r" ] && pass "infected file: both signatures (allmatch)" || fail "infected file: $r"
	r=$(q "o=by['d/clean.txt']; assert o['verdict']=='clean' and o['signatures']==[], o")
	[ -z "$r" ] && pass "clean file" || fail "clean file: $r"
	r=$(q "o=by['missing']; assert o['verdict']=='error' and o['errors'], o")
	[ -z "$r" ] && pass "missing path: verdict error" || fail "missing path: $r"
	r=$(q "o=by['d/nl\nname']; assert o['verdict']=='infected', o")
	[ -z "$r" ] && pass "newline name round-trips" || fail "newline name: $r"
	r=$(q "o=by['d/q\"b\\\\\\\\t\tesc\x1bdel\x7f']; assert o['verdict']=='infected', o")
	[ -z "$r" ] && pass "quote, backslash, tab, ESC, DEL round-trip" || fail "control chars: $r"
	r=$(q "o=by['d/bad\u00ff\u00c0\u0080utf8']; assert o['verdict']=='infected', o")
	[ -z "$r" ] && pass "invalid UTF-8 bytes become \\u00XX" || fail "invalid UTF-8: $r"
	r=$(q "o=by['d/caf\u00e9-\U0001F600']; assert o['verdict']=='clean', o")
	[ -z "$r" ] && pass "valid UTF-8 passes through" || fail "valid UTF-8: $r"
	r=$(q "o=by['d/link']; assert o['verdict']!='infected', o")
	[ -z "$r" ] && pass "symlink in a directory is not followed" || fail "symlink: $r"
fi
grep -q '\\u00ff\\u00c0\\u0080' out.json && pass "invalid bytes escaped as \\u00ff\\u00c0\\u0080" || fail "escape form of invalid bytes"
grep -q '\\u001b' out.json && grep -q '\\u007f' out.json && grep -q '\\n' out.json &&
	pass "control characters escaped" || fail "control characters escaped"

# a detection inside a container names the member in inner_paths
if [ $validator = python3 ]; then
	python3 -c "import zipfile
z = zipfile.ZipFile('e.zip', 'w', zipfile.ZIP_DEFLATED)
z.write('eicar.com', 'dir/inner.com'); z.close()"
	"$WARD" scan --json -d t.ndb e.zip > zip.json 2> /dev/null
	r=$(python3 -c "import json
o = json.loads(open('zip.json').read())
assert o['verdict'] == 'infected' and o['signatures'] == ['Test.Body.UNOFFICIAL'], o
assert len(o['inner_paths']) == 1 and 'inner.com' in o['inner_paths'][0], o" 2>&1)
	[ -z "$r" ] && pass "zip member named in inner_paths" || fail "zip member: $r"
fi

# -i applies to --json: only infected objects (and errors)
"$WARD" scan --json -i -d t.ndb -r d > inf.json 2> /dev/null
if [ -s inf.json ] && ! grep -qv '"verdict":"infected"' inf.json; then pass "--json -i: only infected objects"; else
	fail "--json -i: other verdicts printed"; fi

# --json has no text summary and no text lines
grep -q 'SCAN SUMMARY' out.json && fail "no summary in --json" || pass "no summary in --json"

# same objects with 1 and 2 threads (ms aside)
strip_ms() { sed 's/"ms":[0-9]*//' | sort; }
"$WARD" scan --json --threads 1 -d t.ndb -r d > j1.json 2> /dev/null
"$WARD" scan --json --threads 2 -d t.ndb -r d > j2.json 2> /dev/null
[ "$(strip_ms < j1.json)" = "$(strip_ms < j2.json)" ] && [ -s j1.json ] &&
	pass "--json --threads 1 vs 2: same objects" || fail "--json --threads 1 vs 2 differ"

echo
if [ $fails -gt 0 ]; then echo "test_json: $fails FAILED"; exit 1; fi
echo "test_json: all passed"

#!/bin/bash
# Truncated and bit-flipped archives (zip, tar, tar.gz, tar.bz2, tar.xz, gz),
# about 370 files from a fixed seed. A corrupt target is not an error
# (ward.h): every file gets an OK or FOUND line, nothing crashes, the run
# ends in bounded time and memory, and the intact originals are all found.
. "$(dirname "$0")/common.sh"

echo "Eicar-Test:0:*:$EICAR_HEX" >"$T/e.ndb"
n=$($GEN mutants "$T/mut" --per 40 --seed "${HOSTILE_SEED:-1}")
echo "   $n mutated archives (seed ${HOSTILE_SEED:-1})"

# One process for all files: --max-scantime is per file; the files are a few
# KiB, so the whole run is bounded by the margin. RSS: baseline + small files.
NFILES=1 run_ward mutants 10000 64 -d "$T/e.ndb" --max-filesize 16M --max-scansize 64M "$T/mut"
expect_rc mutants 1
for ext in zip tar tar.gz tar.bz2 tar.xz gz; do
	expect_line "orig.$ext" "orig\\.$ext: Eicar-Test\\.UNOFFICIAL FOUND\$"
done
lines=$(grep -c ': ' <<<"$OUT")
total=$(find "$T/mut" -type f | wc -l)
[ "$lines" -eq "$total" ] && ok "one line per file ($total)" || fail "$lines lines for $total files"
expect_no_line mutants '(ERROR|Access denied|Empty file)$'
# Nothing but verdicts: a line is "PATH: OK" or "PATH: NAME FOUND".
if grep -Ev ': (OK|[^ ]+ FOUND)$' <<<"$OUT" | grep -q .; then
	fail "unexpected output lines:"
	grep -Ev ': (OK|[^ ]+ FOUND)$' <<<"$OUT" | head
else ok "only verdict lines"; fi

# Same set with a different seed and a tiny scan budget per file.
$GEN mutants "$T/mut2" --per 20 --seed $((${HOSTILE_SEED:-1} + 1)) >/dev/null
run_ward mutants-200ms 200 64 -d "$T/e.ndb" "$T/mut2"
expect_rc mutants-200ms 0 1

finish

#!/bin/bash
# Signature-side hostility: patterns that match (or nearly match) everywhere
# in a few MiB of junk built to feed them. Every scan must end within
# --max-scantime + margin with either the right verdict or
# Heuristics.Limits.Exceeded.MaxScanTime, under an RSS ceiling, without a
# crash. docs/internals/hostile.md.
. "$(dirname "$0")/common.sh"

for w in zeros spaces a ABCD 00ff random; do
	$GEN junk "$T/j_$w" --mib 4 --what "$w"
done

python3 - "$T" <<'EOF'
import sys
t = sys.argv[1]
def w(name, lines):
    open(f"{t}/{name}", "w").write("\n".join(lines) + "\n")
quad = ["41414141", "42424242", "43434343", "44444444"]
# 48 '*'-separated parts; the file is AAAABBBBCCCCDDDD repeated, so every
# part has a candidate at every 16th byte. Miss: a 49th part that never occurs.
w("many.ndb", ["Many.Hit:0:*:" + "*".join(quad * 12),
               "Many.Miss:0:*:" + "*".join(quad * 12) + "*45454545",
               "Many.Ranged:0:*:" + "{-20}".join(quad * 8) + "{-20}4545"])
# Two-byte anchors on zeros; near misses that need the whole file.
w("zero.ndb", ["Zero.Two:0:*:0000",
               "Zero.Miss:0:*:0000*0000*0000*0102",
               "Zero.Wild:0:*:00??00??00??00??00??00??00??0102",
               "Zero.Range:0:*:0000{0-255}0000{0-255}0000{0-255}0102"])
# 300 signatures whose only literals are 2020 (space space): a candidate at
# every byte of a file of spaces, each with a ranged gap to verify and a
# final alternation that never matches. (clamscan 1.4.6 needs ~34 s for this
# file: it is a budget test, not a speed test.)
w("sp.ndb", ["Sp.%d:0:*:2020{-%d}2020??(%02x|%02x)" % (i, 8 + i % 57, 0x21 + i % 90, 0x22 + i % 90)
             for i in range(300)])
# Alternations over the two bytes the file is made of.
w("alt.ndb", ["Alt.Miss:0:*:" + "(00|ff)" * 64 + "0102",
              "Alt.Nest:0:*:" + "((00|ff)|(ff|00))" * 32 + "0102",
              "Alt.Hit:0:*:00ffff00" + "(00|ff)" * 16])
# PCRE with catastrophic backtracking behind a trigger that is always true
# on a file of 'a's ending in 'b'; and a count that forces every candidate
# to be verified.
w("pcre.ldb", ["Pcre.Catastrophic;Engine:81-255,Target:0;0&1;61616161;0/(a+)+$/",
               "Pcre.Nested;Engine:81-255,Target:0;0&1;61616161;0/((a|aa)+)*c/",
               "Pcre.Global;Engine:81-255,Target:0;0&1>1000;61616161;0/a{1,3}?b?/g",
               "Count.All;Engine:81-255,Target:0;0>100000;6161"])
EOF

# RSS ceiling: ward baseline (~15 MiB) + the 4 MiB file mapped + its
# normalised copy for text (2 x + 16) + the verifier's bitsets, sized by the
# widest segment (a few KiB here): 64 MiB leaves room and still catches any
# per-candidate growth (4 M candidates x even 16 bytes would be 64 MiB).
CAP=64
ST=3000
VERDICT_OR_TIME='Heuristics\.Limits\.Exceeded\.MaxScanTime FOUND$'

NFILES=2 run_ward many $ST $CAP -z -d "$T/many.ndb" "$T/j_ABCD" "$T/j_random"
expect_rc many 1
expect_line many "j_ABCD: (Many\.Hit\.UNOFFICIAL FOUND|$VERDICT_OR_TIME)"
expect_no_line many 'Many\.Miss'
expect_line many 'j_random: OK$'

run_ward zero $ST $CAP -z -d "$T/zero.ndb" "$T/j_zeros"
expect_line zero "j_zeros: (Zero\.Two\.UNOFFICIAL FOUND|$VERDICT_OR_TIME)"
expect_no_line zero 'Zero\.(Miss|Wild|Range)'

run_ward spaces $ST $CAP -z -d "$T/sp.ndb" "$T/j_spaces"
expect_line spaces "j_spaces: (OK|$VERDICT_OR_TIME)"
expect_no_line spaces 'Sp\.[0-9]+'

run_ward alt $ST $CAP -z -d "$T/alt.ndb" "$T/j_00ff"
expect_line alt "j_00ff: (Alt\.Hit\.UNOFFICIAL FOUND|$VERDICT_OR_TIME)"
expect_no_line alt 'Alt\.(Miss|Nest)'

# A tiny budget over the worst of them: MaxScanTime, promptly.
run_ward spaces-200ms 200 $CAP -z -d "$T/sp.ndb" "$T/j_spaces"
expect_line spaces-200ms "j_spaces: (OK|$VERDICT_OR_TIME)"

# PCRE: the match limit (PCREMatchLimit) ends the backtracking; the
# subsignature just does not match (clamscan reports no alert for a PCRE
# limit either). Pcre.Global and Count.All are true on this file.
NFILES=2 run_ward pcre $ST $CAP -z -d "$T/pcre.ldb" "$T/j_a" "$T/j_random"
expect_line pcre "j_a: (Pcre\.Global\.UNOFFICIAL FOUND|$VERDICT_OR_TIME)"
expect_no_line pcre 'Pcre\.(Catastrophic|Nested)'
expect_line pcre 'j_random: OK$'

# All of them at once over every junk file, with a short budget per file.
NFILES=6 run_ward all 1500 $CAP -z -d "$T/many.ndb" -d "$T/zero.ndb" -d "$T/sp.ndb" -d "$T/alt.ndb" \
	-d "$T/pcre.ldb" "$T"/j_*
expect_rc all 1
[ "$(grep -c ': ' <<<"$OUT")" -ge 6 ] && ok "all: a line per file" || fail "all: missing lines"

finish

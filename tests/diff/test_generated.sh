#!/usr/bin/env bash
# Differential test on generated signatures: gen_sigs.py writes a few hundred
# signatures that use every syntax feature (.hdb .hsb .mdb .msb .ndb .ldb .fp
# .sfp .ign2) and a few thousand positive and near-miss samples (also inside
# zip and tar.gz). clamscan 1.4.6 scans the corpus once; ward scans it with
# --allmatch and in first-match mode; compare.py judges file by file.
# Needs: python3, clamscan (Debian clamav). Runtime: well under a minute.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_tools

key=$(cache_key generated-v1 "$DIFF_DIR/gen_sigs.py" "$DIFF_DIR/samplegen.py")
work=$DIFF_CACHE/generated-$key
if [ ! -f "$work/clam.out" ]; then
	rm -rf "$work" "$DIFF_CACHE"/generated-*
	mkdir -p "$work"
	python3 "$DIFF_DIR/gen_sigs.py" "$work"
	start=$(date +%s)
	run_clamscan "$work/clam.out" "$work/corpus" "$work/db"
	echo "clamscan: $(($(date +%s) - start)) s"
else
	echo "using cached corpus and clamscan verdicts in $work"
fi
echo "signature lines: $(cat "$work"/db/* | wc -l) ($(for f in "$work"/db/*; do printf '%s %s, ' "${f##*.}" "$(wc -l <"$f")"; done))"
echo "samples: $(find "$work/corpus" -type f | wc -l)"

start=$(date +%s)
run_ward "$work/ward.all" all "$work/corpus" "$work/db"
run_ward "$work/ward.first" first "$work/corpus" "$work/db"
echo "ward (two runs): $(($(date +%s) - start)) s"

compare generated "$work/corpus" "$work/clam.out" "$work/ward.all" "$work/ward.first" \
	--manifest "$work/manifest.tsv"

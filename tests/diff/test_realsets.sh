#!/usr/bin/env bash
# Differential test with the REAL signature sets ($WARD_SHARED/sigs: main.ldb,
# main.hdb, daily.ndb, daily.hdb, main.fp, daily.fp, rfxn.ndb, rfxn.hdb, all
# loaded together as one directory, as `clamscan -d DIR`) on a corpus of real
# files: a bounded deterministic sample of ELF programs and libraries, Windows
# PE DLLs from Debian packages, documentation, clamav-testfiles, and files
# generated to match a deterministic subset of the real signatures
# (gen_realsamples.py). clamscan scans the corpus once; ward scans it with
# --allmatch and in first-match mode; compare.py judges file by file.
#
# Debian packages this test needs (scripts/install-deps installs them):
#   clamav clamav-testfiles python3
#   libwine                              PE DLLs in /usr/lib/x86_64-linux-gnu/wine/{x86_64,i386}-windows
#   gcc-mingw-w64-x86-64-win32-runtime   PE32+ runtime DLLs (libstdc++, libgcc_s ...)
#   gcc-mingw-w64-i686-win32-runtime     PE32 runtime DLLs
# The corpus and clamscan's verdicts are cached in $WARD_BUILD/diff-cache.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_tools

SIGS=$WARD_SHARED/sigs
SETS="main.ldb main.hdb daily.ndb daily.hdb main.fp daily.fp rfxn.ndb rfxn.hdb"
for s in $SETS; do
	[ -f "$SIGS/$s.gz" ] || die "missing $SIGS/$s.gz (the shared signature sets)"
done
missing=""
[ -d /usr/lib/x86_64-linux-gnu/wine/x86_64-windows ] || missing+=" libwine"
ls /usr/lib/gcc/x86_64-w64-mingw32/*/libstdc++-6.dll >/dev/null 2>&1 || missing+=" gcc-mingw-w64-x86-64-win32-runtime"
ls /usr/lib/gcc/i686-w64-mingw32/*/libstdc++-6.dll >/dev/null 2>&1 || missing+=" gcc-mingw-w64-i686-win32-runtime"
[ -d /usr/share/clamav-testfiles ] || missing+=" clamav-testfiles"
[ -z "$missing" ] || die "Debian packages missing for the PE corpus:$missing (apt-get install$missing; scripts/install-deps should)"

picks=$(mktemp)
trap 'rm -f "$picks"' EXIT
python3 "$DIFF_DIR/pick_corpus.py" >"$picks"
# The key covers the sets, the generators and the picked files (path, size, mtime).
stamp=$(while IFS=$'\t' read -r src _; do stat -c '%n %s %Y' "$src"; done <"$picks" | sha256sum | cut -c1-16)
key=$(cache_key "realsets-v1 $stamp" "$DIFF_DIR/gen_realsamples.py" "$DIFF_DIR/gen_sigs.py" \
	"$DIFF_DIR/samplegen.py" "$DIFF_DIR/pick_corpus.py" $(for s in $SETS; do echo "$SIGS/$s.gz"; done))
work=$DIFF_CACHE/realsets-$key

if [ ! -f "$work/clam.out" ]; then
	rm -rf "$DIFF_CACHE"/realsets-*
	mkdir -p "$work/db" "$work/corpus"
	for s in $SETS; do gunzip -c "$SIGS/$s.gz" >"$work/db/$s"; done
	while IFS=$'\t' read -r src rel; do
		mkdir -p "$work/corpus/$(dirname "$rel")"
		cp "$src" "$work/corpus/$rel"
	done <"$picks"
	python3 "$DIFF_DIR/gen_realsamples.py" "$work/db" "$work/corpus/gensig" "$work/manifest.tsv" gensig
	start=$(date +%s)
	run_clamscan "$work/clam.out" "$work/corpus" "$work/db"
	echo "clamscan: $(($(date +%s) - start)) s"
else
	echo "using cached corpus and clamscan verdicts in $work"
fi
for s in $SETS; do printf '%s %s; ' "$s" "$(grep -vc '^#' "$work/db/$s" || true)"; done
echo
for d in "$work"/corpus/* "$work"/corpus/gensig/*; do
	[ "$d" = "$work/corpus/gensig" ] && continue
	printf '%s %s; ' "${d#"$work"/corpus/}" "$(find "$d" -type f | wc -l)"
done
echo

start=$(date +%s)
run_ward "$work/ward.all" all "$work/corpus" "$work/db"
run_ward "$work/ward.first" first "$work/corpus" "$work/db"
echo "ward (two runs): $(($(date +%s) - start)) s"

compare realsets "$work/corpus" "$work/clam.out" "$work/ward.all" "$work/ward.first" \
	--manifest "$work/manifest.tsv" --quiet-pass

#!/bin/bash
# PE and ELF files with absurd headers: section counts of 0/96/97/65535,
# optional-header sizes 0 and 0xffff, e_lfanew past the end or negative,
# entry points outside every section, sections whose offset+size wraps 32 or
# 64 bits, 65535 program/section headers, zero and huge entry sizes, bogus
# class bytes, truncated tables. Signatures use EP+n, EP-n, Sx+n, SL+n, SEx,
# .ldb EntryPoint/NumberOfSections and .mdb section hashes so that every
# offset path reads the parsed headers. The expected verdicts are clamscan
# 1.4.6's (checked with the same files and databases: identical with -z).
. "$(dirname "$0")/common.sh"

$GEN pe "$T/pe"
$GEN elf "$T/elf"
cat >"$T/x.ndb" <<'SIGS'
Mark.Any:0:*:5741524450452d4d41524b
Mark.EP:1:EP+0:90909090
Mark.EPm:1:EP-16:90909090
Mark.S0:1:S0+0:90909090
Mark.SL:1:SL+0:90909090
Mark.SE1:1:SE1:57415244
Mark.ELF.EP:6:EP+0:90909090
Mark.ELF.S1:6:S1+0:90909090
Mark.ELFAny:6:*:57415244454c46
SIGS
cat >"$T/x.ldb" <<'SIGS'
Ldb.PE;Engine:51-255,Target:1,EntryPoint:0-4294967295,NumberOfSections:0-200;0;5741
Ldb.ELF;Engine:51-255,Target:6,EntryPoint:0-18446744073709551615;0;5741
SIGS
printf '512:d41d8cd98f00b204e9800998ecf8427e:Sect.Bogus\n' >"$T/x.mdb"

# Files are a few KiB; RSS is the baseline.
NFILES=40 run_ward executables 2000 64 -z -d "$T/x.ndb" -d "$T/x.ldb" -d "$T/x.mdb" "$T/pe" "$T/elf"
expect_rc executables 1
got=$(sed "s#^$T/##" <<<"$OUT" | sort)
want=$(sort <<'EXPECT'
elf/class_bogus.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/entry_nowhere.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/many_phdrs.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/phentsize_0.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/phentsize_ffff.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/phnum_65535.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/phoff_huge.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/sane32be.elf: Ldb.ELF.UNOFFICIAL FOUND
elf/sane32be.elf: Mark.ELF.EP.UNOFFICIAL FOUND
elf/sane32be.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/sane64.elf: Ldb.ELF.UNOFFICIAL FOUND
elf/sane64.elf: Mark.ELF.EP.UNOFFICIAL FOUND
elf/sane64.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/sect_wrap.elf: Ldb.ELF.UNOFFICIAL FOUND
elf/sect_wrap.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/seg_filesz_wrap.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/seg_off_huge.elf: Ldb.ELF.UNOFFICIAL FOUND
elf/seg_off_huge.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/seg_vaddr_wrap.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/shentsize_1.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/shnum_65535.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/shnum_65535_past_eof.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/shoff_wrap.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/shstrndx_bogus.elf: Ldb.ELF.UNOFFICIAL FOUND
elf/shstrndx_bogus.elf: Mark.ELFAny.UNOFFICIAL FOUND
elf/truncated_hdr.elf: OK
pe/ep_ffffffff.exe: Mark.Any.UNOFFICIAL FOUND
pe/ep_in_bss.exe: Mark.Any.UNOFFICIAL FOUND
pe/ep_outside.exe: Mark.Any.UNOFFICIAL FOUND
pe/lfanew_at_end.exe: OK
pe/lfanew_negative.exe: Mark.Any.UNOFFICIAL FOUND
pe/lfanew_past_eof.exe: Mark.Any.UNOFFICIAL FOUND
pe/machine_bogus.exe: Ldb.PE.UNOFFICIAL FOUND
pe/machine_bogus.exe: Mark.Any.UNOFFICIAL FOUND
pe/machine_bogus.exe: Mark.EP.UNOFFICIAL FOUND
pe/machine_bogus.exe: Mark.EPm.UNOFFICIAL FOUND
pe/machine_bogus.exe: Mark.S0.UNOFFICIAL FOUND
pe/machine_bogus.exe: Mark.SL.UNOFFICIAL FOUND
pe/nsect_0.exe: Mark.Any.UNOFFICIAL FOUND
pe/nsect_65535_decl.exe: Mark.Any.UNOFFICIAL FOUND
pe/nsect_96.exe: Ldb.PE.UNOFFICIAL FOUND
pe/nsect_96.exe: Mark.Any.UNOFFICIAL FOUND
pe/nsect_97.exe: Ldb.PE.UNOFFICIAL FOUND
pe/nsect_97.exe: Mark.Any.UNOFFICIAL FOUND
pe/optsize_0.exe: Mark.Any.UNOFFICIAL FOUND
pe/optsize_ffff.exe: Mark.Any.UNOFFICIAL FOUND
pe/sane.exe: Ldb.PE.UNOFFICIAL FOUND
pe/sane.exe: Mark.Any.UNOFFICIAL FOUND
pe/sane.exe: Mark.EP.UNOFFICIAL FOUND
pe/sane.exe: Mark.EPm.UNOFFICIAL FOUND
pe/sane.exe: Mark.S0.UNOFFICIAL FOUND
pe/sane.exe: Mark.SL.UNOFFICIAL FOUND
pe/sect_overlap.exe: Ldb.PE.UNOFFICIAL FOUND
pe/sect_overlap.exe: Mark.Any.UNOFFICIAL FOUND
pe/sect_raw_huge.exe: Mark.Any.UNOFFICIAL FOUND
pe/sect_raw_wrap.exe: Mark.Any.UNOFFICIAL FOUND
pe/sect_va_wrap.exe: Mark.Any.UNOFFICIAL FOUND
pe/sect_vsize_0_ep.exe: Mark.Any.UNOFFICIAL FOUND
pe/sizeofimage_0.exe: Ldb.PE.UNOFFICIAL FOUND
pe/sizeofimage_0.exe: Mark.Any.UNOFFICIAL FOUND
pe/sizeofimage_0.exe: Mark.EP.UNOFFICIAL FOUND
pe/sizeofimage_0.exe: Mark.EPm.UNOFFICIAL FOUND
pe/sizeofimage_0.exe: Mark.S0.UNOFFICIAL FOUND
pe/sizeofimage_0.exe: Mark.SL.UNOFFICIAL FOUND
pe/truncated_table.exe: OK
EXPECT
)
if [ "$got" = "$want" ]; then ok "verdicts equal clamscan's"; else
	fail "verdicts differ (< ward, > clamscan 1.4.6):"
	diff <(echo "$want") <(echo "$got") | sed 's/^/   /' | head -40
fi
# Optional live check against the oracle when it is installed.
if command -v clamscan >/dev/null && [ "${HOSTILE_ORACLE:-0}" = 1 ]; then
	clam=$(clamscan --no-summary -z -d "$T/x.ndb" -d "$T/x.ldb" -d "$T/x.mdb" "$T/pe" "$T/elf" 2>/dev/null |
		sed "s#^$T/##" | sort)
	[ "$clam" = "$got" ] && ok "live clamscan agrees" || fail "live clamscan differs"
fi

finish

/*
 * ELF headers: the entry point as a file offset and the section table, as
 * ClamAV 1.4 computes them for .ndb/.ldb offsets (libclamav cli_elfheader).
 * Checked against clamscan 1.4.6 (tests/unit/test_elf.c):
 *   - "sections" (Sx+n, SEx, SL+n) are the SECTION HEADERS (sh_offset,
 *     sh_size), not the program headers;
 *   - e_entry maps through the FIRST program header of ANY type whose
 *     [p_vaddr, p_vaddr + p_memsz) covers it, in the file's word size with
 *     wrap-around, to e_entry - p_vaddr + p_offset;
 *   - e_entry == 0 or no program headers: EP is file offset 0;
 *   - more than 128 program headers, more than 256 sections, a wrong
 *     e_phentsize (when it is used) or e_shentsize (always), an unreadable
 *     header, or an unmappable entry point: no executable offsets at all.
 */
#include <string.h>

#include "formats.h"
#include "util/cursor.h"

/* ClamAV's own ceilings (cli_elf_ph32/64, cli_elf_sh32/64). */
#define ELF_CLAMAV_MAX_PHNUM 128u
#define ELF_CLAMAV_MAX_SHNUM 256u
_Static_assert(ELF_CLAMAV_MAX_PHNUM <= WARD_MAX_ELF_SECTIONS &&
		       ELF_CLAMAV_MAX_SHNUM <= WARD_MAX_ELF_SECTIONS,
	       "ELF header walks must stay within WARD_MAX_ELF_SECTIONS");

struct elfrd {
	cursor c;
	bool be; /* e_ident[EI_DATA] != 1: ClamAV treats anything but 1 as big-endian */
	bool is64;
};

static bool rd16(struct elfrd *r, uint16_t *v)
{
	return r->be ? cur_be16(&r->c, v) : cur_le16(&r->c, v);
}
static bool rd32(struct elfrd *r, uint32_t *v)
{
	return r->be ? cur_be32(&r->c, v) : cur_le32(&r->c, v);
}
static bool rd64(struct elfrd *r, uint64_t *v)
{
	return r->be ? cur_be64(&r->c, v) : cur_le64(&r->c, v);
}
/* An address-sized field: 4 bytes in ELFCLASS32, 8 in ELFCLASS64. */
static bool rdaddr(struct elfrd *r, uint64_t *v)
{
	if (r->is64)
		return rd64(r, v);
	uint32_t x;
	if (!rd32(r, &x))
		return false;
	*v = x;
	return true;
}

/* Entry point through the program headers; false when ClamAV gives up. */
static bool elf_entry(struct elfrd *r, uint64_t entry, uint64_t phoff, uint16_t phnum,
		      uint16_t phentsize, uint64_t *ep)
{
	uint64_t mask = r->is64 ? UINT64_MAX : UINT32_MAX;
	size_t entsz = r->is64 ? 56 : 32;
	bool found = false;

	*ep = 0;
	if (phnum > ELF_CLAMAV_MAX_PHNUM)
		return false;
	if (phnum == 0 || entry == 0)
		return true;
	if (phentsize != entsz)
		return false;
	/* ClamAV reads every program header before searching: a truncated
	 * table fails even when an earlier entry covers the entry point. */
	for (uint16_t i = 0; i < phnum; i++) {
		uint64_t off64 = phoff + (uint64_t)i * entsz;
		uint32_t type, w32;
		uint64_t off, vaddr, memsz, filesz;
		if (off64 < phoff || off64 > SIZE_MAX || !cur_seek(&r->c, (size_t)off64) ||
		    !cur_fits(&r->c, (size_t)off64, entsz))
			return false;
		if (r->is64) {
			if (!rd32(r, &type) || !rd32(r, &w32) || !rd64(r, &off) ||
			    !rd64(r, &vaddr) || !cur_skip(&r->c, 8) || !rd64(r, &filesz) ||
			    !rd64(r, &memsz))
				return false;
		} else {
			uint32_t o, va, fs, ms;
			if (!rd32(r, &type) || !rd32(r, &o) || !rd32(r, &va) ||
			    !cur_skip(&r->c, 4) || !rd32(r, &fs) || !rd32(r, &ms))
				return false;
			off = o;
			vaddr = va;
			memsz = ms;
		}
		/* p_vaddr + p_memsz wraps in the word size, as in ClamAV. */
		if (!found && vaddr <= entry && ((vaddr + memsz) & mask) > entry) {
			*ep = (entry - vaddr + off) & mask;
			found = true;
		}
	}
	return found;
}

ward_err elf_parse(const uint8_t *buf, size_t len, struct exeinfo *out)
{
	struct elfrd r = {cur_make(buf, len), false, false};
	const uint8_t *id;
	uint16_t phentsize, phnum, shentsize, shnum;
	uint64_t entry, phoff, shoff, ep;

	memset(out, 0, sizeof(*out));
	/* ClamAV first reads a whole 32-bit header (52 bytes), then the rest of
	 * a 64-bit one. */
	if (len < 52 || !(id = cur_take(&r.c, 16)) ||
	    memcmp(id,
		   "\x7f"
		   "ELF",
		   4) != 0)
		return WARD_ECORRUPT;
	if (id[4] != 1 && id[4] != 2)
		return WARD_ECORRUPT;
	r.is64 = id[4] == 2;
	r.be = id[5] != 1;
	if (r.is64 && len < 64)
		return WARD_ECORRUPT;
	/* e_type e_machine e_version, then e_entry e_phoff e_shoff e_flags
	 * e_ehsize e_phentsize e_phnum e_shentsize e_shnum */
	if (!cur_skip(&r.c, 8) || !rdaddr(&r, &entry) || !rdaddr(&r, &phoff) ||
	    !rdaddr(&r, &shoff) || !cur_skip(&r.c, 6) || !rd16(&r, &phentsize) ||
	    !rd16(&r, &phnum) || !rd16(&r, &shentsize) || !rd16(&r, &shnum))
		return WARD_ECORRUPT;

	if (!elf_entry(&r, entry, phoff, phnum, phentsize, &ep))
		return WARD_ECORRUPT;

	size_t shsz = r.is64 ? 64 : 40;
	if (shnum > ELF_CLAMAV_MAX_SHNUM || shentsize != shsz)
		return WARD_ECORRUPT;
	out->nsections = shnum;
	out->nstored = shnum < WARD_MAX_PE_SECTIONS ? shnum : WARD_MAX_PE_SECTIONS;
	for (uint16_t i = 0; i < shnum; i++) {
		uint64_t off64 = shoff + (uint64_t)i * shsz;
		uint64_t addr, offset, size;
		if (off64 < shoff || off64 > SIZE_MAX || !cur_seek(&r.c, (size_t)off64) ||
		    !cur_fits(&r.c, (size_t)off64, shsz))
			goto corrupt;
		/* sh_name sh_type sh_flags sh_addr sh_offset sh_size */
		if (!cur_skip(&r.c, 8) || !cur_skip(&r.c, r.is64 ? 8 : 4) || !rdaddr(&r, &addr) ||
		    !rdaddr(&r, &offset) || !rdaddr(&r, &size))
			goto corrupt;
		if (i < out->nstored) {
			struct exe_section *s = &out->sections[i];
			s->rva = addr;
			s->vsize = size;
			s->raw_offset = offset;
			/* ClamAV keeps sh_size as is; bytes past the end of the file
			 * can never match, so clipping changes nothing observable. */
			s->raw_size =
				offset < len ? (size < len - offset ? size : len - offset) : 0;
		}
	}
	out->kind = EXE_ELF;
	out->ep_valid = true;
	out->ep = ep;
	return WARD_OK;
corrupt:
	memset(out, 0, sizeof(*out));
	return WARD_ECORRUPT;
}

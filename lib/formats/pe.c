/*
 * PE (Portable Executable) headers: the entry point as a file offset, the
 * section table, and the .imp import-table hash, computed the way ClamAV 1.4
 * computes them (libclamav cli_peheader/cli_rawaddr/hash_imptbl), because
 * signature offsets (EP+n, Sx+n, SEx, SL+n), .mdb section hashes and .imp
 * hashes only mean what ClamAV means if these numbers are identical.
 *
 * Every rule below was checked against clamscan 1.4.6 with generated files
 * (tests/unit/test_pe.c) and is described in docs/internals/executables.md.
 * All reads go through the bounded cursor; no allocation is sized from a
 * declared count before the data it describes is known to be in the file.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "formats.h"
#include "util/cursor.h"

#define PE_DOS_MAGIC 0x5a4du     /* "MZ" */
#define PE_DOS_MAGIC_OLD 0x4d5au /* "ZM": ClamAV accepts both */
#define PE_NT_MAGIC 0x00004550u  /* "PE\0\0" */
#define PE32P_MAGIC 0x020bu
#define PE_FILE_HDR_SIZE 24u /* signature + COFF file header */
#define PE_OPT32_SIZE 96u    /* optional header without data directories */
#define PE_OPT64_SIZE 112u
#define PE_SECT_HDR_SIZE 40u
#define PE_NDIRS 16u
#define PE_IMPDESC_SIZE 20u
/* ClamAV reads import names through a 256-byte window (PE_MAXNAMESIZE). */
#define PE_NAME_WINDOW 256u
#define PE_ORD_FLAG32 0x80000000u
#define PE_ORD_FLAG64 0x8000000000000000ull

/* What the header walk keeps: enough to recompute any section on demand, so
 * files with more sections than exeinfo stores still map their EP exactly. */
struct pehdr {
	uint32_t vep;      /* AddressOfEntryPoint */
	uint32_t hdr_size; /* SizeOfHeaders rounded up to SectionAlignment */
	uint32_t salign, falign;
	uint16_t nsections; /* as declared, 1..65535 */
	size_t sect_off;    /* file offset of the section table */
	bool pe32plus;
	uint32_t imp_rva, imp_size; /* data directory 1 (imports) */
};

/* ClamAV's PEALIGN/PESALIGN, in the same 32-bit arithmetic (wrap included):
 * offsets round down, sizes round up, alignment 0 means none. */
static uint32_t align_down(uint32_t v, uint32_t a) { return a ? v / a * a : v; }
static uint32_t align_up(uint32_t v, uint32_t a)
{
	return a ? (uint32_t)((v / a + (v % a != 0)) * a) : v;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

/* Unaligned-but-untouched header fields of section i, plus the ClamAV view. */
struct psect {
	uint32_t rva, vsz, raw, rsz;     /* aligned, clipped (what offsets use) */
	uint32_t urva, uvsz, uraw, ursz; /* as written, ursz clipped like ClamAV */
};

/* Section i as cli_peheader leaves it in its default (non-strict) mode:
 * aligned to SectionAlignment/FileAlignment, a section starting at or past
 * the end of the file loses its raw size (its index is kept: Sx numbering
 * counts it), a section running past the end is clipped. */
static void pe_section(const struct pehdr *h, const cursor *c, uint32_t i, struct psect *s)
{
	const uint8_t *p = cur_at(c, h->sect_off + (size_t)i * PE_SECT_HDR_SIZE, PE_SECT_HDR_SIZE);
	size_t fsize = c->len;

	memset(s, 0, sizeof(*s));
	if (NEVER(p == NULL)) /* pe_headers checked the whole table is present */
		return;
	s->uvsz = rd32(p + 8);
	s->urva = rd32(p + 12);
	s->ursz = rd32(p + 16);
	s->uraw = rd32(p + 20);
	s->rva = align_down(s->urva, h->salign);
	s->vsz = align_up(s->uvsz, h->salign);
	s->raw = align_down(s->uraw, h->falign);
	s->rsz = align_up(s->ursz, h->falign);
	if (s->rsz) {
		if (s->raw >= fsize || s->uraw >= fsize) {
			s->rsz = 0;
			s->ursz = 0;
		} else {
			if (s->rsz > fsize - s->raw)
				s->rsz = (uint32_t)(fsize - s->raw);
			if (s->ursz > fsize - s->uraw)
				s->ursz = (uint32_t)(fsize - s->uraw);
		}
	}
	if (!s->vsz && s->rsz)
		s->vsz = align_up(s->ursz, h->salign);
}

/* cli_rawaddr: an RVA below the (aligned) header size maps to itself if it is
 * inside the file; otherwise the LAST section (searching backwards) whose
 * aligned raw size covers it wins; virtual size plays no part. */
static bool pe_rawaddr(const struct pehdr *h, const cursor *c, const struct psect *all,
		       uint32_t rva, uint32_t *off)
{
	if (rva < h->hdr_size) {
		if (rva >= c->len)
			return false;
		*off = rva;
		return true;
	}
	for (uint32_t i = h->nsections; i-- > 0;) {
		struct psect tmp;
		const struct psect *s = &tmp;
		if (all)
			s = &all[i];
		else
			pe_section(h, c, i, &tmp);
		if (s->rsz && s->rva <= rva && s->rsz > rva - s->rva) {
			*off = rva - s->rva + s->raw;
			return true;
		}
	}
	return false;
}

/* The checks of cli_peheader (default options) that decide whether ClamAV
 * has executable metadata at all; any failure means no EP/Sx offsets, no
 * .mdb and no .imp for the file. */
static ward_err pe_headers(const cursor *cin, struct pehdr *h)
{
	cursor c = *cin;
	uint16_t mz, nsect, optsz, magic;
	uint32_t lfanew, sig, ndirs;

	memset(h, 0, sizeof(*h));
	if (!cur_le16(&c, &mz) || (mz != PE_DOS_MAGIC && mz != PE_DOS_MAGIC_OLD))
		return WARD_ECORRUPT;
	if (!cur_seek(&c, 0x3c) || !cur_le32(&c, &lfanew) || lfanew == 0)
		return WARD_ECORRUPT;
	if (!cur_seek(&c, lfanew) || !cur_le32(&c, &sig) || sig != PE_NT_MAGIC)
		return WARD_ECORRUPT;
	/* Machine(2) NumberOfSections(2) TimeDateStamp(4) PointerToSymbolTable(4)
	 * NumberOfSymbols(4) SizeOfOptionalHeader(2) Characteristics(2) */
	if (!cur_skip(&c, 2) || !cur_le16(&c, &nsect) || !cur_skip(&c, 12) ||
	    !cur_le16(&c, &optsz) || !cur_skip(&c, 2))
		return WARD_ECORRUPT;
	/* ClamAV 1.4 rejects only 0 sections; 96 (the XP loader limit) is not
	 * enforced, so up to 65535 are honoured for the EP and Sx. */
	if (nsect == 0)
		return WARD_ECORRUPT;
	if (optsz < PE_OPT32_SIZE)
		return WARD_ECORRUPT;

	size_t opt = c.pos;
	const uint8_t *o = cur_take(&c, PE_OPT32_SIZE);
	if (!o)
		return WARD_ECORRUPT;
	magic = (uint16_t)(o[0] | (o[1] << 8));
	size_t stored = PE_OPT32_SIZE;
	if (magic == PE32P_MAGIC) {
		if (optsz < PE_OPT64_SIZE || !cur_take(&c, PE_OPT64_SIZE - PE_OPT32_SIZE))
			return WARD_ECORRUPT;
		h->pe32plus = true;
		stored = PE_OPT64_SIZE;
	}
	o = c.base + opt;
	h->vep = rd32(o + 16);
	h->salign = rd32(o + 32);
	h->falign = rd32(o + 36);
	h->hdr_size = rd32(o + 60);
	ndirs = rd32(o + (h->pe32plus ? 108 : 92));
	if (ndirs > PE_NDIRS)
		ndirs = PE_NDIRS;
	/* The data directories must fit in SizeOfOptionalHeader and in the file. */
	if (optsz < stored + (size_t)ndirs * 8)
		return WARD_ECORRUPT;
	const uint8_t *dirs = cur_take(&c, (size_t)ndirs * 8);
	if (!dirs)
		return WARD_ECORRUPT;
	if (ndirs > 1) {
		h->imp_rva = rd32(dirs + 8);
		h->imp_size = rd32(dirs + 12);
	}
	/* The section table follows the optional header as declared. */
	h->sect_off = opt + optsz;
	h->hdr_size = align_up(h->hdr_size, h->salign);
	h->nsections = nsect;
	if (!cur_fits(&c, h->sect_off, (size_t)nsect * PE_SECT_HDR_SIZE))
		return WARD_ECORRUPT;

	/* "File alignment fallback": a section with raw data whose pointer is a
	 * multiple of 512 but not of FileAlignment makes ClamAV align to 512. */
	for (uint32_t i = 0; h->falign != 0x200 && i < nsect; i++) {
		const uint8_t *p = c.base + h->sect_off + (size_t)i * PE_SECT_HDR_SIZE;
		uint32_t rsz = rd32(p + 16), raw = rd32(p + 20);
		if (h->falign && rsz && raw % h->falign && !(raw % 0x200))
			h->falign = 0x200;
	}
	/* Values with the sign bit set make the whole PE "broken" for ClamAV. */
	for (uint32_t i = 0; i < nsect; i++) {
		struct psect s;
		pe_section(h, &c, i, &s);
		if (s.urva >> 31 || s.uvsz >> 31 || (s.rsz && s.uraw >> 31) || s.ursz >> 31)
			return WARD_ECORRUPT;
	}
	return WARD_OK;
}

ward_err pe_parse(const uint8_t *buf, size_t len, struct exeinfo *out)
{
	cursor c = cur_make(buf, len);
	struct pehdr h;
	uint32_t ep;

	memset(out, 0, sizeof(*out));
	/* ClamAV keeps sizes and offsets in 32 bits; files past 4 GiB would not
	 * compare the same way, and are far beyond MaxFileSize anyway. */
	if (len > UINT32_MAX)
		return WARD_EUNSUPPORTED;
	ward_err err = pe_headers(&c, &h);
	if (err != WARD_OK)
		return err;
	/* An entry point ClamAV cannot map makes the headers "broken": no
	 * executable offsets at all, not just no EP. */
	if (!pe_rawaddr(&h, &c, NULL, h.vep, &ep))
		return WARD_ECORRUPT;

	out->kind = EXE_PE;
	out->ep_valid = true;
	out->ep = ep;
	out->nsections = h.nsections;
	out->nstored = h.nsections < WARD_MAX_PE_SECTIONS ? h.nsections : WARD_MAX_PE_SECTIONS;
	for (uint32_t i = 0; i < out->nstored; i++) {
		struct psect s;
		pe_section(&h, &c, i, &s);
		out->sections[i].rva = s.rva;
		out->sections[i].vsize = s.vsz;
		out->sections[i].raw_offset = s.raw;
		out->sections[i].raw_size = s.rsz;
	}
	return WARD_OK;
}

/* ---- .imp ---- */

/* ClamAV validates imported function names (not DLL names): only letters,
 * digits, '_' and '.'; anything else abandons the whole hash. */
static bool imp_name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

static char lower_ascii(char ch) { return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch; }

static bool prefix_icase(const char *s, const char *lit)
{
	for (; *lit; s++, lit++)
		if (lower_ascii(*s) != *lit)
			return false;
	return true;
}

/* Names ClamAV gives to imports by ordinal from ws2_32.dll/wsock32.dll (one
 * table) and oleaut32.dll; every other ordinal is "ord<n>". Recorded from
 * clamscan 1.4.6's import-table report on generated PE files importing
 * ordinals 1..1200 of each DLL (lowercase: the hash lowercases anyway). */
struct ordname {
	uint16_t ord;
	const char *name;
};
/* clang-format off */
static const struct ordname ord_ws2_32[] = {
	{1, "accept"}, {2, "bind"}, {3, "closesocket"}, {4, "connect"}, {5, "getpeername"},
	{6, "getsockname"}, {7, "getsockopt"}, {8, "htonl"}, {9, "htons"}, {10, "ioctlsocket"},
	{11, "inet_addr"}, {12, "inet_ntoa"}, {13, "listen"}, {14, "ntohl"}, {15, "ntohs"},
	{16, "recv"}, {17, "recvfrom"}, {18, "select"}, {19, "send"}, {20, "sendto"},
	{21, "setsockopt"}, {22, "shutdown"}, {23, "socket"}, {24, "getaddrinfow"},
	{25, "getnameinfow"}, {26, "wsapsetpostroutine"}, {27, "freeaddrinfow"},
	{28, "wpucompleteoverlappedrequest"}, {29, "wsaaccept"}, {30, "wsaaddresstostringa"},
	{31, "wsaaddresstostringw"}, {32, "wsacloseevent"}, {33, "wsaconnect"},
	{34, "wsacreateevent"}, {35, "wsaduplicatesocketa"}, {36, "wsaduplicatesocketw"},
	{37, "wsaenumnamespaceprovidersa"}, {38, "wsaenumnamespaceprovidersw"},
	{39, "wsaenumnetworkevents"}, {40, "wsaenumprotocolsa"}, {41, "wsaenumprotocolsw"},
	{42, "wsaeventselect"}, {43, "wsagetoverlappedresult"}, {44, "wsagetqosbyname"},
	{45, "wsagetserviceclassinfoa"}, {46, "wsagetserviceclassinfow"},
	{47, "wsagetserviceclassnamebyclassida"}, {48, "wsagetserviceclassnamebyclassidw"},
	{49, "wsahtonl"}, {50, "wsahtons"}, {51, "gethostbyaddr"}, {52, "gethostbyname"},
	{53, "getprotobyname"}, {54, "getprotobynumber"}, {55, "getservbyname"},
	{56, "getservbyport"}, {57, "gethostname"}, {58, "wsainstallserviceclassa"},
	{59, "wsainstallserviceclassw"}, {60, "wsaioctl"}, {61, "wsajoinleaf"},
	{62, "wsalookupservicebegina"}, {63, "wsalookupservicebeginw"}, {64, "wsalookupserviceend"},
	{65, "wsalookupservicenexta"}, {66, "wsalookupservicenextw"}, {67, "wsanspioctl"},
	{68, "wsantohl"}, {69, "wsantohs"}, {70, "wsaproviderconfigchange"}, {71, "wsarecv"},
	{72, "wsarecvdisconnect"}, {73, "wsarecvfrom"}, {74, "wsaremoveserviceclass"},
	{75, "wsaresetevent"}, {76, "wsasend"}, {77, "wsasenddisconnect"}, {78, "wsasendto"},
	{79, "wsasetevent"}, {80, "wsasetservicea"}, {81, "wsasetservicew"}, {82, "wsasocketa"},
	{83, "wsasocketw"}, {84, "wsastringtoaddressa"}, {85, "wsastringtoaddressw"},
	{86, "wsawaitformultipleevents"}, {87, "wscdeinstallprovider"}, {88, "wscenablensprovider"},
	{89, "wscenumprotocols"}, {90, "wscgetproviderpath"}, {91, "wscinstallnamespace"},
	{92, "wscinstallprovider"}, {93, "wscuninstallnamespace"}, {94, "wscupdateprovider"},
	{95, "wscwritenamespaceorder"}, {96, "wscwriteproviderorder"}, {97, "freeaddrinfo"},
	{98, "getaddrinfo"}, {99, "getnameinfo"}, {101, "wsaasyncselect"},
	{102, "wsaasyncgethostbyaddr"}, {103, "wsaasyncgethostbyname"},
	{104, "wsaasyncgetprotobynumber"}, {105, "wsaasyncgetprotobyname"},
	{106, "wsaasyncgetservbyport"}, {107, "wsaasyncgetservbyname"},
	{108, "wsacancelasyncrequest"}, {109, "wsasetblockinghook"}, {110, "wsaunhookblockinghook"},
	{111, "wsagetlasterror"}, {112, "wsasetlasterror"}, {113, "wsacancelblockingcall"},
	{114, "wsaisblocking"}, {115, "wsastartup"}, {116, "wsacleanup"}, {151, "__wsafdisset"},
	{500, "wep"},
};
static const struct ordname ord_oleaut32[] = {
	{2, "sysallocstring"}, {3, "sysreallocstring"}, {4, "sysallocstringlen"},
	{5, "sysreallocstringlen"}, {6, "sysfreestring"}, {7, "sysstringlen"}, {8, "variantinit"},
	{9, "variantclear"}, {10, "variantcopy"}, {11, "variantcopyind"}, {12, "variantchangetype"},
	{13, "varianttimetodosdatetime"}, {14, "dosdatetimetovarianttime"}, {15, "safearraycreate"},
	{16, "safearraydestroy"}, {17, "safearraygetdim"}, {18, "safearraygetelemsize"},
	{19, "safearraygetubound"}, {20, "safearraygetlbound"}, {21, "safearraylock"},
	{22, "safearrayunlock"}, {23, "safearrayaccessdata"}, {24, "safearrayunaccessdata"},
	{25, "safearraygetelement"}, {26, "safearrayputelement"}, {27, "safearraycopy"},
	{28, "dispgetparam"}, {29, "dispgetidsofnames"}, {30, "dispinvoke"},
	{31, "createdisptypeinfo"}, {32, "createstddispatch"}, {33, "registeractiveobject"},
	{34, "revokeactiveobject"}, {35, "getactiveobject"}, {36, "safearrayallocdescriptor"},
	{37, "safearrayallocdata"}, {38, "safearraydestroydescriptor"}, {39, "safearraydestroydata"},
	{40, "safearrayredim"}, {41, "safearrayallocdescriptorex"}, {42, "safearraycreateex"},
	{43, "safearraycreatevectorex"}, {44, "safearraysetrecordinfo"},
	{45, "safearraygetrecordinfo"}, {46, "varparsenumfromstr"}, {47, "varnumfromparsenum"},
	{48, "vari2fromui1"}, {49, "vari2fromi4"}, {50, "vari2fromr4"}, {51, "vari2fromr8"},
	{52, "vari2fromcy"}, {53, "vari2fromdate"}, {54, "vari2fromstr"}, {55, "vari2fromdisp"},
	{56, "vari2frombool"}, {57, "safearraysetiid"}, {58, "vari4fromui1"}, {59, "vari4fromi2"},
	{60, "vari4fromr4"}, {61, "vari4fromr8"}, {62, "vari4fromcy"}, {63, "vari4fromdate"},
	{64, "vari4fromstr"}, {65, "vari4fromdisp"}, {66, "vari4frombool"}, {67, "safearraygetiid"},
	{68, "varr4fromui1"}, {69, "varr4fromi2"}, {70, "varr4fromi4"}, {71, "varr4fromr8"},
	{72, "varr4fromcy"}, {73, "varr4fromdate"}, {74, "varr4fromstr"}, {75, "varr4fromdisp"},
	{76, "varr4frombool"}, {77, "safearraygetvartype"}, {78, "varr8fromui1"}, {79, "varr8fromi2"},
	{80, "varr8fromi4"}, {81, "varr8fromr4"}, {82, "varr8fromcy"}, {83, "varr8fromdate"},
	{84, "varr8fromstr"}, {85, "varr8fromdisp"}, {86, "varr8frombool"}, {87, "varformat"},
	{88, "vardatefromui1"}, {89, "vardatefromi2"}, {90, "vardatefromi4"}, {91, "vardatefromr4"},
	{92, "vardatefromr8"}, {93, "vardatefromcy"}, {94, "vardatefromstr"}, {95, "vardatefromdisp"},
	{96, "vardatefrombool"}, {97, "varformatdatetime"}, {98, "varcyfromui1"}, {99, "varcyfromi2"},
	{100, "varcyfromi4"}, {101, "varcyfromr4"}, {102, "varcyfromr8"}, {103, "varcyfromdate"},
	{104, "varcyfromstr"}, {105, "varcyfromdisp"}, {106, "varcyfrombool"},
	{107, "varformatnumber"}, {108, "varbstrfromui1"}, {109, "varbstrfromi2"},
	{110, "varbstrfromi4"}, {111, "varbstrfromr4"}, {112, "varbstrfromr8"},
	{113, "varbstrfromcy"}, {114, "varbstrfromdate"}, {115, "varbstrfromdisp"},
	{116, "varbstrfrombool"}, {117, "varformatpercent"}, {118, "varboolfromui1"},
	{119, "varboolfromi2"}, {120, "varboolfromi4"}, {121, "varboolfromr4"},
	{122, "varboolfromr8"}, {123, "varboolfromdate"}, {124, "varboolfromcy"},
	{125, "varboolfromstr"}, {126, "varboolfromdisp"}, {127, "varformatcurrency"},
	{128, "varweekdayname"}, {129, "varmonthname"}, {130, "varui1fromi2"}, {131, "varui1fromi4"},
	{132, "varui1fromr4"}, {133, "varui1fromr8"}, {134, "varui1fromcy"}, {135, "varui1fromdate"},
	{136, "varui1fromstr"}, {137, "varui1fromdisp"}, {138, "varui1frombool"},
	{139, "varformatfromtokens"}, {140, "vartokenizeformatstring"}, {141, "varadd"},
	{142, "varand"}, {143, "vardiv"}, {144, "dllcanunloadnow"}, {145, "dllgetclassobject"},
	{146, "dispcallfunc"}, {147, "variantchangetypeex"}, {148, "safearrayptrofindex"},
	{149, "sysstringbytelen"}, {150, "sysallocstringbytelen"}, {151, "dllregisterserver"},
	{152, "vareqv"}, {153, "varidiv"}, {154, "varimp"}, {155, "varmod"}, {156, "varmul"},
	{157, "varor"}, {158, "varpow"}, {159, "varsub"}, {160, "createtypelib"},
	{161, "loadtypelib"}, {162, "loadregtypelib"}, {163, "registertypelib"},
	{164, "querypathofregtypelib"}, {165, "lhashvalofnamesys"}, {166, "lhashvalofnamesysa"},
	{167, "varxor"}, {168, "varabs"}, {169, "varfix"}, {170, "oabuildversion"},
	{171, "clearcustdata"}, {172, "varint"}, {173, "varneg"}, {174, "varnot"}, {175, "varround"},
	{176, "varcmp"}, {177, "vardecadd"}, {178, "vardecdiv"}, {179, "vardecmul"},
	{180, "createtypelib2"}, {181, "vardecsub"}, {182, "vardecabs"}, {183, "loadtypelibex"},
	{184, "systemtimetovarianttime"}, {185, "varianttimetosystemtime"},
	{186, "unregistertypelib"}, {187, "vardecfix"}, {188, "vardecint"}, {189, "vardecneg"},
	{190, "vardecfromui1"}, {191, "vardecfromi2"}, {192, "vardecfromi4"}, {193, "vardecfromr4"},
	{194, "vardecfromr8"}, {195, "vardecfromdate"}, {196, "vardecfromcy"}, {197, "vardecfromstr"},
	{198, "vardecfromdisp"}, {199, "vardecfrombool"}, {200, "geterrorinfo"},
	{201, "seterrorinfo"}, {202, "createerrorinfo"}, {203, "vardecround"}, {204, "vardeccmp"},
	{205, "vari2fromi1"}, {206, "vari2fromui2"}, {207, "vari2fromui4"}, {208, "vari2fromdec"},
	{209, "vari4fromi1"}, {210, "vari4fromui2"}, {211, "vari4fromui4"}, {212, "vari4fromdec"},
	{213, "varr4fromi1"}, {214, "varr4fromui2"}, {215, "varr4fromui4"}, {216, "varr4fromdec"},
	{217, "varr8fromi1"}, {218, "varr8fromui2"}, {219, "varr8fromui4"}, {220, "varr8fromdec"},
	{221, "vardatefromi1"}, {222, "vardatefromui2"}, {223, "vardatefromui4"},
	{224, "vardatefromdec"}, {225, "varcyfromi1"}, {226, "varcyfromui2"}, {227, "varcyfromui4"},
	{228, "varcyfromdec"}, {229, "varbstrfromi1"}, {230, "varbstrfromui2"},
	{231, "varbstrfromui4"}, {232, "varbstrfromdec"}, {233, "varboolfromi1"},
	{234, "varboolfromui2"}, {235, "varboolfromui4"}, {236, "varboolfromdec"},
	{237, "varui1fromi1"}, {238, "varui1fromui2"}, {239, "varui1fromui4"}, {240, "varui1fromdec"},
	{241, "vardecfromi1"}, {242, "vardecfromui2"}, {243, "vardecfromui4"}, {244, "vari1fromui1"},
	{245, "vari1fromi2"}, {246, "vari1fromi4"}, {247, "vari1fromr4"}, {248, "vari1fromr8"},
	{249, "vari1fromdate"}, {250, "vari1fromcy"}, {251, "vari1fromstr"}, {252, "vari1fromdisp"},
	{253, "vari1frombool"}, {254, "vari1fromui2"}, {255, "vari1fromui4"}, {256, "vari1fromdec"},
	{257, "varui2fromui1"}, {258, "varui2fromi2"}, {259, "varui2fromi4"}, {260, "varui2fromr4"},
	{261, "varui2fromr8"}, {262, "varui2fromdate"}, {263, "varui2fromcy"}, {264, "varui2fromstr"},
	{265, "varui2fromdisp"}, {266, "varui2frombool"}, {267, "varui2fromi1"},
	{268, "varui2fromui4"}, {269, "varui2fromdec"}, {270, "varui4fromui1"}, {271, "varui4fromi2"},
	{272, "varui4fromi4"}, {273, "varui4fromr4"}, {274, "varui4fromr8"}, {275, "varui4fromdate"},
	{276, "varui4fromcy"}, {277, "varui4fromstr"}, {278, "varui4fromdisp"},
	{279, "varui4frombool"}, {280, "varui4fromi1"}, {281, "varui4fromui2"},
	{282, "varui4fromdec"}, {283, "bstr_usersize"}, {284, "bstr_usermarshal"},
	{285, "bstr_userunmarshal"}, {286, "bstr_userfree"}, {287, "variant_usersize"},
	{288, "variant_usermarshal"}, {289, "variant_userunmarshal"}, {290, "variant_userfree"},
	{291, "lpsafearray_usersize"}, {292, "lpsafearray_usermarshal"},
	{293, "lpsafearray_userunmarshal"}, {294, "lpsafearray_userfree"}, {295, "lpsafearray_size"},
	{296, "lpsafearray_marshal"}, {297, "lpsafearray_unmarshal"}, {298, "vardeccmpr8"},
	{299, "varcyadd"}, {300, "dllunregisterserver"}, {301, "oacreatetypelib2"}, {303, "varcymul"},
	{304, "varcymuli4"}, {305, "varcysub"}, {306, "varcyabs"}, {307, "varcyfix"},
	{308, "varcyint"}, {309, "varcyneg"}, {310, "varcyround"}, {311, "varcycmp"},
	{312, "varcycmpr8"}, {313, "varbstrcat"}, {314, "varbstrcmp"}, {315, "varr8pow"},
	{316, "varr4cmpr8"}, {317, "varr8round"}, {318, "varcat"}, {319, "vardatefromudateex"},
	{322, "getrecordinfofromguids"}, {323, "getrecordinfofromtypeinfo"},
	{325, "setvarconversionlocalesetting"}, {326, "getvarconversionlocalesetting"},
	{327, "setoanocache"}, {329, "varcymuli8"}, {330, "vardatefromudate"},
	{331, "varudatefromdate"}, {332, "getaltmonthnames"}, {333, "vari8fromui1"},
	{334, "vari8fromi2"}, {335, "vari8fromr4"}, {336, "vari8fromr8"}, {337, "vari8fromcy"},
	{338, "vari8fromdate"}, {339, "vari8fromstr"}, {340, "vari8fromdisp"}, {341, "vari8frombool"},
	{342, "vari8fromi1"}, {343, "vari8fromui2"}, {344, "vari8fromui4"}, {345, "vari8fromdec"},
	{346, "vari2fromi8"}, {347, "vari2fromui8"}, {348, "vari4fromi8"}, {349, "vari4fromui8"},
	{360, "varr4fromi8"}, {361, "varr4fromui8"}, {362, "varr8fromi8"}, {363, "varr8fromui8"},
	{364, "vardatefromi8"}, {365, "vardatefromui8"}, {366, "varcyfromi8"}, {367, "varcyfromui8"},
	{368, "varbstrfromi8"}, {369, "varbstrfromui8"}, {370, "varboolfromi8"},
	{371, "varboolfromui8"}, {372, "varui1fromi8"}, {373, "varui1fromui8"}, {374, "vardecfromi8"},
	{375, "vardecfromui8"}, {376, "vari1fromi8"}, {377, "vari1fromui8"}, {378, "varui2fromi8"},
	{379, "varui2fromui8"}, {401, "oleloadpictureex"}, {402, "oleloadpicturefileex"},
	{411, "safearraycreatevector"}, {412, "safearraycopydata"}, {413, "vectorfrombstr"},
	{414, "bstrfromvector"}, {415, "oleicontocursor"}, {416, "olecreatepropertyframeindirect"},
	{417, "olecreatepropertyframe"}, {418, "oleloadpicture"}, {419, "olecreatepictureindirect"},
	{420, "olecreatefontindirect"}, {421, "oletranslatecolor"}, {422, "oleloadpicturefile"},
	{423, "olesavepicturefile"}, {424, "oleloadpicturepath"}, {425, "varui4fromi8"},
	{426, "varui4fromui8"}, {427, "vari8fromui8"}, {428, "varui8fromi8"}, {429, "varui8fromui1"},
	{430, "varui8fromi2"}, {431, "varui8fromr4"}, {432, "varui8fromr8"}, {433, "varui8fromcy"},
	{434, "varui8fromdate"}, {435, "varui8fromstr"}, {436, "varui8fromdisp"},
	{437, "varui8frombool"}, {438, "varui8fromi1"}, {439, "varui8fromui2"},
	{440, "varui8fromui4"}, {441, "varui8fromdec"}, {442, "registertypelibforuser"},
	{443, "unregistertypelibforuser"},
};
/* clang-format on */

static const char *ordinal_name(const char *dll, uint16_t ord)
{
	const struct ordname *t = NULL;
	size_t n = 0;
	/* DLL names are compared as case-insensitive prefixes, like ClamAV. */
	if (prefix_icase(dll, "ws2_32.dll") || prefix_icase(dll, "wsock32.dll")) {
		t = ord_ws2_32;
		n = sizeof(ord_ws2_32) / sizeof(ord_ws2_32[0]);
	} else if (prefix_icase(dll, "oleaut32.dll")) {
		t = ord_oleaut32;
		n = sizeof(ord_oleaut32) / sizeof(ord_oleaut32[0]);
	}
	for (size_t i = 0; i < n; i++)
		if (t[i].ord == ord)
			return t[i].name;
	return NULL;
}

/* Copy at most n bytes at off, stopping at NUL (ClamAV's strndup of its
 * 256-byte window). dst has room for PE_NAME_WINDOW + 1. */
static size_t copy_name(const cursor *c, size_t off, size_t n, char *dst)
{
	const uint8_t *p = cur_at(c, off, n);
	size_t k = 0;
	/* dst is a C string even when the window is outside the file: callers
	 * go on to strlen() it. */
	dst[0] = '\0';
	if (!p)
		return 0;
	while (k < n && p[k]) {
		dst[k] = (char)p[k];
		k++;
	}
	dst[k] = '\0';
	return k;
}

struct imphash_state {
	EVP_MD_CTX *md;
	uint64_t size;   /* bytes hashed: the .imp size field */
	bool first;      /* no entry hashed yet (no leading comma) */
	uint32_t nfuncs; /* bounded by WARD_MAX_PE_IMPORT_FUNCS */
};

/* Append ",dll.func" (no comma for the very first entry), lowercased. The DLL
 * part stops at its first '.' when that dot starts ".dll", ".ocx" or ".sys"
 * (compared on 4 characters, case-insensitively, as ClamAV does). */
static ward_err imp_add(struct imphash_state *st, const char *dll, size_t dlllen, const char *fn,
			size_t fnlen)
{
	char tmp[2 * PE_NAME_WINDOW + 4];
	size_t j = 0;
	const char *dot = memchr(dll, '.', dlllen);

	if (dot &&
	    (prefix_icase(dot, ".ocx") || prefix_icase(dot, ".sys") || prefix_icase(dot, ".dll")))
		dlllen = (size_t)(dot - dll);
	if (!imp_name_ok(fn, fnlen))
		return WARD_ECORRUPT;
	if (++st->nfuncs > WARD_MAX_PE_IMPORT_FUNCS)
		return WARD_ELIMIT;
	if (!st->first)
		tmp[j++] = ',';
	for (size_t i = 0; i < dlllen; i++)
		tmp[j++] = lower_ascii(dll[i]);
	tmp[j++] = '.';
	for (size_t i = 0; i < fnlen; i++)
		tmp[j++] = lower_ascii(fn[i]);
	if (EVP_DigestUpdate(st->md, tmp, j) != 1)
		return WARD_ENOMEM;
	st->size += j;
	st->first = false;
	return WARD_OK;
}

/* Functions imported from one DLL: the thunk array of OriginalFirstThunk (or
 * FirstThunk when that is 0 or unmappable), until a zero thunk or the end of
 * the file. */
static ward_err imp_dll(struct imphash_state *st, const struct pehdr *h, const cursor *c,
			const struct psect *secs, const char *dll, size_t dlllen, uint32_t oft,
			uint32_t ft)
{
	uint32_t thu = 0;
	bool ok = false;
	char fn[PE_NAME_WINDOW + 1];

	if (oft)
		ok = pe_rawaddr(h, c, secs, oft, &thu);
	if (!ok || thu == 0)
		ok = pe_rawaddr(h, c, secs, ft, &thu);
	if (!ok)
		return WARD_ECORRUPT;

	size_t step = h->pe32plus ? 8 : 4;
	for (size_t pos = thu; cur_fits(c, pos, step); pos += step) {
		const uint8_t *p = c->base + pos;
		uint64_t v = rd32(p);
		if (h->pe32plus)
			v |= (uint64_t)rd32(p + 4) << 32;
		if (v == 0)
			break;
		size_t fnlen;
		bool ordinal = h->pe32plus ? (v & PE_ORD_FLAG64) != 0 : (v & PE_ORD_FLAG32) != 0;
		if (ordinal) {
			const char *known = ordinal_name(dll, (uint16_t)(v & 0xffff));
			int n = known ? snprintf(fn, sizeof(fn), "%s", known)
				      : snprintf(fn, sizeof(fn), "ord%u", (unsigned)(v & 0xffff));
			fnlen = n > 0 ? (size_t)n : 0;
		} else {
			uint32_t off = 0;
			/* ClamAV's PE32 branch ignores a failed mapping and reads the
			 * name at file offset 0 + 2; its PE32+ branch skips the name. */
			bool mapped = pe_rawaddr(h, c, secs, (uint32_t)v, &off);
			if (!mapped && h->pe32plus)
				continue;
			if (!mapped)
				off = 0;
			/* The window is min(256, fsize - off) bytes but starts after the
			 * 2-byte hint, so near the end of the file it does not fit and
			 * ClamAV silently drops the function. */
			size_t win = c->len - off < PE_NAME_WINDOW ? c->len - off : PE_NAME_WINDOW;
			if ((size_t)off + 2 > c->len || !cur_fits(c, (size_t)off + 2, win))
				continue;
			fnlen = copy_name(c, (size_t)off + 2, win, fn);
		}
		ward_err err = imp_add(st, dll, dlllen, fn, fnlen);
		if (err != WARD_OK)
			return err;
	}
	return WARD_OK;
}

ward_err pe_imphash(const uint8_t *buf, size_t len, const struct exeinfo *pe, uint8_t md5[16],
		    uint64_t *size)
{
	cursor c = cur_make(buf, len);
	struct pehdr h;
	struct psect *secs = NULL;
	struct imphash_state st = {NULL, 0, true, 0};
	ward_err err;
	uint32_t ep, impoff;
	char dll[PE_NAME_WINDOW + 1] = {0}; /* copy_name() fills it for each descriptor */

	memset(md5, 0, 16);
	*size = 0;
	if (!pe || pe->kind != EXE_PE)
		return WARD_EINVAL;
	if (len > UINT32_MAX)
		return WARD_EUNSUPPORTED;
	err = pe_headers(&c, &h);
	if (err != WARD_OK)
		goto out;
	/* ClamAV 1.4's cli_scanpe stops before the import table for PE32+
	 * ("Do not continue for PE32+ files"): .imp never matches them. */
	if (h.pe32plus) {
		err = WARD_EUNSUPPORTED;
		goto out;
	}
	/* The import table is hashed many times over; keep the aligned sections
	 * in memory. The table itself is in the file (pe_headers checked), so
	 * this allocation is bounded by the file size. */
	secs = w_alloc_array(h.nsections, sizeof(*secs));
	if (!secs) {
		err = WARD_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < h.nsections; i++)
		pe_section(&h, &c, i, &secs[i]);
	err = WARD_ECORRUPT;
	if (!pe_rawaddr(&h, &c, secs, h.vep, &ep))
		goto out;
	if (h.imp_rva == 0 || h.imp_size == 0)
		goto out;
	if (!pe_rawaddr(&h, &c, secs, h.imp_rva, &impoff) || !cur_fits(&c, impoff, h.imp_size))
		goto out;

	st.md = EVP_MD_CTX_new();
	if (!st.md || EVP_DigestInit_ex(st.md, EVP_md5(), NULL) != 1) {
		err = WARD_ENOMEM;
		goto out;
	}
	/* Descriptors while MORE than one descriptor's worth of the declared
	 * size is left (ClamAV's "left > sizeof"), at most 1024 DLLs, until one
	 * with Name == 0. */
	size_t left = h.imp_size, pos = impoff;
	for (uint32_t n = 0; left > PE_IMPDESC_SIZE && n < WARD_MAX_PE_IMPORT_DLLS; n++) {
		const uint8_t *d = cur_at(&c, pos, PE_IMPDESC_SIZE);
		uint32_t nameoff;
		if (NEVER(d == NULL)) /* inside the checked directory */
			goto out;
		uint32_t oft = rd32(d), name = rd32(d + 12), ft = rd32(d + 16);
		if (name == 0)
			break;
		left -= PE_IMPDESC_SIZE;
		pos += PE_IMPDESC_SIZE;
		if (!pe_rawaddr(&h, &c, secs, name, &nameoff)) {
			err = WARD_ECORRUPT;
			goto out;
		}
		/* A name mapped past the end of the file reads as empty (no
		 * c.len - nameoff underflow, no uninitialised dll[]). */
		size_t rest = nameoff < c.len ? c.len - nameoff : 0;
		size_t win = rest < PE_NAME_WINDOW ? rest : PE_NAME_WINDOW;
		size_t dlllen = copy_name(&c, nameoff, win, dll);
		err = imp_dll(&st, &h, &c, secs, dll, dlllen, oft, ft);
		if (err != WARD_OK)
			goto out;
	}
	unsigned int mdlen = 0;
	if (EVP_DigestFinal_ex(st.md, md5, &mdlen) != 1 || mdlen != 16) {
		memset(md5, 0, 16);
		err = WARD_ENOMEM;
		goto out;
	}
	/* No entry at all: ClamAV hashes the empty string, but its loader
	 * refuses a .imp size of 0, so nothing can match. */
	if (st.first) {
		memset(md5, 0, 16);
		err = WARD_ECORRUPT;
		goto out;
	}
	*size = st.size;
	err = WARD_OK;
out:
	EVP_MD_CTX_free(st.md);
	w_free(secs);
	return err;
}

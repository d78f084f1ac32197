/*
 * File type detection, mirroring ClamAV 1.4's built-in file type magic (the
 * table libclamav uses when no daily.ftm is loaded, which is the case for every
 * database Ward reads) and its text detection. The rules, and the clamscan
 * experiments that confirmed them, are in docs/internals/containers.md.
 *
 * ClamAV's order, which this file follows:
 *  1. Only the first 1024 bytes are looked at (CL_FILE_MBUFF_SIZE). A magic
 *     that does not fit entirely inside them does not count.
 *  2. "Type 0" magics: fixed bytes at a fixed offset (MZ, PK\3\4, ...).
 *  3. Nothing matched: text detection (file(1)'s ascmagic rules): ASCII when
 *     no byte is a "never in text" control character, else UTF-16 by ClamAV's
 *     lax test, else binary data. Binary data with a valid tar header
 *     checksum is an old-style tar.
 *  4. Text or binary: "type 1" patterns anywhere in the window (HTML tags,
 *     %PDF-x., Java class, Word/Excel 2003 XML); the highest-ranked wins.
 * ISO9660 is found past the window (its descriptor is at 0x8001); ClamAV
 * finds it while scanning, as an embedded type; Ward checks it here.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "formats/formats.h"
#include "util/cursor.h"

/* ClamAV's CL_FILE_MBUFF_SIZE: bytes of a file the type magic looks at. */
#define FT_WINDOW 1024u

/* ---- names ------------------------------------------------------------- */

static const char *const ft_names[FT__COUNT] = {
	[FT_BINARY] = "CL_TYPE_BINARY_DATA",
	[FT_TEXT_ASCII] = "CL_TYPE_TEXT_ASCII",
	[FT_TEXT_UTF16] = "CL_TYPE_TEXT_UTF16LE",
	[FT_HTML] = "CL_TYPE_HTML",
	[FT_MAIL] = "CL_TYPE_MAIL",
	[FT_PE] = "CL_TYPE_MSEXE",
	[FT_MSDOS] = "CL_TYPE_MSEXE",
	[FT_ELF] = "CL_TYPE_ELF",
	[FT_MACHO] = "CL_TYPE_MACHO",
	[FT_OLE2] = "CL_TYPE_MSOLE2",
	[FT_PDF] = "CL_TYPE_PDF",
	[FT_GRAPHICS] = "CL_TYPE_GRAPHICS",
	[FT_FLASH] = "CL_TYPE_SWF",
	[FT_JAVA] = "CL_TYPE_JAVA",
	[FT_ZIP] = "CL_TYPE_ZIP",
	[FT_GZIP] = "CL_TYPE_GZ",
	[FT_BZIP2] = "CL_TYPE_BZ",
	[FT_XZ] = "CL_TYPE_XZ",
	[FT_7Z] = "CL_TYPE_7Z",
	[FT_RAR] = "CL_TYPE_RAR",
	[FT_CAB] = "CL_TYPE_MSCAB",
	[FT_TAR] = "CL_TYPE_POSIX_TAR",
	[FT_CPIO] = "CL_TYPE_CPIO_NEWC",
	[FT_ISO9660] = "CL_TYPE_ISO9660",
	[FT_ARJ] = "CL_TYPE_ARJ",
	[FT_CPIO_OLD] = "CL_TYPE_CPIO_OLD",
	[FT_CPIO_ODC] = "CL_TYPE_CPIO_ODC",
	[FT_CPIO_CRC] = "CL_TYPE_CPIO_CRC",
	[FT_MACHO_UNIBIN] = "CL_TYPE_MACHO_UNIBIN",
	[FT_RTF] = "CL_TYPE_RTF",
	[FT_OOXML_WORD] = "CL_TYPE_OOXML_WORD",
	[FT_OOXML_PPT] = "CL_TYPE_OOXML_PPT",
	[FT_OOXML_XL] = "CL_TYPE_OOXML_XL",
	[FT_XML_WORD] = "CL_TYPE_XML_WORD",
	[FT_XML_XL] = "CL_TYPE_XML_XL",
	[FT_AUTOIT] = "CL_TYPE_AUTOIT",
	[FT_OTHER] = "CL_TYPE_OTHER",
	[FT_ANY] = "CL_TYPE_ANY",
};

/* Names ClamAV accepts (its ftmap) that map onto a Ward type other than the
 * one ft_names gives back, or that Ward lumps together. Every other name of
 * ClamAV's table is a real type Ward does not parse: FT_OTHER. */
static const struct {
	const char *name;
	enum ftype type;
} ft_aliases[] = {
	{"CL_TYPE_TEXT_UTF8", FT_TEXT_ASCII},
	{"CL_TYPE_TEXT_UTF16BE", FT_TEXT_UTF16},
	{"CL_TYPE_OLD_TAR", FT_TAR},
	{"CL_TYPE_GIF", FT_GRAPHICS},
	{"CL_TYPE_PNG", FT_GRAPHICS},
	{"CL_TYPE_JPEG", FT_GRAPHICS},
	{"CL_TYPE_TIFF", FT_GRAPHICS},
	{"CL_TYPE_ZIPSFX", FT_ZIP},
	{"CL_TYPE_RARSFX", FT_RAR},
	{"CL_TYPE_7ZSFX", FT_7Z},
	{"CL_TYPE_CABSFX", FT_CAB},
	{"CL_TYPE_ARJSFX", FT_ARJ},
	{"CL_TYPE_HTML_UTF16", FT_HTML},
	{"CL_TYPE_IGNORED", FT_OTHER},
	{"CL_TYPE_MSSZDD", FT_OTHER},
	{"CL_TYPE_MSCHM", FT_OTHER},
	{"CL_TYPE_SIS", FT_OTHER},
	{"CL_TYPE_SCRENC", FT_OTHER},
	{"CL_TYPE_RIFF", FT_OTHER},
	{"CL_TYPE_BINHEX", FT_OTHER},
	{"CL_TYPE_TNEF", FT_OTHER},
	{"CL_TYPE_CRYPTFF", FT_OTHER},
	{"CL_TYPE_UUENCODED", FT_OTHER},
	{"CL_TYPE_SCRIPT", FT_OTHER},
	{"CL_TYPE_SFX", FT_OTHER},
	{"CL_TYPE_NULSFT", FT_OTHER},
	{"CL_TYPE_ISHIELD_MSI", FT_OTHER},
	{"CL_TYPE_DMG", FT_OTHER},
	{"CL_TYPE_MBR", FT_OTHER},
	{"CL_TYPE_GPT", FT_OTHER},
	{"CL_TYPE_APM", FT_OTHER},
	{"CL_TYPE_XAR", FT_OTHER},
	{"CL_TYPE_PART_ANY", FT_OTHER},
	{"CL_TYPE_PART_HFSPLUS", FT_OTHER},
	{"CL_TYPE_INTERNAL", FT_OTHER},
	{"CL_TYPE_XDP", FT_OTHER},
	{"CL_TYPE_HWP3", FT_OTHER},
	{"CL_TYPE_XML_HWP", FT_OTHER},
	{"CL_TYPE_HWPOLE2", FT_OTHER},
	{"CL_TYPE_OOXML_HWP", FT_OTHER},
	{"CL_TYPE_PS", FT_OTHER},
	{"CL_TYPE_MHTML", FT_OTHER},
	{"CL_TYPE_LNK", FT_OTHER},
	{"CL_TYPE_EGG", FT_OTHER},
	{"CL_TYPE_EGGSFX", FT_OTHER},
	{"CL_TYPE_UDF", FT_OTHER},
	{"CL_TYPE_ONENOTE", FT_OTHER},
	{"CL_TYPE_PYTHON_COMPILED", FT_OTHER},
	{"CL_TYPE_LHA_LZH", FT_OTHER},
	{"CL_TYPE_ALZ", FT_OTHER},
};

const char *ftype_clamav_name(enum ftype t)
{
	if ((unsigned)t >= FT__COUNT || !ft_names[t])
		return "CL_TYPE_BINARY_DATA";
	return ft_names[t];
}

static bool name_eq(const char *a, const char *s, size_t len)
{
	return strlen(a) == len && memcmp(a, s, len) == 0;
}

int ftype_from_clamav_name(const char *s, size_t len)
{
	if (!s)
		return -1;
	/* FT_PE first: "CL_TYPE_MSEXE" means any MZ file, which ClamAV types
	 * MSEXE whether or not a PE header follows. FT_OTHER's invented name is
	 * not a ClamAV name and is not accepted. */
	for (int t = 0; t < FT__COUNT; t++) {
		if (t == FT_MSDOS || t == FT_OTHER)
			continue;
		if (name_eq(ft_names[t], s, len))
			return t;
	}
	for (size_t i = 0; i < sizeof ft_aliases / sizeof ft_aliases[0]; i++)
		if (name_eq(ft_aliases[i].name, s, len))
			return (int)ft_aliases[i].type;
	return -1;
}

bool ftype_is_container(enum ftype t)
{
	switch (t) {
	case FT_ZIP:
	case FT_GZIP:
	case FT_BZIP2:
	case FT_XZ:
	case FT_7Z:
	case FT_RAR:
	case FT_CAB:
	case FT_TAR:
	case FT_CPIO:
	case FT_CPIO_OLD:
	case FT_CPIO_ODC:
	case FT_CPIO_CRC:
	case FT_ISO9660:
	case FT_ARJ:
	case FT_OOXML_WORD:
	case FT_OOXML_PPT:
	case FT_OOXML_XL:
		return true;
	default:
		return false;
	}
}

/* ---- type 0: fixed bytes at a fixed offset ------------------------------ */

struct magic {
	uint16_t off;
	uint8_t len;
	uint8_t type; /* enum ftype */
	const char *bytes;
};

/* ClamAV 1.4's built-in type-0 magics (flevel-filtered for 1.4), first match
 * wins. Where two of ClamAV's entries share bytes, the one it applies is
 * listed. Types Ward does not model are FT_OTHER: they matter because they
 * keep the file out of text detection (and so out of target 7). */
/* One magic per line, byte strings split where ClamAV splits them. */
/* clang-format off */
#define M(off, str, t) {(off), (uint8_t)(sizeof(str) - 1), (t), (str)}
static const struct magic magics[] = {
	/* executables */
	M(0, "MZ", FT_PE), /* refined below: FT_PE or FT_MSDOS */
	M(0, "\x7f" "ELF", FT_ELF),
	M(0, "\xce\xfa\xed\xfe", FT_MACHO),
	M(0, "\xcf\xfa\xed\xfe", FT_MACHO),
	M(0, "\xfe\xed\xfa\xce", FT_MACHO),
	M(0, "\xfe\xed\xfa\xcf", FT_MACHO),
	/* archives and compressors */
	M(0, "PK\x03\x04", FT_ZIP), /* refined below: OOXML */
	M(0, "PK00PK\x03\x04", FT_ZIP), /* spanned archive marker */
	M(0, "\x1f\x8b", FT_GZIP),
	M(0, "BZh", FT_BZIP2),
	M(0, "\xfd" "7zXZ\x00", FT_XZ),
	M(0, "7z\xbc\xaf\x27\x1c", FT_7Z),
	M(0, "Rar!", FT_RAR), /* RAR 4 and RAR 5 alike */
	M(0, "MSCF\x00\x00\x00\x00", FT_CAB),
	M(257, "ustar", FT_TAR),
	M(0, "[aliases]", FT_TAR), /* ClamAV's CVE-2012-1419 entry wins over mirc.ini */
	M(0, "070701", FT_CPIO),
	M(0, "070702", FT_CPIO_CRC),
	M(0, "070707", FT_CPIO_ODC),
	M(0, "\x71\xc7", FT_CPIO_OLD),
	M(0, "\xc7\x71", FT_CPIO_OLD),
	M(0, "\x60\xea", FT_ARJ),
	/* documents */
	M(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", FT_OLE2),
	M(0, "%PDF-", FT_PDF),
	M(0, "{\\rt", FT_RTF),
	/* graphics and flash */
	M(0, "GIF", FT_GRAPHICS),
	M(0, "\x89PNG", FT_GRAPHICS),
	M(0, "\xff\xd8\xff", FT_GRAPHICS),
	M(0, "BM", FT_GRAPHICS),
	M(0, "II*\x00", FT_GRAPHICS),
	M(0, "MM", FT_GRAPHICS),
	M(0, "\x00\x00\x00\x0cjP  \r\n\x87\n", FT_GRAPHICS),
	M(0, "FWS", FT_FLASH),
	M(0, "CWS", FT_FLASH),
	M(0, "ZWS", FT_FLASH),
	/* mail: header names at offset 0, case-sensitive as in ClamAV */
	M(0, ">From ", FT_MAIL),
	M(0, "Date: ", FT_MAIL),
	M(0, "Delivered-To: ", FT_MAIL),
	M(0, "Delivery-date: ", FT_MAIL),
	M(0, "Envelope-to: ", FT_MAIL),
	M(0, "For: ", FT_MAIL),
	M(0, "From ", FT_MAIL),
	M(0, "From: ", FT_MAIL),
	M(0, "Hi. This is the qmail-send", FT_MAIL),
	M(0, "Message-ID: ", FT_MAIL),
	M(0, "Message-Id: ", FT_MAIL),
	M(0, "Received: ", FT_MAIL),
	M(0, "Received-SPF: ", FT_MAIL),
	M(0, "Return-Path: ", FT_MAIL),
	M(0, "Return-path: ", FT_MAIL),
	M(0, "Subject: ", FT_MAIL),
	M(0, "To: ", FT_MAIL),
	M(0, "X-Apparently-To: ", FT_MAIL),
	M(0, "X-EVS", FT_MAIL),
	M(0, "X-Envelope-From: ", FT_MAIL),
	M(0, "X-Original-To: ", FT_MAIL),
	M(0, "X-Real-To: ", FT_MAIL),
	M(0, "X-Sieve: ", FT_MAIL),
	M(0, "X-Symantec-", FT_MAIL),
	M(0, "X-UIDL: ", FT_MAIL),
	M(0, "v:\nReceived: ", FT_MAIL),
	M(0, "v:\r\nReceived: ", FT_MAIL),
	/* recognised by ClamAV, not parsed by Ward */
	M(0, "\x00\x00\x01\xb3", FT_BINARY), /* MPEG: ClamAV types it binary data */
	M(0, "\x00\x00\x01\xba", FT_BINARY),
	M(0, "#@~^", FT_OTHER),  /* SCRENC */
	M(0, "%!PS-Adobe-", FT_OTHER),
	M(0, "(This file must be converted with BinHex 4.0)", FT_OTHER),
	M(0, ".RMF", FT_OTHER),
	M(0, "7\x7f\x06\x82\x00\x2d\xe2\x18", FT_OTHER), /* SQLite WAL */
	M(0, "7\x7f\x06\x83\x00\x2d\xe2\x18", FT_OTHER),
	M(0, "ALZ\x01", FT_OTHER),
	M(0, "EGGA", FT_OTHER),
	M(0, "HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05", FT_OTHER),
	M(0, "ID3", FT_OTHER),
	M(0, "ITSF", FT_OTHER), /* CHM */
	M(0, "L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46", FT_OTHER),
	M(0, "OggS", FT_OTHER),
	M(0, "RIFF", FT_OTHER),
	M(0, "RIFX", FT_OTHER),
	M(0, "SIP-HIT (SIP/H", FT_OTHER),
	M(0, "SQLite format 3\x00", FT_OTHER),
	M(0, "SYMC\x01\x00", FT_OTHER),
	M(0, "SZDD", FT_OTHER),
	M(0, "begin ", FT_OTHER), /* uuencoded */
	M(0, "xar!", FT_OTHER),
	M(0, "\x78\x9f\x3e\x22", FT_OTHER), /* TNEF */
	M(0, "{ \"Magic\": \"CLAMJSONv0\"", FT_OTHER),
	M(0, "{\n  \"Magic\":\"CLAMJSONv0\"", FT_OTHER),
	M(0, "\xb6\xb9\xac\xae\xfe\xff\xff\xff", FT_OTHER), /* CryptFF */
	M(0, "\xd9\xd5\x05\xf9\x20\xa1\x63\xd7", FT_OTHER), /* SQLite journal */
	M(0, "\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d\xae\xb1\x53\x78\xd0\x29\x96\xd3", FT_OTHER),
	M(0, "\xff\xfb\x90", FT_OTHER), /* MP3 */
	M(0, "\x02\x09\x99\x00", FT_OTHER), /* Python 1.0 .pyc */
	M(0, "\x03\x09\x99\x00", FT_OTHER),
	M(4, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", FT_OTHER), /* HWP embedded OLE2 */
	M(512, "EFI PART", FT_OTHER),
};
/* clang-format on */
#undef M

/* Python byte-code magics "XX YY \r \n" ClamAV lists (first two bytes). */
static const uint16_t pyc_magics[] = {
	0x892e, 0x0417, 0x994e, 0xfcc4, 0xfdc4, 0x87c6, 0x88c6, 0x2aeb, 0x2beb, 0x2ded,
	0x2eed, 0x3bf2, 0x3cf2, 0x45f2, 0x59f2, 0x63f2, 0x6df2, 0x6ef2, 0x77f2, 0x81f2,
	0x8bf2, 0x8cf2, 0x95f2, 0x9ff2, 0xa9f2, 0xb3f2, 0xb4f2, 0xc7f2, 0xd1f2, 0xd2f2,
	0xdbf2, 0xe5f2, 0xeff2, 0xf9f2, 0x03f3, 0x04f3, 0x0af3, 0xb80b, 0xc20b, 0xcc0b,
	0xd60b, 0xe00b, 0xea0b, 0xf40b, 0xf50b, 0xff0b, 0x090c, 0x130c, 0x1d0c, 0x1f0c,
	0x270c, 0x3b0c, 0x450c, 0x4f0c, 0x580c, 0x620c, 0x6c0c, 0x760c, 0x800c, 0x8a0c,
	0x940c, 0x9e0c, 0xb20c, 0xbc0c, 0xc60c, 0xd00c, 0xda0c, 0xe40c, 0xee0c, 0xf80c,
	0x020d, 0x0c0d, 0x160d, 0x170d, 0x200d, 0x210d, 0x2a0d, 0x2b0d, 0x2c0d, 0x2d0d,
	0x2f0d, 0x300d, 0x310d, 0x320d, 0x330d, 0x3e0d, 0x3f0d, 0xf00d, 0x0001, 0x5001,
};

static bool at(const cursor *c, size_t off, const void *s, size_t n)
{
	const uint8_t *p = cur_at(c, off, n);
	return p && memcmp(p, s, n) == 0;
}

static bool is_pyc(const cursor *w)
{
	const uint8_t *p = cur_at(w, 0, 4);
	if (!p || p[2] != '\r' || p[3] != '\n')
		return false;
	uint16_t v = (uint16_t)((p[0] << 8) | p[1]);
	for (size_t i = 0; i < sizeof pyc_magics / sizeof pyc_magics[0]; i++)
		if (pyc_magics[i] == v)
			return true;
	return false;
}

/* MZ: a PE when e_lfanew (at 0x3c) points at "PE\0\0" inside the file. ClamAV
 * types both MSEXE; the PE parser decides what is usable. */
static enum ftype refine_mz(const cursor *all)
{
	cursor c = *all;
	uint32_t lfanew;
	if (!cur_seek(&c, 0x3c) || !cur_le32(&c, &lfanew))
		return FT_MSDOS;
	return at(all, lfanew, "PE\0\0", 4) ? FT_PE : FT_MSDOS;
}

/* ClamAV retypes a zip as OOXML when one of the first local headers in the
 * window names a "word/", "xl/" or "ppt/" entry (it needs 22 bytes of name
 * room after the header, as here). When the first headers only look like
 * Office ([Content_Types].xml, docProps/ ...), it reads the whole archive's
 * content types; Ward approximates that by looking at further local headers
 * in the whole buffer, a bounded number of them. */
#define ZIP_LHDR 30u
#define OOXML_NAME_ROOM 22u
#define OOXML_MAX_HEADERS 64u

static enum ftype ooxml_name(const uint8_t *name, size_t n, bool *likely)
{
	static const struct {
		const char *prefix;
		enum ftype type;
	} pfx[] = {{"xl/", FT_OOXML_XL}, {"ppt/", FT_OOXML_PPT}, {"word/", FT_OOXML_WORD}};
	static const char *const office[] = {
		"BinData",
		"mimetype",
		"Contents",
		"docProps/",
		"customXml/",
		"version.xml",
		"settings.xml",
		"_.rels/.rels",
		"[ContentTypes].xml",
		"[Content_Types].xml",
		"Preview/PrvText.txt",
		"META-INF/container.xml",
	};
	for (size_t i = 0; i < sizeof pfx / sizeof pfx[0]; i++) {
		size_t l = strlen(pfx[i].prefix);
		if (n >= l && memcmp(name, pfx[i].prefix, l) == 0)
			return pfx[i].type;
	}
	for (size_t i = 0; i < sizeof office / sizeof office[0]; i++) {
		size_t l = strlen(office[i]);
		if (n >= l && memcmp(name, office[i], l) == 0)
			*likely = true;
	}
	return FT_ZIP;
}

static enum ftype refine_zip(const cursor *all, const cursor *win)
{
	bool likely = false;
	unsigned seen = 0;
	/* First pass: the window, the first three headers with room for a name. */
	for (size_t off = 0; off + 4 <= win->len && seen < 3; off++) {
		if (!at(win, off, "PK\x03\x04", 4))
			continue;
		size_t name = off + ZIP_LHDR;
		if (!cur_fits(win, name, OOXML_NAME_ROOM + 1))
			break;
		seen++;
		enum ftype t = ooxml_name(win->base + name, win->len - name, &likely);
		if (t != FT_ZIP)
			return t;
	}
	if (!likely)
		return FT_ZIP;
	/* Second pass: walk local headers through the whole buffer. */
	size_t off = 0;
	for (unsigned n = 0; n < OOXML_MAX_HEADERS; n++) {
		cursor c = *all;
		uint32_t sig, csize;
		uint16_t flags, namelen, extralen;
		if (!cur_seek(&c, off) || !cur_le32(&c, &sig) || sig != 0x04034b50u)
			break;
		if (!cur_skip(&c, 2) || !cur_le16(&c, &flags) || !cur_skip(&c, 10) ||
		    !cur_le32(&c, &csize) || !cur_skip(&c, 4) || !cur_le16(&c, &namelen) ||
		    !cur_le16(&c, &extralen))
			break;
		const uint8_t *name = cur_take(&c, namelen);
		if (!name)
			break;
		bool dummy = false;
		enum ftype t = ooxml_name(name, namelen, &dummy);
		if (t != FT_ZIP)
			return t;
		/* A data descriptor (flag 8) leaves csize unknown: stop there. */
		if ((flags & 8u) || !cur_skip(&c, extralen) || !cur_skip(&c, csize))
			break;
		off = c.pos;
	}
	return FT_ZIP;
}

/* ---- text detection (file(1)'s ascmagic, as ClamAV uses it) -------------- */

/* Bytes that never appear in text: NUL..ACK, VT, SO..SUB, FS..US, DEL.
 * BEL, BS, TAB, LF, FF, CR and ESC are text; every byte >= 0x80 is allowed
 * (ISO-8859 or "extended ASCII"), which makes UTF-8 "ASCII" too: ClamAV's
 * separate UTF-8 test can never succeed after the ASCII one failed. */
static bool never_text(unsigned c)
{
	if (c < 0x20)
		return !(c == 7 || c == 8 || c == 9 || c == 10 || c == 12 || c == 13 || c == 27);
	return c == 0x7f;
}

static bool is_text_char(unsigned c)
{
	/* "T" class: plain ASCII text; 0x85 (NEL) is also T in file(1)'s table. */
	if (c < 0x80)
		return !never_text(c);
	return c == 0x85;
}

/* ClamAV's UTF-16 test: with a BOM, the byte order it gives; without one,
 * big-endian. Units are read from offset 2 (after where a BOM would be) to
 * the last whole unit. Without a BOM, one unit below 128 that is not a text
 * character rejects; with one, rejection needs such units to reach len/2.
 * A unit 0xfffe rejects. So most binary data with no 00 0x pairs at even
 * offsets counts as UTF-16BE, which is what ClamAV does. */
static bool is_utf16(const uint8_t *p, size_t len)
{
	if (len < 2)
		return false;
	bool bom = (p[0] == 0xff && p[1] == 0xfe) || (p[0] == 0xfe && p[1] == 0xff);
	bool be = !(p[0] == 0xff && p[1] == 0xfe);
	size_t bad = 0;
	for (size_t i = 2; i + 1 < len; i += 2) {
		unsigned c =
			be ? (unsigned)(p[i] << 8 | p[i + 1]) : (unsigned)(p[i + 1] << 8 | p[i]);
		if (c == 0xfffe)
			return false;
		if (c < 128 && !is_text_char(c)) {
			if (!bom)
				return false;
			bad++;
		}
	}
	return !(bom && bad >= len / 2);
}

static enum ftype text_type(const uint8_t *p, size_t len)
{
	bool ascii = true;
	for (size_t i = 0; i < len; i++) {
		if (never_text(p[i])) {
			ascii = false;
			break;
		}
	}
	if (ascii)
		return FT_TEXT_ASCII;
	if (is_utf16(p, len))
		return FT_TEXT_UTF16;
	return FT_BINARY;
}

/* Old-style (pre-POSIX) tar: ClamAV's is_tar() accepts a header whose checksum
 * field (octal, at 148) equals the byte sum with the field itself as spaces. */
static bool is_old_tar(const cursor *w)
{
	const uint8_t *h = cur_at(w, 0, 512);
	if (!h)
		return false;
	uint64_t want = 0;
	size_t i = 148;
	while (i < 156 && h[i] == ' ')
		i++;
	size_t digits = 0;
	for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++)
		want = want * 8 + (uint64_t)(h[i] - '0');
	if (digits == 0 || (i < 156 && h[i] != ' ' && h[i] != 0))
		return false;
	uint64_t sum = 0;
	for (i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum == want;
}

/* ---- type 1: patterns anywhere in the window ----------------------------- */

/* The HTML tags of ClamAV's table, case-sensitive exactly as listed there:
 * lowercase, uppercase, or capitalised, nothing else ("<HtMl>" is not HTML,
 * and "<html lang=..." is not matched by "<html>"). */
static const char *const html_tags[] = {
	"<HEAD>",  "<HTML>",  "<Head>",  "<Html>",  "<IFRAME", "<IMG",   "<Img",
	"<OBJECT", "<Object", "<SCRIPT", "<Script", "<TABLE",  "<head>", "<html>",
	"<iframe", "<img",    "<object", "<script", "<table",
};

static bool is_html(const uint8_t *p, size_t len)
{
	/* Every tag starts with '<': one pass over the '<'s, not one search
	 * per tag (19 byte-by-byte passes were 6% of scanning text). */
	for (size_t at = 0; at < len; at++) {
		const uint8_t *q = memchr(p + at, '<', len - at);
		if (!q)
			break;
		at = (size_t)(q - p);
		for (size_t i = 0; i < sizeof html_tags / sizeof html_tags[0]; i++) {
			size_t tl = strlen(html_tags[i]);
			if (tl <= len - at && memcmp(q, html_tags[i], tl) == 0)
				return true;
		}
	}
	/* "<A " or "<a " followed later by [hH][rR]EF or [hH][rR]ef. */
	for (size_t i = 0; i + 3 <= len; i++) {
		if (p[i] != '<' || (p[i + 1] != 'a' && p[i + 1] != 'A') || p[i + 2] != ' ')
			continue;
		for (size_t j = i + 3; j + 4 <= len; j++) {
			if ((p[j] == 'h' || p[j] == 'H') && (p[j + 1] == 'r' || p[j + 1] == 'R') &&
			    ((p[j + 2] == 'E' && p[j + 3] == 'F') ||
			     (p[j + 2] == 'e' && p[j + 3] == 'f')))
				return true;
		}
		break; /* later "<a " can only find a subset of the same hrefs */
	}
	/* ASP: "<%@ LANGUAGE =" at offset 0. */
	static const char asp[] = "<%@ LANGUAGE =";
	return len >= sizeof asp - 1 && memcmp(p, asp, sizeof asp - 1) == 0;
}

/* "%PDF-" or "%pdf-", any byte, then "." */
static bool is_pdf_anywhere(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 7 <= len; i++) {
		if (p[i] == '%' &&
		    (memcmp(p + i + 1, "PDF-", 4) == 0 || memcmp(p + i + 1, "pdf-", 4) == 0) &&
		    p[i + 6] == '.')
			return true;
	}
	return false;
}

/* Word/Excel 2003 XML: '<?xml version="1.0"' at 0, then within 1024 bytes a
 * root element <wordDocument / <x:wordDocument (Excel: Workbook), or Word's
 * progid processing instruction. */
static enum ftype office_xml(const uint8_t *p, size_t len)
{
	static const char head[] = "<?xml version=\"1.0\"";
	size_t hl = sizeof head - 1;
	if (len < hl || memcmp(p, head, hl) != 0)
		return FT__COUNT;
	const uint8_t *rest = p + hl;
	size_t rl = len - hl; /* the window (1024) bounds ClamAV's {0-1024} gap */
	static const char pid[] = "progid=\"Word.Document\"?>";
	if (memmem(rest, rl, pid, sizeof pid - 1))
		return FT_XML_WORD;
	for (size_t i = 0; i + 1 < rl; i++) {
		if (rest[i] != '<')
			continue;
		const uint8_t *q = rest + i + 1;
		size_t ql = rl - i - 1;
		if (ql >= 3 && q[1] == ':') { /* "<" any byte ":" name */
			if (ql >= 14 && memcmp(q + 2, "wordDocument", 12) == 0)
				return FT_XML_WORD;
			if (ql >= 10 && memcmp(q + 2, "Workbook", 8) == 0)
				return FT_XML_XL;
		}
		if (ql >= 12 && memcmp(q, "wordDocument", 12) == 0)
			return FT_XML_WORD;
		if (ql >= 8 && memcmp(q, "Workbook", 8) == 0)
			return FT_XML_XL;
	}
	return FT__COUNT;
}

/* 0xCAFEBABE then 00 00 00 and a fourth byte: small (< 0x20) is a Mach-O fat
 * binary's architecture count, 0x20..0x3f a Java class major version. */
static enum ftype cafebabe(const uint8_t *p, size_t len)
{
	if (len < 8 || memcmp(p, "\xca\xfe\xba\xbe\x00\x00\x00", 7) != 0)
		return FT__COUNT;
	if (p[7] < 0x20)
		return FT_MACHO_UNIBIN;
	if (p[7] < 0x40)
		return FT_JAVA;
	return FT__COUNT;
}

/* ISO 9660: a volume descriptor "\1CD001" at 0x8000 and another "CD001"
 * 2043..2443 bytes after the first one ends (ClamAV's pattern). */
static bool is_iso9660(const cursor *all)
{
	if (!at(all, 0x8000,
		"\x01"
		"CD001",
		6))
		return false;
	for (size_t off = 0x8006 + 2043; off <= 0x8006 + 2443; off++)
		if (at(all, off, "CD001", 5))
			return true;
	return false;
}

enum ftype ftype_detect(const uint8_t *buf, size_t len)
{
	if (!buf)
		len = 0;
	cursor all = cur_make(buf, len);
	cursor win = cur_make(buf, len < FT_WINDOW ? len : FT_WINDOW);

	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
		const struct magic *m = &magics[i];
		if (!at(&win, m->off, m->bytes, m->len))
			continue;
		if (m->type == FT_PE)
			return refine_mz(&all);
		if (m->type == FT_ZIP)
			return refine_zip(&all, &win);
		return (enum ftype)m->type;
	}
	if (is_pyc(&win))
		return FT_OTHER;

	enum ftype t = text_type(win.base, win.len);
	if (t == FT_BINARY && is_old_tar(&win))
		return FT_TAR;

	/* Type-1 patterns, highest ClamAV rank first: HTML outranks the rest. */
	if (is_html(win.base, win.len))
		return FT_HTML;
	enum ftype x = office_xml(win.base, win.len);
	if (x != FT__COUNT)
		return x;
	/* "??\r\r\n" at 0: Python 3.7+ byte code (ranks above Java and PDF). */
	if (win.len >= 4 && memcmp(win.base + 1, "\r\r\n", 3) == 0)
		return FT_OTHER;
	x = cafebabe(win.base, win.len);
	if (x != FT__COUNT)
		return x;
	if (is_pdf_anywhere(win.base, win.len))
		return FT_PDF;
	if (t == FT_BINARY && is_iso9660(&all))
		return FT_ISO9660;
	return t;
}

/*
 * File formats: type detection, executables (PE, ELF) and containers
 * (everything libarchive opens). Each parser reads untrusted bytes through a
 * bounded cursor and never allocates from a size the file declares.
 */
#ifndef WARD_FORMATS_H
#define WARD_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward_limits.h"
#include "util/util.h"

/* ---- file types (what ClamAV calls CL_TYPE_*) ---- */
enum ftype {
	FT_BINARY = 0, /* CL_TYPE_BINARY_DATA: nothing more specific */
	FT_TEXT_ASCII, /* CL_TYPE_TEXT_ASCII (also UTF-8 without a BOM) */
	FT_TEXT_UTF16, /* CL_TYPE_TEXT_UTF16LE/BE */
	FT_HTML,       /* CL_TYPE_HTML */
	FT_MAIL,       /* CL_TYPE_MAIL */
	FT_PE,         /* CL_TYPE_MSEXE (MZ with a PE header) */
	FT_MSDOS,      /* MZ without a valid PE header */
	FT_ELF,        /* CL_TYPE_ELF */
	FT_MACHO,      /* CL_TYPE_MACHO */
	FT_OLE2,       /* CL_TYPE_MSOLE2 */
	FT_PDF,        /* CL_TYPE_PDF */
	FT_GRAPHICS,   /* GIF, PNG, JPEG, BMP, TIFF */
	FT_FLASH,      /* SWF */
	FT_JAVA,       /* .class */
	FT_ZIP,        /* containers opened with libarchive: */
	FT_GZIP,
	FT_BZIP2,
	FT_XZ,
	FT_7Z,
	FT_RAR,
	FT_CAB,
	FT_TAR,
	FT_CPIO,
	FT_ISO9660,
	FT_ARJ,
	/* Added by the filetype module (additive; see lib/formats/filetype.c): */
	FT_CPIO_OLD,     /* CL_TYPE_CPIO_OLD (binary, either byte order); FT_CPIO is newc */
	FT_CPIO_ODC,     /* CL_TYPE_CPIO_ODC */
	FT_CPIO_CRC,     /* CL_TYPE_CPIO_CRC */
	FT_MACHO_UNIBIN, /* CL_TYPE_MACHO_UNIBIN (fat binary) */
	FT_RTF,          /* CL_TYPE_RTF */
	FT_OOXML_WORD,   /* CL_TYPE_OOXML_WORD: a zip whose entries say docx */
	FT_OOXML_PPT,    /* CL_TYPE_OOXML_PPT */
	FT_OOXML_XL,     /* CL_TYPE_OOXML_XL */
	FT_XML_WORD,     /* CL_TYPE_XML_WORD (Word 2003 XML) */
	FT_XML_XL,       /* CL_TYPE_XML_XL (Excel 2003 XML) */
	FT_AUTOIT,       /* CL_TYPE_AUTOIT: never detected at offset 0, named for .ldb */
	FT_OTHER,        /* a type ClamAV recognises that Ward does not parse (RIFF, CHM, MP3 ...):
			    not text, so no target 7 normalisation */
	FT_ANY,          /* CL_TYPE_ANY: a wildcard in signatures, never detected */
	FT__COUNT
};

/* Detect from the leading bytes (and, for text, a bounded prefix). */
enum ftype ftype_detect(const uint8_t *buf, size_t len);
/* ClamAV's CL_TYPE_* name, e.g. "CL_TYPE_ZIP" (used by the .ldb Container attribute). */
const char *ftype_clamav_name(enum ftype t);
/* Map "CL_TYPE_ZIP" back; -1 when unknown. */
int ftype_from_clamav_name(const char *s, size_t len);
/* True when libarchive should be asked to open it. */
bool ftype_is_container(enum ftype t);

/* ---- executables ---- */
struct exe_section {
	uint64_t rva;        /* virtual address (PE: relative to the image base) */
	uint64_t vsize;      /* virtual size */
	uint64_t raw_offset; /* file offset of the section data */
	uint64_t raw_size;   /* bytes of data in the file (clipped to the file) */
};

enum exe_kind { EXE_NONE = 0, EXE_PE, EXE_ELF };

struct exeinfo {
	uint8_t kind;       /* enum exe_kind */
	bool ep_valid;      /* ClamAV has an EP for the file (always true after
			       * a successful parse; an ELF EP may lie past the end) */
	uint64_t ep;        /* entry point as a FILE offset (what EP+n counts from) */
	uint32_t nsections; /* as declared (NumberOfSections / e_shnum), not capped */
	uint32_t nstored;   /* sections stored below (<= nsections) */
	struct exe_section sections[WARD_MAX_PE_SECTIONS];
	/* PE import table (for .imp): offset/len of nothing; the hash is computed by
	 * pe_imphash on request. */
};

/* Parse a PE file. Returns WARD_OK and fills *out (kind EXE_PE) for a usable PE;
 * WARD_ECORRUPT for a file that is not a PE or whose headers are broken (*out is
 * then kind EXE_NONE). Never reads outside buf. */
ward_err pe_parse(const uint8_t *buf, size_t len, struct exeinfo *out);
/* The .imp hash: MD5 over ClamAV's import-table string, and that string's
 * length (the "size" field of .imp lines). WARD_ECORRUPT when there are no
 * imports or they are malformed; WARD_EUNSUPPORTED for PE32+ (ClamAV 1.4
 * never hashes their imports); WARD_ENOMEM. */
ward_err pe_imphash(const uint8_t *buf, size_t len, const struct exeinfo *pe, uint8_t md5[16],
		    uint64_t *size);
/* Parse an ELF file (32/64-bit, either endianness). As in ClamAV 1.4 (checked
 * with clamscan), the sections for Sx+n/SEx/SL+n are the SECTION HEADERS
 * (sh_offset, sh_size); e_entry maps through the program headers. */
ward_err elf_parse(const uint8_t *buf, size_t len, struct exeinfo *out);

/* ---- containers (libarchive) ---- */
struct archive_limits {
	uint64_t max_filesize; /* member larger than this: skipped, limit noted */
	uint32_t max_files;    /* members visited at most (counting across the walk) */
	uint64_t max_total;    /* bytes extracted at most, all members together */
	uint64_t deadline_ms;  /* now_ms() value after which the walk stops; 0 none */
	uint32_t max_layers;   /* compression layers one stream may stack (gzip in
				 * gzip ...): each is a recursion level in ClamAV, so the
				 * caller passes the levels it has left; 0 means 1 */
};

enum archive_note {
	AN_MAX_FILESIZE = 1,    /* a member was larger than max_filesize */
	AN_MAX_FILES = 2,       /* more members than max_files */
	AN_MAX_SCANSIZE = 4,    /* extraction stopped at max_total */
	AN_MAX_SCANTIME = 8,    /* deadline passed */
	AN_CORRUPT = 16,        /* libarchive reported an error; see the message */
	AN_RATIO = 32,          /* compression ratio past WARD_MAX_INFLATE_RATIO */
	AN_ENCRYPTED = 64,      /* an encrypted member was skipped (added by archive.c) */
	AN_MAX_RECURSION = 128, /* more stacked compression layers than max_layers */
};

/* Called once per regular-file member with its data (owned by the walker,
 * valid during the call). Return WARD_OK to go on; anything else stops the
 * walk and is returned by archive_walk. */
typedef ward_err (*archive_member_fn)(void *ctx, const char *name, const uint8_t *data, size_t len);

/* Walk the members of the archive in buf. *notes gets AN_* bits; msg (may be
 * NULL) gets a description of the first corruption. Returns WARD_OK when the
 * walk ended (also on corruption, which goes to notes), WARD_EUNSUPPORTED when
 * libarchive does not recognise buf as an archive, or the callback's error. */
ward_err archive_walk(const uint8_t *buf, size_t len, const struct archive_limits *lim,
		      archive_member_fn fn, void *ctx, unsigned *notes, char *msg, size_t msglen);

#endif /* WARD_FORMATS_H */

/* File type detection (lib/formats/filetype.c): every magic of ClamAV 1.4's
 * built-in table that Ward models, the 1024-byte window, the text rules, and
 * the CL_TYPE_* name mapping (docs/internals/containers.md). Expected types
 * were checked with `clamscan --debug` ("Recognized ... file") and with target
 * 3/7 signatures, as the document describes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "formats/formats.h"

static enum ftype det(const void *p, size_t n) { return ftype_detect((const uint8_t *)p, n); }
#define DETS(lit) det(lit, sizeof(lit) - 1)

/* A buffer of n filler bytes with s copied at off. */
static uint8_t *with_at(size_t n, uint8_t fill, size_t off, const void *s, size_t sl)
{
	uint8_t *b = malloc(n);
	assert_non_null(b);
	memset(b, fill, n);
	assert_true(off + sl <= n);
	memcpy(b + off, s, sl);
	return b;
}

static void test_executables(void **state)
{
	(void)state;
	/* MZ with e_lfanew -> "PE\0\0": FT_PE; without, FT_MSDOS; both MSEXE. */
	uint8_t pe[0x100] = {'M', 'Z'};
	pe[0x3c] = 0x80;
	memcpy(pe + 0x80, "PE\0\0", 4);
	assert_int_equal(det(pe, sizeof pe), FT_PE);
	pe[0x3c] = 0xf0; /* past the end - 4 */
	assert_int_equal(det(pe, 0xf2), FT_MSDOS);
	assert_int_equal(DETS("MZ"), FT_MSDOS);
	pe[0x3c] = 0xff;
	pe[0x3d] = 0xff;
	pe[0x3e] = 0xff;
	pe[0x3f] = 0xff; /* huge e_lfanew must not overflow */
	assert_int_equal(det(pe, sizeof pe), FT_MSDOS);
	assert_string_equal(ftype_clamav_name(FT_PE), "CL_TYPE_MSEXE");
	assert_string_equal(ftype_clamav_name(FT_MSDOS), "CL_TYPE_MSEXE");
	assert_int_equal(DETS("\x7f"
			      "ELF\x02\x01\x01\x00"),
			 FT_ELF);
	assert_int_equal(DETS("\xce\xfa\xed\xfe...."), FT_MACHO);
	assert_int_equal(DETS("\xcf\xfa\xed\xfe...."), FT_MACHO);
	assert_int_equal(DETS("\xfe\xed\xfa\xce...."), FT_MACHO);
	assert_int_equal(DETS("\xfe\xed\xfa\xcf...."), FT_MACHO);
	/* 0xCAFEBABE: fat Mach-O (small count) or Java class (major 45..63). */
	assert_int_equal(DETS("\xca\xfe\xba\xbe\x00\x00\x00\x02xxxx"), FT_MACHO_UNIBIN);
	assert_int_equal(DETS("\xca\xfe\xba\xbe\x00\x00\x00\x34xxxx"), FT_JAVA);
	assert_int_not_equal(DETS("\xca\xfe\xba\xbe\x00\x00\x00\x44xxxx"), FT_JAVA);
}

static void test_containers(void **state)
{
	(void)state;
	assert_int_equal(DETS("PK\x03\x04\x14\x00"), FT_ZIP);
	assert_int_equal(DETS("PK00PK\x03\x04\x14\x00"), FT_ZIP);
	assert_int_equal(DETS("\x1f\x8b\x08\x00"), FT_GZIP);
	assert_int_equal(DETS("BZh91AY&SY"), FT_BZIP2);
	assert_int_equal(DETS("\xfd"
			      "7zXZ\x00\x00"),
			 FT_XZ);
	assert_int_equal(DETS("7z\xbc\xaf\x27\x1c\x00\x04"), FT_7Z);
	assert_int_equal(DETS("Rar!\x1a\x07\x00"), FT_RAR);
	assert_int_equal(DETS("Rar!\x1a\x07\x01\x00"), FT_RAR);
	assert_int_equal(DETS("MSCF\x00\x00\x00\x00\x10\x00"), FT_CAB);
	assert_int_equal(DETS("MSCF\x01\x00\x00\x00\x10\x00"), FT_BINARY); /* not a cab */
	assert_int_equal(DETS("070701000000"), FT_CPIO);
	assert_int_equal(DETS("070702000000"), FT_CPIO_CRC);
	assert_int_equal(DETS("070707000000"), FT_CPIO_ODC);
	assert_int_equal(DETS("\xc7\x71\x00\x00"), FT_CPIO_OLD);
	assert_int_equal(DETS("\x71\xc7\x00\x00"), FT_CPIO_OLD);
	assert_int_equal(DETS("\x60\xea\x26\x00"), FT_ARJ);
	uint8_t *t = with_at(1024, 0, 257, "ustar", 5);
	assert_int_equal(det(t, 1024), FT_TAR);
	assert_int_equal(det(t, 261), FT_BINARY); /* magic cut off */
	free(t);
	/* Old tar: no magic, a valid header checksum. */
	uint8_t old[512] = {0};
	memcpy(old, "file.txt", 8);
	memcpy(old + 100, "0000644", 7);
	memcpy(old + 124, "00000000005", 11);
	unsigned sum = 0;
	for (size_t i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : old[i];
	snprintf((char *)old + 148, 8, "%06o", sum);
	assert_int_equal(det(old, sizeof old), FT_TAR);
	old[0] ^= 1;
	assert_int_equal(det(old, sizeof old), FT_BINARY);
	/* ISO 9660: descriptors at 0x8000 and 0x8800. */
	size_t n = 0x9000;
	uint8_t *iso = with_at(n, 0, 0x8000,
			       "\x01"
			       "CD001",
			       6);
	assert_int_equal(det(iso, n), FT_BINARY);
	memcpy(iso + 0x8800,
	       "\xff"
	       "CD001",
	       6);
	assert_int_equal(det(iso, n), FT_ISO9660);
	assert_int_equal(det(iso, 0x8803), FT_BINARY);
	free(iso);
	for (int ty = 0; ty < FT__COUNT; ty++) {
		bool c = ftype_is_container((enum ftype)ty);
		bool want = ty == FT_ZIP || ty == FT_GZIP || ty == FT_BZIP2 || ty == FT_XZ ||
			    ty == FT_7Z || ty == FT_RAR || ty == FT_CAB || ty == FT_TAR ||
			    ty == FT_CPIO || ty == FT_CPIO_OLD || ty == FT_CPIO_ODC ||
			    ty == FT_CPIO_CRC || ty == FT_ISO9660 || ty == FT_ARJ ||
			    ty == FT_OOXML_WORD || ty == FT_OOXML_PPT || ty == FT_OOXML_XL;
		assert_int_equal(c, want);
	}
}

/* A zip local header (30 bytes) with the given name and no data. */
static size_t lhdr(uint8_t *p, const char *name)
{
	size_t nl = strlen(name);
	memset(p, 0, 30);
	memcpy(p, "PK\x03\x04", 4);
	p[26] = (uint8_t)nl;
	memcpy(p + 30, name, nl);
	return 30 + nl;
}

static void test_ooxml(void **state)
{
	(void)state;
	uint8_t z[512] = {0};
	lhdr(z, "word/document.xml");
	assert_int_equal(det(z, sizeof z), FT_OOXML_WORD);
	lhdr(z, "xl/workbook.xml");
	assert_int_equal(det(z, sizeof z), FT_OOXML_XL);
	lhdr(z, "ppt/presentation.xml");
	assert_int_equal(det(z, sizeof z), FT_OOXML_PPT);
	memset(z, 0, sizeof z);
	size_t o = lhdr(z, "[Content_Types].xml");
	o += lhdr(z + o, "_rels/.rels");
	o += lhdr(z + o, "docProps/app.xml");
	lhdr(z + o, "word/document.xml");
	assert_int_equal(det(z, sizeof z), FT_OOXML_WORD); /* "likely", then the walk */
	memset(z, 0, sizeof z);
	lhdr(z, "readme.txt");
	assert_int_equal(det(z, sizeof z), FT_ZIP);
	assert_string_equal(ftype_clamav_name(FT_OOXML_WORD), "CL_TYPE_OOXML_WORD");
}

static void test_documents_graphics(void **state)
{
	(void)state;
	assert_int_equal(DETS("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00"), FT_OLE2);
	assert_int_equal(DETS("%PDF-1.7\n"), FT_PDF);
	assert_int_equal(DETS("{\\rtf1\\ansi"), FT_RTF);
	assert_int_equal(DETS("GIF89a\x01\x00"), FT_GRAPHICS);
	assert_int_equal(DETS("\x89PNG\r\n\x1a\n"), FT_GRAPHICS);
	assert_int_equal(DETS("\xff\xd8\xff\xe0"), FT_GRAPHICS);
	assert_int_equal(DETS("BM\x36\x00"), FT_GRAPHICS);
	assert_int_equal(DETS("II*\x00\x08"), FT_GRAPHICS);
	assert_int_equal(DETS("MM\x00\x2a"), FT_GRAPHICS);
	assert_int_equal(DETS("FWS\x0a"), FT_FLASH);
	assert_int_equal(DETS("CWS\x0a"), FT_FLASH);
	assert_int_equal(DETS("ZWS\x0a"), FT_FLASH);
	assert_int_equal(DETS("RIFF\x00\x00\x00\x00WAVE"), FT_OTHER);
	assert_int_equal(DETS("ID3\x03\x00"), FT_OTHER);
	assert_int_equal(DETS("\x16\x0d\x0d\x0a"
			      "abcd"),
			 FT_OTHER); /* .pyc */
	/* PDF: "%PDF-x." anywhere in the first 1024 bytes of text/binary. */
	uint8_t *b = with_at(2000, 'x', 500, "%PDF-1.4", 8);
	assert_int_equal(det(b, 2000), FT_PDF);
	free(b);
	/* The pattern is "%PDF-" any "." (7 bytes): at 1017 it still fits, as
	 * clamscan confirmed with a target 10 signature; at 1018 it does not. */
	b = with_at(2000, 'x', 1017, "%PDF-1.4", 8);
	assert_int_equal(det(b, 2000), FT_PDF);
	free(b);
	b = with_at(2000, 'x', 1018, "%PDF-1.4", 8);
	assert_int_equal(det(b, 2000), FT_TEXT_ASCII);
	free(b);
	b = with_at(2000, 'x', 1016, "%pdf-1.4", 8);
	assert_int_equal(det(b, 2000), FT_PDF);
	free(b);
	assert_int_equal(DETS("<?xml version=\"1.0\"?>\n<w:wordDocument xmlns:w=\"x\">"),
			 FT_XML_WORD);
	assert_int_equal(DETS("<?xml version=\"1.0\"?>\n<Workbook>"), FT_XML_XL);
}

static void test_mail(void **state)
{
	(void)state;
	static const char *const hdrs[] = {
		"From: a@b\n",        "From someone\n", "Received: by x\n",  "Return-Path: <a>\n",
		"Subject: hi\n",      "To: x\n",        "Message-ID: <1>\n", "Delivered-To: a\n",
		"X-Original-To: a\n", "Date: today\n",  ">From x\n",         "v:\r\nReceived: x\n",
	};
	for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++)
		assert_int_equal(det(hdrs[i], strlen(hdrs[i])), FT_MAIL);
	assert_int_equal(DETS("from: a@b\n"), FT_TEXT_ASCII); /* case-sensitive */
	assert_int_equal(DETS("Subject:hi\n"), FT_TEXT_ASCII);
}

static void test_text(void **state)
{
	(void)state;
	assert_int_equal(DETS("hello world\r\n\t\f\a\b\x1b"), FT_TEXT_ASCII);
	assert_int_equal(DETS("caf\xc3\xa9 and Latin-1 caf\xe9"), FT_TEXT_ASCII);
	assert_int_equal(det("", 0), FT_TEXT_ASCII);
	assert_int_equal(det(NULL, 0), FT_TEXT_ASCII);
	/* Any "never in text" byte: not ASCII. Then UTF-16: without a BOM, big-
	 * endian, rejected by one unit < 128 that is not text ("\0\0"). */
	assert_int_equal(DETS("ab\x00\x00 cd\n"), FT_BINARY);
	assert_int_equal(DETS("ab\x00\x01 cd\n"), FT_BINARY);
	assert_int_equal(DETS("a\x01"
			      "bcdef\n"),
			 FT_TEXT_UTF16); /* units 0x6263 ... */
	assert_int_equal(DETS("h\0e\0l\0l\0o\0\n\0"), FT_TEXT_UTF16);
	assert_int_equal(DETS("\xff\xfeh\0e\0l\0"), FT_TEXT_UTF16);
	/* Bytes >= 0x80 are text for the ASCII test, so a BOM alone is ASCII. */
	assert_int_equal(DETS("\xff\xfe\xfe\xff"), FT_TEXT_ASCII);
	assert_int_equal(DETS("\xff\xfe\xfe\xff\x00\x01"), FT_BINARY); /* unit 0xfffe */
	assert_int_equal(DETS("a\x7f"
			      "b\0\0c"),
			 FT_TEXT_UTF16); /* units 0x6200 0x0063 */
	assert_int_equal(DETS("a\x7f"
			      "b\0\0\0c"),
			 FT_BINARY);
	/* The window is 1024 bytes: a NUL pair past it does not count. */
	uint8_t *b = with_at(1100, 'x', 1022, "\0\0", 2);
	assert_int_equal(det(b, 1100), FT_BINARY);
	free(b);
	b = with_at(1100, 'x', 1024, "\0\0", 2);
	assert_int_equal(det(b, 1100), FT_TEXT_ASCII);
	free(b);
}

static void test_html(void **state)
{
	(void)state;
	assert_int_equal(DETS("<html><body>x</body></html>"), FT_HTML);
	assert_int_equal(DETS("<!DOCTYPE html>\n<html lang=en><HEAD>"), FT_HTML);
	assert_int_equal(DETS("text <script>x</script>"), FT_HTML);
	assert_int_equal(DETS("text <IFRAME src=x>"), FT_HTML);
	assert_int_equal(DETS("<Img src=x>"), FT_HTML);
	assert_int_equal(DETS("<a class=x Href=\"y\">"), FT_HTML);
	assert_int_equal(DETS("<A  HREF=x>"), FT_HTML); /* "<A " then anything then HREF */
	assert_int_equal(DETS("<AHREF=x>"), FT_TEXT_ASCII);
	assert_int_equal(DETS("<a x hReF=y>"), FT_TEXT_ASCII); /* "eF" is not "EF"/"ef" */
	assert_int_equal(DETS("<%@ LANGUAGE = VBScript %>"), FT_HTML);
	assert_int_equal(DETS("<HtMl><p>"), FT_TEXT_ASCII);         /* mixed case is not listed */
	assert_int_equal(DETS("<html lang=en><p>"), FT_TEXT_ASCII); /* "<html>" only */
	assert_int_equal(DETS("\x00\x01\x02<html>"), FT_HTML);      /* binary too */
	assert_int_equal(DETS("From: x\n<html>"), FT_MAIL);         /* type 0 first */
	/* Only inside the window, whole. */
	uint8_t *b = with_at(2000, 'x', 1018, "<html>", 6);
	assert_int_equal(det(b, 2000), FT_HTML);
	free(b);
	b = with_at(2000, 'x', 1019, "<html>", 6);
	assert_int_equal(det(b, 2000), FT_TEXT_ASCII);
	free(b);
	assert_int_equal(DETS("%PDF-1.4 <html>"), FT_PDF);    /* type 0 first */
	assert_int_equal(DETS("x %PDF-1.4 <html>"), FT_HTML); /* HTML outranks PDF */
}

static void test_names(void **state)
{
	(void)state;
	for (int ty = 0; ty < FT__COUNT; ty++) {
		const char *n = ftype_clamav_name((enum ftype)ty);
		assert_non_null(n);
		assert_memory_equal(n, "CL_TYPE_", 8);
		if (ty == FT_MSDOS || ty == FT_OTHER)
			continue;
		assert_int_equal(ftype_from_clamav_name(n, strlen(n)), ty);
	}
	assert_string_equal(ftype_clamav_name((enum ftype)999), "CL_TYPE_BINARY_DATA");
	const char *s = "CL_TYPE_ZIPxyz";
	assert_int_equal(ftype_from_clamav_name(s, 11), FT_ZIP);
	assert_int_equal(ftype_from_clamav_name(s, 12), -1);
	assert_int_equal(ftype_from_clamav_name("CL_TYPE_OTHER", 13), -1);
	assert_int_equal(ftype_from_clamav_name("CL_TYPE_GIF", 11), FT_GRAPHICS);
	assert_int_equal(ftype_from_clamav_name("CL_TYPE_RIFF", 12), FT_OTHER);
	assert_int_equal(ftype_from_clamav_name(NULL, 0), -1);
	assert_int_equal(ftype_from_clamav_name("", 0), -1);
}

/* Every Container: name in the official main.ldb must be accepted. */
static void test_main_ldb_containers(void **state)
{
	(void)state;
	char path[1024];
	snprintf(path, sizeof path, "%s/sigs/main.ldb.gz", WARD_SHARED_DIR);
	gzFile f = gzopen(path, "rb");
	if (!f) {
		skip();
		return;
	}
	static char line[1 << 20];
	unsigned found = 0;
	while (gzgets(f, line, sizeof line)) {
		const char *p = line;
		while ((p = strstr(p, "Container:")) != NULL) {
			p += 10;
			size_t n = 0;
			while (p[n] && p[n] != ',' && p[n] != ';' && p[n] != '\n' && p[n] != '\r')
				n++;
			if (n > 8 && memcmp(p, "CL_TYPE_", 8) == 0) {
				if (ftype_from_clamav_name(p, n) < 0)
					fail_msg("unknown container type %.*s", (int)n, p);
				found++;
			}
		}
	}
	gzclose(f);
	assert_true(found > 100);
}

/* The files Debian ships as ClamAV's own test corpus. */
static void test_clamav_testfiles(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		enum ftype want;
	} files[] = {
		{"clam.exe", FT_PE},
		{"clam.zip", FT_ZIP},
		{"clam.7z", FT_7Z},
		{"clam.cab", FT_CAB},
		{"clam.arj", FT_ARJ},
		{"clam.tar.gz", FT_GZIP},
		{"clam.exe.bz2", FT_BZIP2},
		{"clam.newc.cpio", FT_CPIO},
		{"clam.odc.cpio", FT_CPIO_ODC},
		{"clam.bin-le.cpio", FT_CPIO_OLD},
		{"clam.bin-be.cpio", FT_CPIO_OLD},
		{"clam.ole.doc", FT_OLE2},
		{"clam.pdf", FT_PDF},
		{"clam.exe.rtf", FT_RTF},
		{"clam.exe.html", FT_HTML},
		{"clam.mail", FT_MAIL},
		{"clam.ppt", FT_OLE2},
	};
	unsigned seen = 0;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[512];
		snprintf(path, sizeof path, "/usr/share/clamav-testfiles/%s", files[i].name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		static uint8_t buf[1 << 20];
		size_t n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		if (det(buf, n) != files[i].want)
			fail_msg("%s: got %s want %s", files[i].name,
				 ftype_clamav_name(det(buf, n)), ftype_clamav_name(files[i].want));
		seen++;
	}
	if (!seen)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_executables),
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_ooxml),
		cmocka_unit_test(test_documents_graphics),
		cmocka_unit_test(test_mail),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_main_ldb_containers),
		cmocka_unit_test(test_clamav_testfiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

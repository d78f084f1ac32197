/* ClamAV text normalisation (lib/scan/textnorm.c). Every expected output was
 * produced by clamscan 1.4.6: for target 7 with signatures over generated
 * files, for HTML by reading ClamAV's nocomment.html (--leave-temps); see
 * docs/internals/containers.md, "Normalisation". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/textnorm.h"

static void check(bool html, const char *in, size_t inlen, const char *want, size_t wantlen)
{
	size_t cap = 2 * inlen + 16, n = 0;
	uint8_t *out = malloc(cap);
	assert_non_null(out);
	ward_err e = html ? textnorm_html((const uint8_t *)in, inlen, out, cap, &n)
			  : textnorm_ascii((const uint8_t *)in, inlen, out, cap, &n);
	assert_int_equal(e, WARD_OK);
	if (n != wantlen || memcmp(out, want, n) != 0)
		fail_msg("in [%.*s]\n got  [%.*s]\n want [%.*s]", (int)inlen, in, (int)n, out,
			 (int)wantlen, want);
	free(out);
}
#define ASCII(in, want) check(false, in, sizeof(in) - 1, want, sizeof(want) - 1)
#define HTML(in, want) check(true, in, sizeof(in) - 1, want, sizeof(want) - 1)

static void test_ascii(void **state)
{
	(void)state;
	/* Lowercase; white-space runs (TAB LF VT FF CR SP) become one space. */
	ASCII("HELLO    World\tfoo\r\n\n bar.\n", "hello world foo bar. ");
	ASCII("   HELLO", " hello");
	/* Control bytes and bytes >= 0x80 vanish, also inside a space run. */
	ASCII("a \x01 b", "a b");
	ASCII("abc\x00"
	      "def",
	      "abcdef");
	ASCII("caf\xc3\xa9 HELLO", "caf hello");
	ASCII("x\x1b\x1f\x80\xffy", "xy");
	/* Kept: printable ASCII and DEL. */
	ASCII("a!~\x7f{}", "a!~\x7f{}");
	ASCII("", "");
	/* The full byte table, as measured one byte at a time. */
	for (unsigned c = 0; c < 256; c++) {
		uint8_t in[3] = {'a', (uint8_t)c, 'b'}, out[3];
		size_t n;
		assert_int_equal(textnorm_ascii(in, 3, out, 3, &n), WARD_OK);
		if (c >= 'A' && c <= 'Z') {
			assert_int_equal(n, 3);
			assert_int_equal(out[1], c + 32);
		} else if ((c >= 9 && c <= 13) || c == ' ') {
			assert_int_equal(n, 3);
			assert_int_equal(out[1], ' ');
		} else if (c < 0x20 || c >= 0x80) {
			assert_int_equal(n, 2);
		} else {
			assert_int_equal(n, 3);
			assert_int_equal(out[1], c);
		}
	}
}

static void test_html_basic(void **state)
{
	(void)state;
	HTML("<HTML>\n<HEAD><TITLE>My   Page</TITLE></HEAD>\n<!-- a comment HELLO -->\n"
	     "<BODY BGCOLOR = \"#FFFFFF\"   onLoad='Foo()'>\n"
	     "Text  with   SPACES &amp; &lt;entities&gt; &#65;&#x42; &nbsp; &eacute; caf&eacute;\n"
	     "<SCRIPT language=\"JavaScript\">\n  var X = \"Hello   World\"; // comment\n"
	     "  document.write(unescape(\"%41\"));\n</SCRIPT>\n"
	     "<a href=\"http://Example.COM/Path\">Link</a>\n<p>para\ngraph</p>\n</BODY></HTML>\n",
	     "<html><head><title>my page</title></head><body bgcolor=\"#ffffff\" onload=\"foo()\">"
	     "text with spaces & <entities> ab \xa0 \xe9 caf\xe9 <script language=\"javascript\">"
	     "varx=\"helloworld\";//commentdocument.write(unescape(\"%41\"));</script>"
	     "<a href=\"http://example.com/path\">link</a><p>para graph</p></body></html>");
	/* White space: dropped at the start, after tags and comments, at the end. */
	HTML("  <html>  a  ", "<html>a");
	HTML("<b>x</b>   <i> y </i>", "<b>x</b><i>y </i>");
	HTML("<div    >  x  </div  > <a   href = \"A B\"  >y</a>",
	     "<div>x </div><a href=\"a b\">y</a>");
	HTML("tab\ttab\t nul\0nul", "tab tab nulnul");
}

static void test_html_tags(void **state)
{
	(void)state;
	HTML("<a href=Foo.html TITLE = bar>q</a> <img src = 'x.png' / > <br/>",
	     "<a href=foo.html title=bar>q</a><img src=\"x.png\" /><br/>");
	HTML("<p\nclass=\"x\">multi</p\n>", "<p class=\"x\">multi</p>");
	HTML("a < b and c>d <3 <<b>x</b>", "a <b and c>d <3 <<b>x</b>");
	HTML("<?xml version=\"1.0\"?>", "<?xml version=\"1.0\" ?>");
	HTML("<a href=\"x\"title=\"Y\">t</a>", "<a href=\"x\" title=\"y\">t</a>");
	HTML("<img src=a.png alt = 'it''s'> g", "<img src=a.png alt=\"it\" 's'>g");
	HTML("<a href=\"a   b\tc\">x</a> <a href='x\"y'>q</a>",
	     "<a href=\"a b c\">x</a><a href=\"x\"y\">q</a>");
	HTML("<a href=\"&amp;&#65;&lt;X\">q</a>", "<a href=\"&a<x\">q</a>");
	HTML("unclosed <a href=\"x\n", "unclosed <a href=\"x ");
	HTML("<a  b = c d = \"e\"   f>", "<a b=c d=\"e\" f>");
}

static void test_html_comments_scripts(void **state)
{
	(void)state;
	/* Comments and declarations end at the first '>'. */
	HTML("B1 <!-- a > b --> X1", "b1 b --> x1");
	HTML("<!DOCTYPE html> <!-- c1 --> <!--c2--!> <!-- c3 -- > after", "after");
	HTML("<![CDATA[ cdata ]]> x", "x");
	HTML("text <!-- unclosed comment", "text ");
	/* Script and style: all white space dropped, entities decoded. */
	HTML("<SCRIPT>if (a < b) { x = \"A  B\" }</SCRIPT>", "<script>if(a<b){x=\"ab\"}</script>");
	HTML("<style> .A { color : red ; } </style>", "<style>.a{color:red;}</style>");
	HTML("<script>&amp; A&#66; </script> X2", "<script>&ab</script>x2");
	HTML("<script>a<!-- b -->c</SCRIPT> d", "<script>a<!--b-->c</script>d");
	HTML("<script>if(x)</scriptx></script> e", "<script>if(x)</scriptx></script>e");
	HTML("<scr<script>ipt>x  y</script> z", "<scr<script>ipt>x y</script>z");
	/* The "</script  >" quirk: the next space is kept. */
	HTML("<script>\n  a = 1;\n</script  > X5", "<script>a=1;</script> x5");
	HTML("<style>A  B</style  > f", "<style>ab</style> f");
	HTML("<scripty>q  r</scripty> X6", "<scripty>q r</scripty>x6");
}

static void test_html_entities(void **state)
{
	(void)state;
	HTML("A1 &#8364; &euro; &#x20AC; &bogus; &amp &#65 &#0; &#x41424344; x&lt;y",
	     "a1 &#x20ac; &#x20ac; &#x20ac; &bogus; &amp A \0 &#x4344; x<y");
	HTML("&apos; &NewLine; &hellip; &Eacute; &AMP; &eacute; &Amp;",
	     "' &newline; &#x2026; \xc9 &amp; \xe9 &amp;");
	HTML("A&#66;C &#65 B &#x41;&#X41; &#97;", "abc A b aa a");
	HTML("&#x; &#; && &lt &LT; &#65x &#x4a;K &#X4A;", "\0 \0 && &lt &lt; Ax jk j");
	HTML("&nbsp;&copy;&reg;&trade;&mdash;&#160;&#255;&#256;",
	     "\xa0\xa9\xae&#x2122;&#x2014;\xa0&#x00ff;&#x0100;");
	HTML("&#150;&#127;&#128;&#159;&#254; &#x  &# &#65536; &#99999999; &#x10FFFF;",
	     "\x96\x7f\x80\x9f\xfe \0 \0  &#xe0ff; &#xffff;");
}

static void test_limits(void **state)
{
	(void)state;
	uint8_t out[8];
	size_t n = 99;
	assert_int_equal(textnorm_ascii((const uint8_t *)"HELLO WORLD", 11, out, 5, &n),
			 WARD_ELIMIT);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(textnorm_html((const uint8_t *)"&#8364;&#8364;", 14, out, 8, &n),
			 WARD_ELIMIT);
	assert_int_equal(n, 8);
	assert_int_equal(textnorm_ascii(NULL, 0, NULL, 0, &n), WARD_OK);
	assert_int_equal(n, 0);
	assert_int_equal(textnorm_ascii(NULL, 3, out, 8, &n), WARD_EINVAL);
	assert_int_equal(textnorm_html((const uint8_t *)"x", 1, out, 8, NULL), WARD_EINVAL);
	/* The documented bound 2*len+16 holds for the worst expansions. */
	static const char *const worst[] = {"&Mu;&Mu;&Mu;", "&#256&#256", "<a x=\"1\"y=\"2\"z>",
					    "&#x;&#x;", "&#999;"};
	for (size_t i = 0; i < sizeof worst / sizeof worst[0]; i++) {
		size_t l = strlen(worst[i]);
		uint8_t big[128];
		assert_int_equal(textnorm_html((const uint8_t *)worst[i], l, big, 2 * l + 16, &n),
				 WARD_OK);
		assert_true(n <= 2 * l + 16);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii),         cmocka_unit_test(test_html_basic),
		cmocka_unit_test(test_html_tags),     cmocka_unit_test(test_html_comments_scripts),
		cmocka_unit_test(test_html_entities), cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * Unit tests for src/cfgedit/: the brief's example, a corpus of hostile
 * values through every format and back byte for byte (the bytes around
 * the value compared with the original's), errors, .properties import
 * and export by Java's rules, environment names.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfgedit/cfgedit.h"

static const char *corpus[] = {
	"& < > \" ' \\ $ ${x} % #",
	"/gateway/app/refreshTokenByKey.htm",
	"line1\nline2\n",
	"tab\there\t",
	"cr\rhere",
	"crlf\r\nend",
	"中文配置值",
	"emoji 😀 and 𝄞",
	"",
	"  leading spaces",
	"trailing spaces  ",
	" ",
	"=:#!",
	"\\",
	"ends with backslash\\",
	"\\u0041 not an escape",
	"]]> --> <!-- <![CDATA[x]]>",
	"&amp; &#65; &lt;",
	"key = value: #not a comment",
	"\f form feed",
	"\x01 control",
	"42",
	"true",
};

#define NCORPUS (sizeof(corpus) / sizeof(corpus[0]))

static int edit_check(enum cfgedit_format, const char *, size_t, const char *,
    const char *, int, char *, size_t);

/* UTF-8 s converted to charset cs (the test's GBK files). */
static char *
conv(const char *cs, const char *s, size_t *outlen)
{
	iconv_t cd;
	char   *out, *ip, *op;
	size_t	il, ol;

	cd = iconv_open(cs, "UTF-8");
	assert_true(cd != (iconv_t)-1);
	il = strlen(s);
	ol = il * 4 + 16;
	out = calloc(1, ol);
	assert_non_null(out);
	ip = (char *)(uintptr_t)s;
	op = out;
	assert_true(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1);
	*outlen = (size_t)(op - out);
	iconv_close(cd);
	return (out);
}

/*
 * Apply value at path; the bytes before `at` and after `at + len` must
 * be the original's own; get must return value exactly.  Returns 0, or
 * -1 when apply refused (err says why).
 */
static int
edit_roundtrip(enum cfgedit_format f, const char *in, size_t inlen,
    const char *path, const char *value, char *err, size_t errlen)
{
	return (edit_check(f, in, inlen, path, value, 1, err, errlen));
}

/* exact 0: the node's shape changes (<a/>, "key" alone): no byte check. */
static int
edit_check(enum cfgedit_format f, const char *in, size_t inlen,
    const char *path, const char *value, int exact, char *err, size_t errlen)
{
	struct cfgedit_edit e;
	char		   *out = NULL, *got = NULL;
	size_t		    outlen, glen, tail;

	memset(&e, 0, sizeof(e));
	e.path = path;
	e.value = value;
	e.value_len = strlen(value);
	if (cfgedit_apply(f, in, inlen, &e, 1, &out, &outlen, err, errlen) ==
	    -1)
		return (-1);
	assert_true(e.at + e.len <= outlen);
	if (!exact)
		goto get;
	/* Before the value: the original's bytes. */
	assert_true(e.at <= inlen);
	assert_memory_equal(out, in, e.at);
	/* After the value: the original's last bytes. */
	tail = outlen - (e.at + e.len);
	assert_true(tail <= inlen);
	assert_memory_equal(out + e.at + e.len, in + inlen - tail, tail);
get:
	if (cfgedit_get(f, out, outlen, path, &got, &glen, err, errlen) != 0)
		fail_msg("get %s after apply of \"%s\": %s", path, value, err);
	if (glen != strlen(value) || memcmp(got, value, glen) != 0)
		fail_msg("%s: wrote \"%s\", read back \"%.*s\"\n%.*s", path,
		    value, (int)glen, got, (int)outlen, out);
	free(got);
	free(out);
	return (0);
}

static void
expect_get(enum cfgedit_format f, const char *in, size_t inlen,
    const char *path, const char *want)
{
	char   err[CFGEDIT_ERR_MAX], *got = NULL;
	size_t glen;

	if (cfgedit_get(f, in, inlen, path, &got, &glen, err, sizeof(err)) != 0)
		fail_msg("get %s: %s", path, err);
	if (glen != strlen(want) || memcmp(got, want, glen) != 0)
		fail_msg("get %s: \"%.*s\", want \"%s\"", path, (int)glen, got,
		    want);
	free(got);
}

/* apply must fail, with a message holding want. */
static void
expect_fail(enum cfgedit_format f, const char *in, const char *path,
    const char *want)
{
	struct cfgedit_edit e;
	char		    err[CFGEDIT_ERR_MAX], *out = NULL, *got = NULL;
	size_t		    outlen = 0, glen;

	memset(&e, 0, sizeof(e));
	e.path = path;
	e.value = "v";
	e.value_len = 1;
	err[0] = '\0';
	assert_int_equal(cfgedit_apply(f, in, strlen(in), &e, 1, &out, &outlen,
			     err, sizeof(err)),
	    -1);
	assert_null(out);
	if (strstr(err, want) == NULL)
		fail_msg("%s: error \"%s\" does not say \"%s\"", path, err,
		    want);
	assert_int_equal(cfgedit_get(f, in, strlen(in), path, &got, &glen, err,
			     sizeof(err)),
	    -1);
	assert_null(got);
}

static void
test_cfgedit_formats(void **state)
{
	enum cfgedit_format f;

	assert_int_equal(cfgedit_format_parse("xml", &f), 0);
	assert_int_equal(f, CFGEDIT_XML);
	assert_int_equal(cfgedit_format_parse("json", &f), 0);
	assert_int_equal(f, CFGEDIT_JSON);
	assert_int_equal(cfgedit_format_parse("properties", &f), 0);
	assert_int_equal(f, CFGEDIT_PROPERTIES);
	assert_int_equal(cfgedit_format_parse("XML", &f), -1);
	assert_int_equal(cfgedit_format_parse("yaml", &f), -1);
	assert_int_equal(cfgedit_format_parse(NULL, &f), -1);
	assert_string_equal(cfgedit_format_name(CFGEDIT_JSON), "json");
	assert_string_equal(cfgedit_format_name(CFGEDIT_PROPERTIES),
	    "properties");
}

static void
test_cfgedit_brief_example(void **state)
{
	const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			  "<root>\n"
			  "  <!-- the gateway -->\n"
			  "  <nodes>\n"
			  "    <nodes>\n"
			  "      <nodes>/old/url.htm</nodes>\n"
			  "      <nodes>second</nodes>\n"
			  "    </nodes>\n"
			  "  </nodes>\n"
			  "</root>\n";
	const char *xml_want =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<root>\n"
	    "  <!-- the gateway -->\n"
	    "  <nodes>\n"
	    "    <nodes>\n"
	    "      <nodes>/gateway/app/refreshTokenByKey.htm</nodes>\n"
	    "      <nodes>second</nodes>\n"
	    "    </nodes>\n"
	    "  </nodes>\n"
	    "</root>\n";
	const char *json = "{\n"
			   "  \"root\": {\n"
			   "    \"nodes\": [ { \"nodes\": [ { \"nodes\": [\n"
			   "      \"/old/url.htm\", \"second\" ] } ] } ]\n"
			   "  }\n"
			   "}\n";
	const char *json_want =
	    "{\n"
	    "  \"root\": {\n"
	    "    \"nodes\": [ { \"nodes\": [ { \"nodes\": [\n"
	    "      \"/gateway/app/refreshTokenByKey.htm\", \"second\" ] } ] "
	    "} ]\n"
	    "  }\n"
	    "}\n";
	const char	   *path = "root.nodes[0].nodes[0].nodes[0]";
	const char	   *v = "/gateway/app/refreshTokenByKey.htm";
	struct cfgedit_edit e;
	char		    err[CFGEDIT_ERR_MAX], *out;
	size_t		    outlen;

	memset(&e, 0, sizeof(e));
	e.path = path;
	e.value = v;
	e.value_len = strlen(v);
	assert_int_equal(cfgedit_apply(CFGEDIT_XML, xml, strlen(xml), &e, 1,
			     &out, &outlen, err, sizeof(err)),
	    0);
	assert_int_equal(outlen, strlen(xml_want));
	assert_memory_equal(out, xml_want, outlen);
	assert_memory_equal(out + e.at, v, e.len);
	assert_int_equal(e.len, strlen(v));
	free(out);
	expect_get(CFGEDIT_XML, xml, strlen(xml), "root.nodes.nodes.nodes[1]",
	    "second");

	assert_int_equal(cfgedit_apply(CFGEDIT_JSON, json, strlen(json), &e, 1,
			     &out, &outlen, err, sizeof(err)),
	    0);
	assert_int_equal(outlen, strlen(json_want));
	assert_memory_equal(out, json_want, outlen);
	assert_memory_equal(out + e.at, v, e.len);
	free(out);
	expect_get(CFGEDIT_JSON, json, strlen(json),
	    "root.nodes[0].nodes[0].nodes[1]", "second");
}

/* Every corpus value at every place in a UTF-8 XML file with CRLF. */
static void
test_cfgedit_xml_corpus(void **state)
{
	const char *xml = "\xef\xbb\xbf<?xml version=\"1.0\" "
			  "encoding=\"utf-8\"?>\r\n"
			  "<!DOCTYPE cfg [ <!ENTITY e \"x\"> ]>\r\n"
			  "<!-- comment <a>old</a> -->\r\n"
			  "<?pi data?>\r\n"
			  "<cfg:root xmlns:cfg=\"urn:x\">\r\n"
			  "\t<app name=\"old &amp; 'q'\" alt='old \"d\"'>"
			  "<![CDATA[<old>]]></app>\r\n"
			  "\t<app>second &lt;x&gt; &#x4e2d;</app>\r\n"
			  "\t<empty/>\r\n"
			  "\t<empty2 a=\"1\" />\r\n"
			  "\t<cfg:ns>old</cfg:ns>\r\n"
			  "</cfg:root>\r\n"
			  "<!-- trailing -->\r\n";
	const char *paths[] = { "cfg:root.app", "cfg:root.app[1]",
		"cfg:root.app.@name", "cfg:root.app.@alt", "cfg:root.*[4]",
		"*.cfg:ns", "cfg:root.empty", "cfg:root.empty2" };
	char	    err[CFGEDIT_ERR_MAX];
	size_t	    i, k;

	expect_get(CFGEDIT_XML, xml, strlen(xml), "cfg:root.app", "<old>");
	expect_get(CFGEDIT_XML, xml, strlen(xml), "cfg:root.app[1]",
	    "second <x> 中");
	expect_get(CFGEDIT_XML, xml, strlen(xml), "cfg:root.app.@name",
	    "old & 'q'");
	expect_get(CFGEDIT_XML, xml, strlen(xml), "cfg:root.app.@alt",
	    "old \"d\"");
	expect_get(CFGEDIT_XML, xml, strlen(xml), "cfg:root.empty", "");
	for (i = 0; i < NCORPUS; i++) {
		for (k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
			/* The last two are <a/>: they become <a>v</a>. */
			int r = edit_check(CFGEDIT_XML, xml, strlen(xml),
			    paths[k], corpus[i], k < 6, err, sizeof(err));

			/* XML 1.0 cannot hold U+0001 and U+000C. */
			if (strchr(corpus[i], '\x01') != NULL ||
			    strchr(corpus[i], '\f') != NULL) {
				assert_int_equal(r, -1);
				assert_non_null(strstr(err, "XML 1.0"));
				continue;
			}
			if (r != 0)
				fail_msg("%s = \"%s\": %s", paths[k], corpus[i],
				    err);
		}
	}
}

/* <a/> becomes <a>v</a>; the attribute's quote is kept. */
static void
test_cfgedit_xml_shapes(void **state)
{
	const char	   *xml = "<r><a/><b x='1'/><c>t</c></r>";
	struct cfgedit_edit e[4];
	char		    err[CFGEDIT_ERR_MAX], *out;
	size_t		    outlen;

	memset(e, 0, sizeof(e));
	e[0].path = "r.a";
	e[0].value = "v&";
	e[0].value_len = 2;
	e[1].path = "r.b.@x";
	e[1].value = "it's \"q\"\t";
	e[1].value_len = strlen(e[1].value);
	e[2].path = "r.c";
	e[2].value = "first";
	e[2].value_len = 5;
	e[3].path = "r.*[2]";
	e[3].value = "last wins";
	e[3].value_len = 9;
	assert_int_equal(cfgedit_apply(CFGEDIT_XML, xml, strlen(xml), e, 4,
			     &out, &outlen, err, sizeof(err)),
	    0);
	assert_string_equal(out,
	    "<r><a>v&amp;</a><b x='it&apos;s "
	    "\"q\"&#9;'/><c>last wins</c></r>");
	assert_memory_equal(out + e[0].at, "v&amp;", e[0].len);
	assert_memory_equal(out + e[2].at, "last wins", e[2].len);
	assert_memory_equal(out + e[3].at, "last wins", e[3].len);
	free(out);
	/* An empty value keeps <a/> as it is. */
	e[0].value = "";
	e[0].value_len = 0;
	assert_int_equal(cfgedit_apply(CFGEDIT_XML, xml, strlen(xml), e, 1,
			     &out, &outlen, err, sizeof(err)),
	    0);
	assert_string_equal(out, xml);
	free(out);
}

/* A GBK file: Chinese names and text, the declaration kept. */
static void
test_cfgedit_xml_gbk(void **state)
{
	const char *u = "<?xml version=\"1.0\" encoding=\"GBK\"?>\n"
			"<!-- 注释 -->\n"
			"<配置>\n"
			"  <名字 属性=\"值\">旧值</名字>\n"
			"  <网址>http://old/</网址>\n"
			"</配置>\n";
	const char *paths[] = { "配置.名字", "配置.名字.@属性", "配置.网址" };
	char		   *gbk, err[CFGEDIT_ERR_MAX], *out, *got;
	size_t		    len, i, k, outlen, glen;
	struct cfgedit_edit e;

	gbk = conv("GBK", u, &len);
	expect_get(CFGEDIT_XML, gbk, len, "配置.名字", "旧值");
	expect_get(CFGEDIT_XML, gbk, len, "配置.名字.@属性", "值");
	for (i = 0; i < NCORPUS; i++) {
		if (strchr(corpus[i], '\x01') != NULL ||
		    strchr(corpus[i], '\f') != NULL)
			continue;
		for (k = 0; k < 3; k++)
			if (edit_roundtrip(CFGEDIT_XML, gbk, len, paths[k],
				corpus[i], err, sizeof(err)) != 0)
				fail_msg("%s = \"%s\": %s", paths[k], corpus[i],
				    err);
	}
	/* Chinese in GBK bytes; an emoji GBK cannot hold as a reference. */
	memset(&e, 0, sizeof(e));
	e.path = "配置.网址";
	e.value = "新值😀";
	e.value_len = strlen(e.value);
	assert_int_equal(cfgedit_apply(CFGEDIT_XML, gbk, len, &e, 1, &out,
			     &outlen, err, sizeof(err)),
	    0);
	assert_int_equal(e.len, 4 + strlen("&#x1F600;"));
	assert_memory_equal(out + e.at, "\xd0\xc2\xd6\xb5&#x1F600;", e.len);
	assert_int_equal(cfgedit_get(CFGEDIT_XML, out, outlen, e.path, &got,
			     &glen, err, sizeof(err)),
	    0);
	assert_string_equal(got, "新值😀");
	free(got);
	free(out);
	free(gbk);
}

/*
 * Double-byte charsets: GBK's second bytes include ']' (乚 is 81 5D), so
 * "乚]>" inside CDATA is not its end; GB18030 holds an emoji in 4 bytes.
 */
static void
test_cfgedit_xml_multibyte(void **state)
{
	const char *u = "<?xml version='1.0' encoding='gb18030'?>\r\n"
			"<r><a><![CDATA[乚]>]]></a><b>😀</b></r>\r\n";
	char	   *b, err[CFGEDIT_ERR_MAX];
	size_t	    len;

	b = conv("GB18030", u, &len);
	expect_get(CFGEDIT_XML, b, len, "r.a", "乚]>");
	expect_get(CFGEDIT_XML, b, len, "r.b", "😀");
	assert_int_equal(edit_roundtrip(CFGEDIT_XML, b, len, "r.b",
			     "中文 😀 乚]]>", err, sizeof(err)),
	    0);
	free(b);
}

static void
test_cfgedit_xml_errors(void **state)
{
	const char *x = "<root><nodes><a>1</a></nodes><n x=\"1\"/></root>";

	expect_fail(CFGEDIT_XML, x, "root.nodes[3]",
	    "no element \"nodes\" at index 3 (there are 1)");
	expect_fail(CFGEDIT_XML, x, "root.missing", "no element \"missing\"");
	expect_fail(CFGEDIT_XML, x, "other", "the root element is <root>");
	expect_fail(CFGEDIT_XML, x, "root.n.@y", "no attribute \"y\"");
	expect_fail(CFGEDIT_XML, x, "root.*[5]", "no child element");
	expect_fail(CFGEDIT_XML, x, "root.nodes", "has child elements");
	expect_fail(CFGEDIT_XML, x, "root..nodes", "empty step");
	expect_fail(CFGEDIT_XML, x, "root.@x.y", "last step");
	expect_fail(CFGEDIT_XML, "<root><a>1</root>", "root.a",
	    "end tag does not match <a>");
	expect_fail(CFGEDIT_XML, "<root>\n<a>1</a>\n", "root.a",
	    "line 1: unclosed tag \"root\"");
	expect_fail(CFGEDIT_XML, "<root>a & b</root>", "root",
	    "'&' that starts no reference");
	expect_fail(CFGEDIT_XML, "<root a=1/>", "root", "without quotes");
	expect_fail(CFGEDIT_XML, "<r><a x='1' y='2' x=\"3\"/></r>", "r.a.@y",
	    "line 1: attribute \"x\" given twice");
	expect_fail(CFGEDIT_XML, "", "root", "no root element");
	expect_fail(CFGEDIT_XML, "<r/><r/>", "r", "after the root element");
	expect_fail(CFGEDIT_XML, "<r><!-- x </r>", "r", "unclosed comment");
	expect_fail(CFGEDIT_XML,
	    "<?xml version=\"1.0\" encoding=\"NOPE-42\"?><r/>", "r",
	    "unknown encoding");
	expect_fail(CFGEDIT_XML, "\xff\xfe<\0r\0/\0>\0", "r", "UTF-16");
}

static void
test_cfgedit_json_corpus(void **state)
{
	const char	   *json = "\xef\xbb\xbf{\r\n"
				   "  \"ConnectionStrings\": {\r\n"
				   "    \"Default\": \"Server=old;Database=x\"\r\n"
				   "  },\r\n"
				   "  \"Logging\": { \"LogLevel\": { \"Default\": "
				   "\"Information\" } },\r\n"
				   "  \"a.b\": \"dotted\",\r\n"
				   "  \"esc\\u0041\": \"\\ud83d\\ude00\",\r\n"
				   "  \"list\": [ [1, 2], [\"x\", \"y\"] ],\r\n"
				   "  \"n\": 3.5e2, \"t\": true, \"z\": null\r\n"
				   "}\r\n";
	const char	   *paths[] = { "ConnectionStrings.Default",
			"Logging.LogLevel.Default", "\"a.b\"", "escA", "list[1][0]",
			"list[1][1]" };
	char		    err[CFGEDIT_ERR_MAX], *out;
	size_t		    i, k, outlen;
	struct cfgedit_edit e;

	expect_get(CFGEDIT_JSON, json, strlen(json), "\"a.b\"", "dotted");
	expect_get(CFGEDIT_JSON, json, strlen(json), "list[0][1]", "2");
	expect_get(CFGEDIT_JSON, json, strlen(json), "n", "3.5e2");
	expect_get(CFGEDIT_JSON, json, strlen(json), "n[0]", "3.5e2");
	expect_get(CFGEDIT_JSON, json, strlen(json), "z", "null");
	for (i = 0; i < NCORPUS; i++)
		for (k = 0; k < sizeof(paths) / sizeof(paths[0]); k++)
			if (edit_roundtrip(CFGEDIT_JSON, json, strlen(json),
				paths[k], corpus[i], err, sizeof(err)) != 0)
				fail_msg("%s = \"%s\": %s", paths[k], corpus[i],
				    err);
	expect_get(CFGEDIT_JSON, json, strlen(json), "escA", "😀");
	memset(&e, 0, sizeof(e));
	/* Literals: a literal stays one when the new value is one. */
	e.path = "n";
	e.value = "-0.5E+3";
	e.value_len = strlen(e.value);
	assert_int_equal(cfgedit_apply(CFGEDIT_JSON, json, strlen(json), &e, 1,
			     &out, &outlen, err, sizeof(err)),
	    0);
	assert_memory_equal(out + e.at - 1, " -0.5E+3,", 9);
	free(out);
	e.path = "t";
	e.value = "yes";
	e.value_len = 3;
	assert_int_equal(cfgedit_apply(CFGEDIT_JSON, json, strlen(json), &e, 1,
			     &out, &outlen, err, sizeof(err)),
	    0);
	assert_memory_equal(out + e.at - 1, "\"yes\"", 5);
	free(out);
	/* A string stays a string, even for "42". */
	e.path = "\"a.b\"";
	e.value = "42";
	e.value_len = 2;
	assert_int_equal(cfgedit_apply(CFGEDIT_JSON, json, strlen(json), &e, 1,
			     &out, &outlen, err, sizeof(err)),
	    0);
	assert_memory_equal(out + e.at - 1, "\"42\"", 4);
	free(out);
}

static void
test_cfgedit_json_names(void **state)
{
	/* A real newline in the member name, as the JSON escape says. */
	const char *json = "{\"escA\\n\": 1, \"q\\\"\": 2, \"\": 3, "
			   "\"dup\": 4, \"dup\": 5}";

	expect_get(CFGEDIT_JSON, json, strlen(json), "\"escA\n\"", "1");
	expect_get(CFGEDIT_JSON, json, strlen(json), "\"q\\\"\"", "2");
	expect_get(CFGEDIT_JSON, json, strlen(json), "\"\"", "3");
	expect_get(CFGEDIT_JSON, json, strlen(json), "dup", "5");
	expect_get(CFGEDIT_JSON, "[1, [2, 3]]", 11, "[1][1]", "3");
}

static void
test_cfgedit_json_errors(void **state)
{
	const char *j = "{\"a\": {\"b\": [1, 2]}, \"s\": \"x\"}";

	expect_fail(CFGEDIT_JSON, j, "a", "is an object, not a value");
	expect_fail(CFGEDIT_JSON, j, "a.b", "is an array, not a value");
	expect_fail(CFGEDIT_JSON, j, "a.b[2]",
	    "no element at index 2 (there "
	    "are 2)");
	expect_fail(CFGEDIT_JSON, j, "a.c", "no member \"c\"");
	expect_fail(CFGEDIT_JSON, j, "s.x", "not an object");
	expect_fail(CFGEDIT_JSON, j, "s[1]", "not an array");
	expect_fail(CFGEDIT_JSON, j, "a.*", "unexpected '*'");
	expect_fail(CFGEDIT_JSON, "{\"a\": 1,}", "a", "line 1");
	expect_fail(CFGEDIT_JSON, "{\n// c\n\"a\": 1}", "a",
	    "line 2: comments are not allowed");
	expect_fail(CFGEDIT_JSON, "{\"a\": 1", "a", "unclosed object");
	expect_fail(CFGEDIT_JSON, "{\"a\": 01}", "a", "line 1");
	expect_fail(CFGEDIT_JSON, "{\"a\": \"x\ny\"}", "a",
	    "control character");
	expect_fail(CFGEDIT_JSON, "{\"a\": 1} x", "a", "content after");
	expect_fail(CFGEDIT_JSON, "", "a", "no JSON value");
}

static void
test_cfgedit_props_corpus(void **state)
{
	const char *p = "# comment\r\n"
			"! other comment\r\n"
			"first = one\r\n"
			"app.url : http://old/ \\\r\n"
			"    continued\r\n"
			"key\\ with\\ spaces=v\r\n"
			"dup=1\r\n"
			"only.key\r\n"
			"dup=2\r\n"
			"\\u4e2d\\u6587 = 中文\r\n"
			"last = end \\";
	const char *paths[] = { "first", "app.url", "key with spaces", "dup",
		"中文", "last", "only.key" };
	char	    err[CFGEDIT_ERR_MAX];
	size_t	    i, k;

	expect_get(CFGEDIT_PROPERTIES, p, strlen(p), "app.url",
	    "http://old/ continued");
	expect_get(CFGEDIT_PROPERTIES, p, strlen(p), "dup", "2");
	expect_get(CFGEDIT_PROPERTIES, p, strlen(p), "only.key", "");
	expect_get(CFGEDIT_PROPERTIES, p, strlen(p), "中文", "中文");
	expect_get(CFGEDIT_PROPERTIES, p, strlen(p), "last", "end ");
	for (i = 0; i < NCORPUS; i++)
		for (k = 0; k < sizeof(paths) / sizeof(paths[0]); k++)
			/* "only.key" alone gets a '=' before its value. */
			if (edit_check(CFGEDIT_PROPERTIES, p, strlen(p),
				paths[k], corpus[i], k < 6, err,
				sizeof(err)) != 0)
				fail_msg("%s = \"%s\": %s", paths[k], corpus[i],
				    err);
	expect_fail(CFGEDIT_PROPERTIES, p, "missing", "missing: no such key");
	expect_fail(CFGEDIT_PROPERTIES, p, "", "empty");
}

/* The last occurrence is edited, the earlier one left alone. */
static void
test_cfgedit_props_last(void **state)
{
	const char	   *p = "a=1\na=2\nb\n";
	struct cfgedit_edit e[2];
	char		    err[CFGEDIT_ERR_MAX], *out;
	size_t		    outlen;

	memset(e, 0, sizeof(e));
	e[0].path = "a";
	e[0].value = " x=y";
	e[0].value_len = 4;
	e[1].path = "b";
	e[1].value = "v";
	e[1].value_len = 1;
	assert_int_equal(cfgedit_apply(CFGEDIT_PROPERTIES, p, strlen(p), e, 2,
			     &out, &outlen, err, sizeof(err)),
	    0);
	assert_string_equal(out, "a=1\na=\\ x\\=y\nb=v\n");
	free(out);
	/* A key alone at the end of the file, and after a lone '\\'. */
	assert_int_equal(cfgedit_apply(CFGEDIT_PROPERTIES, "a=1\nb", 5, &e[1],
			     1, &out, &outlen, err, sizeof(err)),
	    0);
	assert_string_equal(out, "a=1\nb=v");
	assert_int_equal(e[1].at, 6);
	free(out);
	assert_int_equal(cfgedit_apply(CFGEDIT_PROPERTIES, "b=x\\", 4, &e[1], 1,
			     &out, &outlen, err, sizeof(err)),
	    0);
	assert_string_equal(out, "b=v");
	free(out);
	/* One bad edit of two: nothing is written. */
	out = NULL;
	e[1].path = "nope";
	assert_int_equal(cfgedit_apply(CFGEDIT_PROPERTIES, p, strlen(p), e, 2,
			     &out, &outlen, err, sizeof(err)),
	    -1);
	assert_null(out);
	assert_string_equal(err, "nope: no such key");
}

static void
test_cfgedit_props_parse(void **state)
{
	const char	    *p = "# comment \\\n"
				 "  ! also a comment\n"
				 "a = b \\\n"
				 "     c \\\r\n"
				 "\td\n"
				 "key\\ with\\ spaces = v1\n"
				 "a:b=c\n"
				 "\\u4e2d\\u6587=\\u503c\n"
				 "empty=\n"
				 "keyonly\n"
				 "   spaced   value with  spaces  \n"
				 "crlf=1\r\n"
				 "cr=2\r"
				 "esc=\\t\\n\\r\\f\\x\\\\\\=\n"
				 "\\#notcomment=1\n"
				 "emoji=\\ud83d\\ude00\n"
				 "tail=x\\";
	struct cfgedit_prop *props;
	size_t		     n, i;
	char		     err[CFGEDIT_ERR_MAX];
	struct {
		const char *k, *v;
		int	    line;
	} want[] = {
		/* "a" again on line 7 ("a:b=c": key "a", value "b=c"). */
		{ "a", "b=c", 7 },
		{ "key with spaces", "v1", 6 },
		{ "中文", "值", 8 },
		{ "empty", "", 9 },
		{ "keyonly", "", 10 },
		{ "spaced", "value with  spaces  ", 11 },
		{ "crlf", "1", 12 },
		{ "cr", "2", 13 },
		{ "esc", "\t\n\r\fx\\=", 14 },
		{ "#notcomment", "1", 15 },
		{ "emoji", "😀", 16 },
		{ "tail", "x", 17 },
	};

	assert_int_equal(cfgedit_props_parse(p, strlen(p), &props, &n, err,
			     sizeof(err)),
	    0);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++) {
		if (strcmp(props[i].key, want[i].k) != 0 ||
		    strcmp(props[i].value, want[i].v) != 0 ||
		    props[i].line != want[i].line)
			fail_msg("entry %zu: [%s]=[%s] line %d, want [%s]=[%s] "
				 "line %d",
			    i, props[i].key, props[i].value, props[i].line,
			    want[i].k, want[i].v, want[i].line);
		assert_int_equal(props[i].key_len, strlen(want[i].k));
		assert_int_equal(props[i].value_len, strlen(want[i].v));
	}
	/* "a = b c d" of line 3 alone: the continuations. */
	cfgedit_props_free(props, n);
	assert_int_equal(cfgedit_props_parse(p, 52, &props, &n, err,
			     sizeof(err)),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(props[0].value, "b c d");
	assert_int_equal(props[0].line, 3);
	cfgedit_props_free(props, n);

	/* Latin-1 bytes (not UTF-8) read as Latin-1. */
	assert_int_equal(cfgedit_props_parse("k=caf\xe9\n", 7, &props, &n, err,
			     sizeof(err)),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(props[0].value, "café");
	cfgedit_props_free(props, n);

	assert_int_equal(cfgedit_props_parse("a=1\nb=\\u12x4\n", 13, &props, &n,
			     err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "line 2"));
	assert_int_equal(cfgedit_props_parse("\n\nx=\\ud800\n", 11, &props, &n,
			     err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "line 3"));
	assert_int_equal(cfgedit_props_parse("", 0, &props, &n, err,
			     sizeof(err)),
	    0);
	assert_int_equal(n, 0);
	cfgedit_props_free(props, n);
}

static void
test_cfgedit_props_write(void **state)
{
	struct cfgedit_prop in[NCORPUS + 3], *back;
	size_t		    n = 0, i, nb, outlen;
	char		    err[CFGEDIT_ERR_MAX], *out;

	for (i = 0; i < NCORPUS; i++) {
		char key[64];

		(void)snprintf(key, sizeof(key), "k %zu=:#!\\ 中", i);
		in[n].key = strdup(key);
		in[n].key_len = strlen(key);
		in[n].value = strdup(corpus[i]);
		in[n].value_len = strlen(corpus[i]);
		n++;
	}
	in[n].key = strdup("#starts with hash");
	in[n].value = strdup("!bang");
	in[n].key_len = strlen(in[n].key);
	in[n].value_len = strlen(in[n].value);
	n++;
	in[n].key = strdup(" lead");
	in[n].value = strdup("emoji 😀");
	in[n].key_len = strlen(in[n].key);
	in[n].value_len = strlen(in[n].value);
	n++;
	assert_int_equal(cfgedit_props_write(in, n, "Yard export\n第二行", &out,
			     &outlen),
	    0);
	assert_int_equal(strlen(out), outlen);
	for (i = 0; i < outlen; i++)
		assert_true((unsigned char)out[i] < 0x80);
	assert_memory_equal(out, "# Yard export\n# \\u7B2C", 22);
	assert_int_equal(cfgedit_props_parse(out, outlen, &back, &nb, err,
			     sizeof(err)),
	    0);
	assert_int_equal(nb, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(back[i].key_len, in[i].key_len);
		assert_memory_equal(back[i].key, in[i].key, in[i].key_len);
		if (back[i].value_len != in[i].value_len ||
		    memcmp(back[i].value, in[i].value, in[i].value_len) != 0)
			fail_msg("%s: [%s], want [%s]", in[i].key,
			    back[i].value, in[i].value);
	}
	cfgedit_props_free(back, nb);
	free(out);
	/* A NUL in a value is refused. */
	free(in[0].value);
	in[0].value = malloc(2);
	memcpy(in[0].value, "a\0", 2);
	in[0].value_len = 2;
	assert_int_equal(cfgedit_props_write(in, n, NULL, &out, &outlen), -1);
	for (i = 0; i < n; i++) {
		free(in[i].key);
		free(in[i].value);
	}
}

static void
test_cfgedit_paths(void **state)
{
	char err[CFGEDIT_ERR_MAX];

	assert_int_equal(cfgedit_path_check(CFGEDIT_XML,
			     "root.nodes[0].nodes[0].nodes[0]", err,
			     sizeof(err)),
	    0);
	assert_int_equal(cfgedit_path_check(CFGEDIT_XML, "a.*[2].@x", err,
			     sizeof(err)),
	    0);
	assert_int_equal(cfgedit_path_check(CFGEDIT_XML, "a.\"b.c\"", err,
			     sizeof(err)),
	    0);
	assert_int_equal(cfgedit_path_check(CFGEDIT_JSON, "a[1][2].b", err,
			     sizeof(err)),
	    0);
	assert_int_equal(cfgedit_path_check(CFGEDIT_JSON, "[0].\"x.y\"", err,
			     sizeof(err)),
	    0);
	assert_int_equal(cfgedit_path_check(CFGEDIT_PROPERTIES,
			     "any key [with] . and @", err, sizeof(err)),
	    0);
	assert_int_equal(cfgedit_path_check(CFGEDIT_XML, "", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(cfgedit_path_check(CFGEDIT_XML, "a.b[x]", err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "at byte 4"));
	assert_int_equal(cfgedit_path_check(CFGEDIT_XML, "a.b[1", err,
			     sizeof(err)),
	    -1);
	assert_int_equal(cfgedit_path_check(CFGEDIT_XML, "a.b[1][2]", err,
			     sizeof(err)),
	    -1);
	assert_int_equal(cfgedit_path_check(CFGEDIT_XML, "a.@b.c", err,
			     sizeof(err)),
	    -1);
	assert_int_equal(cfgedit_path_check(CFGEDIT_XML, "@b", err,
			     sizeof(err)),
	    -1);
	assert_int_equal(cfgedit_path_check(CFGEDIT_XML, "a[1].b", err,
			     sizeof(err)),
	    -1);
	assert_int_equal(cfgedit_path_check(CFGEDIT_XML, "a.b.", err,
			     sizeof(err)),
	    -1);
	assert_int_equal(cfgedit_path_check(CFGEDIT_XML, "a b", err,
			     sizeof(err)),
	    -1);
	assert_int_equal(cfgedit_path_check(CFGEDIT_JSON, "a.\"b", err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "not closed"));
	assert_int_equal(cfgedit_path_check(CFGEDIT_JSON, "a.[1]", err,
			     sizeof(err)),
	    -1);
	assert_int_equal(cfgedit_path_check(CFGEDIT_JSON, "a[999999999999]",
			     err, sizeof(err)),
	    -1);
	assert_int_equal(cfgedit_path_check(CFGEDIT_PROPERTIES, "", err,
			     sizeof(err)),
	    -1);
	{
		char long_path[CFGEDIT_PATH_MAX + 2];

		memset(long_path, 'a', sizeof(long_path) - 1);
		long_path[sizeof(long_path) - 1] = '\0';
		assert_int_equal(cfgedit_path_check(CFGEDIT_JSON, long_path,
				     err, sizeof(err)),
		    -1);
	}
	{
		char many[CFGEDIT_STEPS_MAX * 2 + 4];
		int  i;

		for (i = 0; i < CFGEDIT_STEPS_MAX + 1; i++) {
			many[2 * i] = 'a';
			many[2 * i + 1] = '.';
		}
		many[2 * i - 1] = '\0';
		assert_int_equal(cfgedit_path_check(CFGEDIT_JSON, many, err,
				     sizeof(err)),
		    -1);
		assert_non_null(strstr(err, "steps"));
	}
}

static void
test_cfgedit_env_names(void **state)
{
	char out[64];

	assert_int_equal(cfgedit_env_name("ConnectionStrings:Default", out,
			     sizeof(out)),
	    0);
	assert_string_equal(out, "ConnectionStrings__Default");
	assert_int_equal(cfgedit_env_name("spring.datasource.url", out,
			     sizeof(out)),
	    0);
	assert_string_equal(out, "spring__datasource__url");
	assert_int_equal(cfgedit_env_name("_x1", out, sizeof(out)), 0);
	assert_string_equal(out, "_x1");
	assert_int_equal(cfgedit_env_name("1abc", out, sizeof(out)), -1);
	assert_int_equal(cfgedit_env_name("a-b", out, sizeof(out)), -1);
	assert_int_equal(cfgedit_env_name("a b", out, sizeof(out)), -1);
	assert_int_equal(cfgedit_env_name("中文", out, sizeof(out)), -1);
	assert_int_equal(cfgedit_env_name("", out, sizeof(out)), -1);
	assert_int_equal(cfgedit_env_name("abcd", out, 4), -1);
	assert_int_equal(cfgedit_env_name("abc", out, 4), 0);
	assert_int_equal(cfgedit_env_name("a.b", out, 4), -1);
	assert_int_equal(cfgedit_env_name("a.b", out, 5), 0);
	assert_string_equal(out, "a__b");
}

/* A NUL in a value is refused; two edits of one node: the last wins. */
static void
test_cfgedit_values(void **state)
{
	struct cfgedit_edit e[2];
	char		    err[CFGEDIT_ERR_MAX], *out = NULL;
	size_t		    outlen;

	memset(e, 0, sizeof(e));
	e[0].path = "a";
	e[0].value = "x\0y";
	e[0].value_len = 3;
	assert_int_equal(cfgedit_apply(CFGEDIT_JSON, "{\"a\":1}", 7, e, 1, &out,
			     &outlen, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "NUL"));
	e[0].value = "\xff";
	e[0].value_len = 1;
	assert_int_equal(cfgedit_apply(CFGEDIT_JSON, "{\"a\":1}", 7, e, 1, &out,
			     &outlen, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "UTF-8"));
	assert_int_equal(cfgedit_apply(CFGEDIT_XML, "<a/>", 4, e, 1, &out,
			     &outlen, err, sizeof(err)),
	    -1);
	e[0].value = "first";
	e[0].value_len = 5;
	e[1].path = "a";
	e[1].value = "second";
	e[1].value_len = 6;
	assert_int_equal(cfgedit_apply(CFGEDIT_JSON, "{\"a\":1}", 7, e, 2, &out,
			     &outlen, err, sizeof(err)),
	    0);
	assert_string_equal(out, "{\"a\":\"second\"}");
	assert_int_equal(e[0].at, e[1].at);
	free(out);
	/* No edits: the same bytes. */
	assert_int_equal(cfgedit_apply(CFGEDIT_XML, "<a/>", 4, e, 0, &out,
			     &outlen, err, sizeof(err)),
	    0);
	assert_string_equal(out, "<a/>");
	free(out);
}

/* The examples of docs/config.md, "Nodepaths and formats". */
static void
test_cfgedit_doc_examples(void **state)
{
	const char *cfg = "<configuration><appSettings>\n"
			  "  <add key=\"Url\" value=\"http://old/\"/>"
			  "<add key=\"Db\" value=\"x\"/>\n"
			  "</appSettings></configuration>";
	const char *servers = "{\"servers\":[{\"host\":\"a\",\"port\":80}]}";
	const char *beans = "<beans><bean id=\"ds\"><property "
			    "name=\"url\">jdbc:old</property></bean></beans>";
	const char *app = "{\n"
			  "  \"ConnectionStrings\": { \"Default\": "
			  "\"Server=db;Database=app\" },\n"
			  "  \"Logging\": { \"LogLevel\": { \"Default\": "
			  "\"Information\" } },\n"
			  "  \"Endpoints\": [ { \"Url\": \"http://a/\" }, { "
			  "\"Url\": \"http://b/\" } ]\n"
			  "}";

	expect_get(CFGEDIT_XML, cfg, strlen(cfg),
	    "configuration.appSettings.add[1].@value", "x");
	expect_get(CFGEDIT_XML, cfg, strlen(cfg),
	    "configuration.*[0].*[1].@value", "x");
	expect_get(CFGEDIT_XML, beans, strlen(beans), "beans.bean.property",
	    "jdbc:old");
	expect_get(CFGEDIT_JSON, servers, strlen(servers), "servers[0].port",
	    "80");
	expect_get(CFGEDIT_JSON, "[{\"url\":\"x\"}]", 13, "[0].url", "x");
	expect_get(CFGEDIT_JSON, "{\"log4j.level\":\"INFO\"}", 22,
	    "\"log4j.level\"", "INFO");
	expect_get(CFGEDIT_JSON, app, strlen(app), "ConnectionStrings.Default",
	    "Server=db;Database=app");
	expect_get(CFGEDIT_JSON, app, strlen(app), "Logging.LogLevel.Default",
	    "Information");
	expect_get(CFGEDIT_JSON, app, strlen(app), "Endpoints[1].Url",
	    "http://b/");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfgedit_formats),
		cmocka_unit_test(test_cfgedit_brief_example),
		cmocka_unit_test(test_cfgedit_xml_corpus),
		cmocka_unit_test(test_cfgedit_xml_shapes),
		cmocka_unit_test(test_cfgedit_xml_gbk),
		cmocka_unit_test(test_cfgedit_xml_multibyte),
		cmocka_unit_test(test_cfgedit_xml_errors),
		cmocka_unit_test(test_cfgedit_json_corpus),
		cmocka_unit_test(test_cfgedit_json_names),
		cmocka_unit_test(test_cfgedit_json_errors),
		cmocka_unit_test(test_cfgedit_props_corpus),
		cmocka_unit_test(test_cfgedit_props_last),
		cmocka_unit_test(test_cfgedit_props_parse),
		cmocka_unit_test(test_cfgedit_props_write),
		cmocka_unit_test(test_cfgedit_paths),
		cmocka_unit_test(test_cfgedit_env_names),
		cmocka_unit_test(test_cfgedit_values),
		cmocka_unit_test(test_cfgedit_doc_examples),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

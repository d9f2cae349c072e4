/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one INI reader (core/ini.c over inih): what it hands to callers, and
 * the message it gives for each kind of malformed line. */
#include <string.h>

#include "check.h"
#include "inifile.h"
#include "internal.h"

typedef struct seen {
	char log[2048];
	int fail_on_line; /* the callback refuses the item on this line (0 = never) */
} seen;

static int collect(const mg_ini_item *it, void *ud)
{
	seen *s = ud;
	size_t k = strlen(s->log);
	if (it->key)
		snprintf(s->log + k, sizeof s->log - k, "%ld:%s.%s=%s|", it->line, it->section, it->key, it->value);
	else
		snprintf(s->log + k, sizeof s->log - k, "%ld:[%s]|", it->line, it->section);
	if (it->line == s->fail_on_line)
		return mg_ini_fail(it, "%s: refused", it->key ? it->key : it->section);
	return 0;
}

static int parse(const char *text, seen *s)
{
	memset(s->log, 0, sizeof s->log);
	return mg_ini_parse(text, strlen(text), "t.ini", "test", collect, s);
}

static void check_fails(const char *text, const char *want)
{
	seen s = {0};
	int rc = parse(text, &s);
	CHECK_MSG(rc == MG_ERR_FORMAT, "'%s' gave %d", text, rc);
	CHECK_MSG(strstr(mg_error_detail(), want) != NULL, "'%s': detail '%s' lacks '%s'", text, mg_error_detail(),
	          want);
}

static void test_items(void)
{
	seen s = {0};
	const char *text = "\xEF\xBB\xBF; a comment\n# another\n[tube]\r\nkv = 40 # inline\n"
	                   "  anode=Rh\n\n[ geometry ]\nangle : 45 ; inline too\nempty =\nurl = a#b\n";
	CHECK_RC(parse(text, &s), 0);
	CHECK_MSG(strcmp(s.log, "3:[tube]|4:tube.kv=40|5:tube.anode=Rh|7:[geometry]|8:geometry.angle=45|"
	                        "9:geometry.empty=|10:geometry.url=a#b|") == 0,
	          "%s", s.log);
	/* a callback's failure stops the parse and is returned as it is */
	s.fail_on_line = 5;
	CHECK_RC(parse(text, &s), MG_ERR_FORMAT);
	CHECK_MSG(strstr(mg_error_detail(), "t.ini line 5: anode: refused"), "%s", mg_error_detail());
	CHECK_MSG(strstr(s.log, "7:") == NULL, "went on after the failure: %s", s.log);
	/* no text, no lines */
	s.fail_on_line = 0;
	CHECK_RC(parse("", &s), 0);
	CHECK(s.log[0] == '\0');
	/* last line without an end of line; lone CR line ends */
	CHECK_RC(parse("[a]\rk = v", &s), 0);
	CHECK_MSG(strcmp(s.log, "1:[a]|2:a.k=v|") == 0, "%s", s.log);
}

static void test_errors(void)
{
	check_fails("[tube\n", "t.ini line 1: a section header needs a closing ']'");
	check_fails("[]\n", "line 1: empty section name");
	check_fails("[tube]\nkv\n", "line 2: expected '[section]' or 'key = value', got 'kv'");
	check_fails("[tube]\n= 4\n", "line 2: a value without a key");
	check_fails("kv = 4\n", "line 1: 'kv' before any [section]");
	check_fails("[tube]\nkv = 4\x0c\n", "line 2: control character 0x0c");
	char longline[400];
	memset(longline, 'x', sizeof longline);
	memcpy(longline, "[a]\nk = ", 8);
	longline[sizeof longline - 1] = '\0';
	check_fails(longline, "line 2: longer than 198 bytes");
	seen s = {0};
	CHECK_RC(mg_ini_parse("a\0b", 3, "bin.ini", "test", collect, &s), MG_ERR_FORMAT);
	CHECK(strstr(mg_error_detail(), "bin.ini: binary data") != NULL);
}

typedef struct vals {
	double d;
	long l;
	int b, c;
	char t[8];
} vals;

static int values(const mg_ini_item *it, void *ud)
{
	vals *v = ud;
	static const char *const paths[] = {"vacuum", "air", "helium", NULL};
	if (!it->key)
		return 0;
	if (mg_ini_key_is(it, "d"))
		return mg_ini_double(it, 0, 50, &v->d);
	if (mg_ini_key_is(it, "l"))
		return mg_ini_long(it, 1, 10, &v->l);
	if (mg_ini_key_is(it, "b"))
		return mg_ini_bool(it, &v->b);
	if (mg_ini_key_is(it, "c"))
		return mg_ini_choice(it, paths, &v->c);
	if (mg_ini_key_is(it, "t"))
		return mg_ini_text(it, v->t, sizeof v->t);
	return mg_ini_fail(it, "unknown key '%s' in [%s]", it->key, it->section);
}

static void check_value(const char *text, int want_rc, const char *want)
{
	vals v = {0};
	int rc = mg_ini_parse(text, strlen(text), "v.ini", "test", values, &v);
	CHECK_MSG(rc == want_rc, "'%s' gave %d: %s", text, rc, mg_error_detail());
	if (want)
		CHECK_MSG(strstr(mg_error_detail(), want) != NULL, "'%s': '%s' lacks '%s'", text, mg_error_detail(), want);
}

static void test_values(void)
{
	vals v = {0};
	const char *ok = "[s]\nd = 40.5\nl = 7\nb = Yes\nc = Helium\nt = abc\n";
	CHECK_RC(mg_ini_parse(ok, strlen(ok), "v.ini", "test", values, &v), 0);
	CHECK_NEAR(v.d, 40.5, 0);
	CHECK(v.l == 7 && v.b == 1 && v.c == 2 && strcmp(v.t, "abc") == 0);
	check_value("[s]\nd = forty\n", MG_ERR_FORMAT, "v.ini line 2: d: 'forty' is not a number");
	check_value("[s]\nd = 500\n", MG_ERR_FORMAT, "line 2: d = 500 outside [0, 50]");
	check_value("[s]\nd = nan\n", MG_ERR_FORMAT, "d: 'nan' is not a number");
	check_value("[s]\nl = 11\n", MG_ERR_FORMAT, "l: '11' is not a whole number from 1 to 10");
	check_value("[s]\nb = maybe\n", MG_ERR_FORMAT, "b: 'maybe' is not yes or no");
	check_value("[s]\nc = nitrogen\n", MG_ERR_FORMAT, "c: 'nitrogen' is not vacuum, air or helium");
	check_value("[s]\nt = abcdefgh\n", MG_ERR_FORMAT, "t wants 1..7 characters");
	check_value("[s]\nt =\n", MG_ERR_FORMAT, "t wants 1..7 characters");
	check_value("[s]\nzz = 1\n", MG_ERR_FORMAT, "line 2: unknown key 'zz' in [s]");
}

int main(void)
{
	test_items();
	test_errors();
	test_values();
	return mg_test_finish("test_ini");
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one INI reader (core/inifile.h): inih splits sections, keys and values;
 * this file feeds it one checked line at a time (so it knows the line number
 * of every item and can explain a malformed line), reports section headers,
 * and gives the value helpers their common messages. */
#include <ctype.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "inifile.h"
#include "internal.h"
#include "text.h"

#if INI_MAX_LINE < MG_INI_MAX_LINE + 2
#error "inih's line buffer is smaller than MG_INI_MAX_LINE"
#endif

typedef struct reader {
	const char *text;
	size_t len, pos;
	mg_ini_item item;   /* file, domain, line and section of the line being read */
	char section[MG_INI_MAX_LINE + 1];
	mg_ini_fn fn;
	void *userdata;
	int rc;             /* first failure, 0 while all is well */
} reader;

void mg_ini_show(const char *s, size_t n, char *buf, size_t size)
{
	size_t k = 0;
	for (size_t i = 0; i < n && i < 40 && k + 1 < size; i++)
		buf[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (size)
		buf[k] = '\0';
}

int mg_ini_fail(const mg_ini_item *it, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return mg_fail(MG_ERR_FORMAT, it->domain, "%s line %ld: %s", it->file, it->line, msg);
}

/* The comment part of a line: ';' or '#' at its start or after a blank. */
static size_t without_comment(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] == '#' || s[i] == ';') && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t'))
			return i;
	return n;
}

/* Check one line and report a section header; 1 = hand (s, n) to inih,
 * 0 = nothing to hand (blank, comment or header), negative = malformed. */
static int check_line(reader *r, const char *s, size_t n)
{
	mg_ini_item *it = &r->item;
	char show[48];
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t')
			return mg_ini_fail(it, "control character 0x%02x", c);
	}
	n = without_comment(s, n);
	mg_trim(&s, &n);
	if (n == 0)
		return 0;
	if (s[0] == '[') {
		if (n < 2 || s[n - 1] != ']')
			return mg_ini_fail(it, "a section header needs a closing ']'");
		const char *name = s + 1;
		size_t nn = n - 2;
		mg_trim(&name, &nn);
		if (nn == 0)
			return mg_ini_fail(it, "empty section name");
		memcpy(r->section, name, nn);
		r->section[nn] = '\0';
		it->section = r->section;
		it->section_len = nn;
		it->key = NULL;
		it->key_len = 0;
		it->value = NULL;
		it->value_len = 0;
		int rc = r->fn(it, r->userdata);
		return rc < 0 ? rc : 0;
	}
	const char *eq = NULL;
	for (size_t i = 0; i < n && !eq; i++)
		if (s[i] == '=' || s[i] == ':')
			eq = s + i;
	if (!eq) {
		mg_ini_show(s, n, show, sizeof show);
		return mg_ini_fail(it, "expected '[section]' or 'key = value', got '%s'", show);
	}
	const char *k = s;
	size_t kn = (size_t)(eq - s);
	mg_trim(&k, &kn);
	if (kn == 0)
		return mg_ini_fail(it, "a value without a key");
	if (it->section_len == 0) {
		mg_ini_show(k, kn, show, sizeof show);
		return mg_ini_fail(it, "'%s' before any [section]", show);
	}
	return 1;
}

/* inih's reader: the next line, checked, without leading blanks (so inih
 * never takes an indented line for a continuation). NULL ends the parse. */
static char *next_line(char *buf, int size, void *stream)
{
	reader *r = stream;
	for (;;) {
		if (r->rc < 0 || r->pos >= r->len)
			return NULL;
		const char *s = r->text + r->pos;
		size_t n = 0, rest = r->len - r->pos;
		while (n < rest && s[n] != '\n' && s[n] != '\r')
			n++;
		size_t eol = n;
		if (eol < rest && s[eol] == '\r' && eol + 1 < rest && s[eol + 1] == '\n')
			eol++;
		r->pos += eol < rest ? eol + 1 : eol;
		r->item.line++;
		if (n > MG_INI_MAX_LINE) {
			r->rc = mg_ini_fail(&r->item, "longer than %d bytes", MG_INI_MAX_LINE);
			return NULL;
		}
		int rc = check_line(r, s, n);
		if (rc < 0) {
			r->rc = rc;
			return NULL;
		}
		if (rc == 0)
			continue;
		n = without_comment(s, n);
		mg_trim(&s, &n);
		if ((int)n + 1 > size) { /* cannot happen: MG_INI_MAX_LINE < INI_MAX_LINE */
			r->rc = mg_fail(MG_ERR_INTERNAL, r->item.domain, "INI line buffer too small");
			return NULL;
		}
		memcpy(buf, s, n);
		buf[n] = '\0';
		return buf;
	}
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	(void)section; /* the reader's own copy: untruncated and trimmed */
	reader *r = user;
	if (r->rc < 0)
		return 1;
	mg_ini_item *it = &r->item;
	it->key = name;
	it->key_len = strlen(name);
	it->value = value ? value : "";
	it->value_len = strlen(it->value);
	int rc = r->fn(it, r->userdata);
	it->key = NULL;
	it->value = NULL;
	if (rc < 0) {
		r->rc = rc;
		return 0;
	}
	return 1;
}

int mg_ini_parse(const char *text, size_t len, const char *file, const char *domain, mg_ini_fn fn,
                 void *userdata)
{
	if (!file)
		file = "(memory)";
	if (!domain)
		domain = "ini";
	if ((!text && len) || !fn)
		return mg_fail(MG_ERR_ARG, domain, "%s: no text or no callback", file);
	if (len && mg_looks_binary(text, len))
		return mg_fail(MG_ERR_FORMAT, domain, "%s: binary data, not a text file", file);
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 byte-order mark */
		text += 3;
		len -= 3;
	}
	reader r = {.text = text, .len = len, .fn = fn, .userdata = userdata};
	r.item.file = file;
	r.item.domain = domain;
	r.item.section = r.section;
	int line = ini_parse_stream(next_line, &r, on_pair, &r);
	if (r.rc < 0)
		return r.rc;
	if (line != 0) /* every malformed line is caught before inih sees it */
		return mg_fail(MG_ERR_FORMAT, domain, "%s line %d: malformed line", file, line);
	return 0;
}

/* ---------------------------------------------------------------- values */

int mg_ini_key_is(const mg_ini_item *it, const char *key)
{
	return it->key && mg_equals_ci(it->key, it->key_len, key);
}

int mg_ini_section_is(const mg_ini_item *it, const char *section)
{
	return mg_equals_ci(it->section, it->section_len, section);
}

int mg_ini_double(const mg_ini_item *it, double lo, double hi, double *out)
{
	double v;
	char show[48];
	if (mg_parse_double(it->value, it->value_len, &v) < 0) {
		mg_ini_show(it->value, it->value_len, show, sizeof show);
		return mg_ini_fail(it, "%s: '%s' is not a number", it->key, show);
	}
	if (!(v >= lo && v <= hi))
		return mg_ini_fail(it, "%s = %g outside [%g, %g]", it->key, v, lo, hi);
	*out = v;
	return 0;
}

int mg_ini_long(const mg_ini_item *it, long lo, long hi, long *out)
{
	char show[48];
	if (mg_parse_long(it->value, it->value_len, lo, hi, out) < 0) {
		mg_ini_show(it->value, it->value_len, show, sizeof show);
		return mg_ini_fail(it, "%s: '%s' is not a whole number from %ld to %ld", it->key, show, lo, hi);
	}
	return 0;
}

int mg_ini_bool(const mg_ini_item *it, int *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < MG_ARRAY_SIZE(yes); i++) {
		if (mg_equals_ci(it->value, it->value_len, yes[i])) {
			*out = 1;
			return 0;
		}
		if (mg_equals_ci(it->value, it->value_len, no[i])) {
			*out = 0;
			return 0;
		}
	}
	char show[48];
	mg_ini_show(it->value, it->value_len, show, sizeof show);
	return mg_ini_fail(it, "%s: '%s' is not yes or no", it->key, show);
}

int mg_ini_text(const mg_ini_item *it, char *buf, size_t cap)
{
	if (it->value_len == 0 || it->value_len >= cap)
		return mg_ini_fail(it, "%s wants 1..%zu characters", it->key, cap - 1);
	memcpy(buf, it->value, it->value_len);
	buf[it->value_len] = '\0';
	return 0;
}

int mg_ini_choice(const mg_ini_item *it, const char *const *names, int *out)
{
	for (int i = 0; names[i]; i++)
		if (mg_equals_ci(it->value, it->value_len, names[i])) {
			*out = i;
			return 0;
		}
	char show[48], list[160] = "";
	mg_ini_show(it->value, it->value_len, show, sizeof show);
	for (int i = 0; names[i]; i++) {
		size_t k = strlen(list);
		snprintf(list + k, sizeof list - k, "%s%s", i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
	}
	return mg_ini_fail(it, "%s: '%s' is not %s", it->key, show, list);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Text helpers shared by the format writers and readers: exact number
 * formatting, latin-1/UTF-8 decoding and encoding, and the "carry" lines
 * (fields.h keys) that make a round trip exact for whatever a native header
 * cannot express; the byte-order mark, binary-byte and excerpt helpers every
 * text reader needs. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "formats.h"
#include "internal.h"
#include "text.h"

#define DOM "format"

void mg_fmt_skip_bom(const unsigned char **data, size_t *len)
{
	if (*len >= 3 && (*data)[0] == 0xef && (*data)[1] == 0xbb && (*data)[2] == 0xbf) {
		*data += 3;
		*len -= 3;
	}
}

/* Offset of the first byte no text file holds, or -1. */
long mg_fmt_first_binary(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		if (c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != 0x1a)
			return (long)i;
	}
	return -1;
}

int mg_fmt_refuse_binary(const unsigned char *p, size_t len, const char *dom)
{
	long bad = mg_fmt_first_binary(p, len);
	if (bad < 0)
		return MG_OK;
	long line = 1;
	for (long i = 0; i < bad; i++)
		line += p[i] == '\n';
	return mg_fail_line(MG_ERR_FORMAT, dom, line, "binary byte 0x%02x at offset %zu", p[bad], (size_t)bad);
}

const char *mg_fmt_excerpt(const char *s, size_t n, char *buf, size_t size)
{
	size_t m = n < size - 1 ? n : size - 1;
	for (size_t i = 0; i < m; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[m] = '\0';
	return buf;
}

/* Shortest decimal text that reads back as exactly v ("120.005", "4096",
 * "0.009999"), without an exponent for ordinary magnitudes. */
void mg_fmt_num(char *buf, size_t size, double v)
{
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, size, "%.*g", p, v);
		if (strtod(buf, NULL) != v)
			continue;
		if (strchr(buf, 'e') && fabs(v) >= 1e-4 && fabs(v) < 1e15) {
			char tmp[64];
			int dec = p - 1 - (int)floor(log10(fabs(v)));
			snprintf(tmp, sizeof(tmp), "%.*f", dec < 0 ? 0 : dec, v);
			if (strtod(tmp, NULL) == v && strlen(tmp) < size)
				memcpy(buf, tmp, strlen(tmp) + 1);
		}
		return;
	}
	snprintf(buf, size, "%.17g", v);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	size_t len;
	unsigned v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, v = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, v = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, v = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static int utf8_valid(const unsigned char *s, size_t n)
{
	unsigned cp;
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_seq(s + i, n - i, &cp)))
			return 0;
	return 1;
}

/* A text value from a file as a UTF-8 heap string: kept as it is when it is
 * valid UTF-8, else read as latin-1 (Amptek software and most EMSA writers). */
char *mg_fmt_text_decode(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	if (utf8_valid(u, n))
		return mg_strndup_view(s, n);
	char *out = malloc(2 * n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (u[i] < 0x80) {
			*o++ = (char)u[i];
		} else {
			*o++ = (char)(0xc0 | (u[i] >> 6));
			*o++ = (char)(0x80 | (u[i] & 0x3f));
		}
	}
	*o = '\0';
	return out;
}

/* Append a UTF-8 value as file text. With `latin1`, in latin-1 when every
 * character has a latin-1 byte and those bytes cannot be mistaken for UTF-8
 * (so that mg_fmt_text_decode gives the same string back), else in UTF-8.
 * Control characters (line breaks included) become spaces. */
void mg_fmt_text_put(mg_buf *b, const char *s, int latin1)
{
	size_t n = strlen(s);
	const unsigned char *u = (const unsigned char *)s;
	char *tmp = malloc(n + 1);
	if (!tmp) {
		b->failed = 1;
		return;
	}
	size_t m = 0;
	latin1 = latin1 && utf8_valid(u, n);
	unsigned cp;
	for (size_t i = 0, k; latin1 && i < n; i += k) {
		k = utf8_seq(u + i, n - i, &cp);
		if (cp > 0xff)
			latin1 = 0;
		else
			tmp[m++] = (char)cp;
	}
	if (!latin1 || utf8_valid((const unsigned char *)tmp, m)) {
		memcpy(tmp, s, n); /* ASCII, or UTF-8 that latin-1 cannot carry */
		m = n;
	}
	for (size_t i = 0; i < m; i++)
		if ((unsigned char)tmp[i] < 0x20 && tmp[i] != '\t')
			tmp[i] = ' ';
	mg_buf_append(b, tmp, m);
	free(tmp);
}

/* 1 if a value reads back unchanged from a "key: value" line: no control
 * characters and no white space at either end. */
int mg_fmt_text_clean(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return n == 0 || (!isspace((unsigned char)s[0]) && !isspace((unsigned char)s[n - 1]));
}

static int has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return 1;
	return 0;
}

static int same_comment(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The "key: value" lines (core/fields.h keys, meta as "meta.KEY" with '%',
 * ':' and control bytes of KEY as %XX, a meta entry's comment on the next
 * line as "# text") that turn `got` (what a
 * file's native part reads back as) into `want`. A field set in `got` but not
 * in `want` cannot be unset and is left as it is. */
int mg_fmt_carry_diff(const mg_spectrum *want, const mg_spectrum *got, mg_buf *lines)
{
	mg_spectrum w = *want, g = *got;
	mg_buf wb, gb;
	mg_buf_init(&wb);
	mg_buf_init(&gb);
	memset(&w.meta, 0, sizeof(w.meta));
	memset(&g.meta, 0, sizeof(g.meta));
	mg_fields_write(&w, &wb, "", ": ");
	mg_fields_write(&g, &gb, "", ": ");
	int rc = mg_buf_status(&wb) != MG_OK ? mg_buf_status(&wb) : mg_buf_status(&gb);
	for (size_t i = 0; rc == MG_OK && i < wb.len;) {
		const char *l = wb.data + i, *e = memchr(l, '\n', wb.len - i);
		size_t n = (size_t)(e - l);
		int found = 0;
		for (size_t j = 0; !found && j < gb.len;) {
			const char *gl = gb.data + j, *ge = memchr(gl, '\n', gb.len - j);
			found = (size_t)(ge - gl) == n && memcmp(gl, l, n) == 0;
			j = (size_t)(ge - gb.data) + 1;
		}
		if (!found && !has_control(l, n)) {
			mg_buf_append(lines, l, n);
			mg_buf_puts(lines, "\n");
		}
		i = (size_t)(e - wb.data) + 1;
	}
	mg_buf_free(&wb);
	mg_buf_free(&gb);
	if (rc != MG_OK)
		return rc;
	char *used = calloc(got->meta.count + 1, 1);
	if (!used)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	for (size_t i = 0; i < want->meta.count; i++) {
		const mg_kv *kv = &want->meta.items[i];
		size_t j;
		for (j = 0; j < got->meta.count; j++) {
			const mg_kv *o = &got->meta.items[j];
			if (!used[j] && strcmp(o->key, kv->key) == 0 && strcmp(o->value, kv->value) == 0 &&
			    same_comment(o->comment, kv->comment))
				break;
		}
		if (j < got->meta.count) {
			used[j] = 1;
			continue;
		}
		if (!*kv->key || has_control(kv->value, strlen(kv->value))) {
			mg_dbg(DOM, "meta '%s' has no text form; not written", kv->key);
			continue;
		}
		/* the key with '%', ':' and control bytes as %XX, so any key reads back */
		mg_buf_puts(lines, "meta.");
		for (const unsigned char *k = (const unsigned char *)kv->key; *k; k++) {
			if (*k == '%' || *k == ':' || *k < 0x20 || *k == 0x7f)
				mg_buf_printf(lines, "%%%02X", *k);
			else
				mg_buf_append(lines, k, 1);
		}
		mg_buf_printf(lines, ": %s\n", kv->value);
		if (kv->comment && !has_control(kv->comment, strlen(kv->comment)))
			mg_buf_printf(lines, "# %s\n", kv->comment);
	}
	for (size_t j = 0; j < got->meta.count; j++)
		if (!used[j])
			mg_dbg(DOM, "meta '%s' appears on writing", got->meta.items[j].key);
	free(used);
	return mg_buf_status(lines);
}

/* Apply one line written by mg_fmt_carry_diff. 1 = applied, <0 = bad line
 * (detail recorded). Keys this version does not know are kept in meta as
 * "magassay.KEY". */
int mg_fmt_carry_apply(mg_spectrum *s, const char *line, int *last_meta)
{
	if (line[0] == '#') {
		const char *c = line + 1;
		if (*c == ' ')
			c++;
		if (!*last_meta || s->meta.count == 0)
			return mg_fail(MG_ERR_FORMAT, DOM, "a '# comment' line that follows no meta entry");
		*last_meta = 0;
		return mg_str_set(&s->meta.items[s->meta.count - 1].comment, c) == MG_OK ? 1 : MG_ERR_NOMEM;
	}
	const char *sep = strstr(line, ": ");
	size_t kn, ln = strlen(line);
	const char *value;
	if (sep) {
		kn = (size_t)(sep - line);
		value = sep + 2;
	} else if (ln && line[ln - 1] == ':') {
		kn = ln - 1; /* "key:" whose trailing blank an editor removed */
		value = "";
	} else {
		return mg_fail(MG_ERR_FORMAT, DOM, "expected 'key: value', got '%.40s'", line);
	}
	if (kn == 0)
		return mg_fail(MG_ERR_FORMAT, DOM, "empty key in '%.40s'", line);
	char *key = mg_strndup_view(line, kn);
	if (!key)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	if (strncmp(key, "meta.", 5) == 0) { /* undo the %XX of mg_fmt_carry_diff */
		char *o = key + 5;
		for (const char *k = key + 5; *k; k++) {
			unsigned v;
			if (*k == '%' && sscanf(k + 1, "%2x", &v) == 1 && isxdigit((unsigned char)k[1]) &&
			    isxdigit((unsigned char)k[2]) && v != 0) {
				*o++ = (char)v;
				k += 2;
			} else {
				*o++ = *k;
			}
		}
		*o = '\0';
	}
	int rc = mg_fields_set(s, key, value);
	*last_meta = strncmp(key, "meta.", 5) == 0;
	if (rc == 0) {
		char *k2 = malloc(kn + 10);
		if (k2) {
			snprintf(k2, kn + 10, "magassay.%s", key);
			mg_warn(DOM, "unknown magassay field '%s' kept in meta as '%s'", key, k2);
			rc = mg_kvlist_add(&s->meta, k2, value, NULL) == MG_OK ? 1 : MG_ERR_NOMEM;
			*last_meta = 1;
			free(k2);
		} else {
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
		}
	}
	free(key);
	return rc;
}

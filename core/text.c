/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "text.h"

void mg_lines_init(mg_lines *it, const void *data, size_t len)
{
	it->data = data;
	it->len = len;
	it->pos = 0;
	it->lineno = 0;
}

int mg_lines_next(mg_lines *it, const char **line, size_t *n)
{
	if (it->pos >= it->len)
		return 0;
	size_t start = it->pos, end = start;
	while (end < it->len && it->data[end] != '\n' && it->data[end] != '\r')
		end++;
	*line = it->data + start;
	*n = end - start;
	if (end < it->len && it->data[end] == '\r') {
		end++;
		if (end < it->len && it->data[end] == '\n')
			end++; /* CRLF ends one line */
	} else if (end < it->len) {
		end++; /* LF */
	}
	it->pos = end;
	it->lineno++;
	return 1;
}

void mg_trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

int mg_starts_with_ci(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	if (n < k)
		return 0;
	for (size_t i = 0; i < k; i++)
		if (tolower((unsigned char)s[i]) != tolower((unsigned char)prefix[i]))
			return 0;
	return 1;
}

int mg_equals_ci(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && mg_starts_with_ci(s, n, word);
}

int mg_parse_double(const char *s, size_t n, double *out)
{
	char tmp[128];
	mg_trim(&s, &n);
	if (n == 0 || n >= sizeof(tmp))
		return MG_ERR_FORMAT;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* Only plain decimal notation: strtod would also take "nan", "inf" and hex. */
	for (size_t i = 0; i < n; i++) {
		char c = tmp[i];
		if (!(isdigit((unsigned char)c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
			return MG_ERR_FORMAT;
	}
	char *end;
	errno = 0;
	double v = strtod(tmp, &end);
	if (end == tmp || *end != '\0' || errno == ERANGE || !isfinite(v))
		return MG_ERR_FORMAT;
	*out = v;
	return MG_OK;
}

int mg_parse_long(const char *s, size_t n, long min, long max, long *out)
{
	double v;
	if (mg_parse_double(s, n, &v) != MG_OK)
		return MG_ERR_FORMAT;
	if (v != floor(v) || v < (double)min || v > (double)max)
		return MG_ERR_FORMAT;
	*out = (long)v;
	return MG_OK;
}

char *mg_strndup_view(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int mg_looks_binary(const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		if (c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != 0x1a)
			return 1;
	}
	return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The small field readers shared by the ICP method, QC profile, sequence and
 * vendor CSV parsers: views, comma lists, element symbols, yes/no, limits,
 * values with an uncertainty, line specs, and splitting a delimited record.
 * The INI files themselves are read by core/inifile.h. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "icp_internal.h"
#include "internal.h"
#include "text.h"

int icp_view_eq(const char *s, size_t n, const char *word)
{
	return mg_equals_ci(s, n, word);
}

int icp_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n + 1 > cap)
		return MG_ERR_FORMAT;
	memcpy(dst, s, n);
	dst[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)dst[i] < 0x20)
			return MG_ERR_FORMAT;
	return MG_OK;
}

int icp_list_next(const char **s, size_t *n, const char **item, size_t *item_len)
{
	if (*n == 0)
		return 0;
	const char *p = *s;
	size_t k = 0;
	while (k < *n && p[k] != ',')
		k++;
	*item = p;
	*item_len = k;
	mg_trim(item, item_len);
	if (k < *n) {
		*s = p + k + 1;
		*n -= k + 1; /* a trailing comma ends the list */
	} else {
		*s = p + k;
		*n = 0;
	}
	return 1;
}

int icp_parse_element(const char *s, size_t n, char out[4])
{
	mg_trim(&s, &n);
	if (n < 1 || n > 2 || !isupper((unsigned char)s[0]) || (n == 2 && !islower((unsigned char)s[1])))
		return MG_ERR_FORMAT;
	memcpy(out, s, n);
	out[n] = '\0';
	return MG_OK;
}

int icp_parse_bool(const char *s, size_t n, int *out)
{
	if (icp_view_eq(s, n, "yes") || icp_view_eq(s, n, "true") || icp_view_eq(s, n, "on") || icp_view_eq(s, n, "1"))
		*out = 1;
	else if (icp_view_eq(s, n, "no") || icp_view_eq(s, n, "false") || icp_view_eq(s, n, "off") ||
	         icp_view_eq(s, n, "0"))
		*out = 0;
	else
		return MG_ERR_FORMAT;
	return MG_OK;
}

int icp_parse_limits(const char *s, size_t n, mg_icp_limits *out)
{
	mg_trim(&s, &n);
	out->lo = out->hi = NAN;
	if (icp_view_eq(s, n, "none") || icp_view_eq(s, n, "off"))
		return MG_OK;
	const char *c = memchr(s, ',', n);
	if (!c) {
		/* "90-110": a '-' that is not a sign */
		for (size_t i = 1; i < n; i++)
			if ((s[i] == '-' || s[i] == ':') && (isdigit((unsigned char)s[i - 1]) || s[i - 1] == ' ' || s[i - 1] == '.')) {
				c = s + i;
				break;
			}
	}
	if (!c)
		return MG_ERR_FORMAT;
	const char *a = s, *b = c + 1;
	size_t an = (size_t)(c - s), bn = n - an - 1;
	mg_trim(&a, &an);
	mg_trim(&b, &bn);
	if (an && !icp_view_eq(a, an, "none") && mg_parse_double(a, an, &out->lo) != MG_OK)
		return MG_ERR_FORMAT;
	if (bn && !icp_view_eq(b, bn, "none") && mg_parse_double(b, bn, &out->hi) != MG_OK)
		return MG_ERR_FORMAT;
	if (isfinite(out->lo) && isfinite(out->hi) && out->lo > out->hi)
		return MG_ERR_FORMAT;
	return MG_OK;
}

int icp_parse_value_u(const char *s, size_t n, double *v, double *u)
{
	mg_trim(&s, &n);
	*u = NAN;
	static const char *seps[] = {"\xc2\xb1", "+/-", "+-"};
	for (size_t k = 0; k < 3; k++) {
		size_t sl = strlen(seps[k]);
		for (size_t i = 0; i + sl <= n; i++)
			if (memcmp(s + i, seps[k], sl) == 0) {
				if (mg_parse_double(s, i, v) != MG_OK || mg_parse_double(s + i + sl, n - i - sl, u) != MG_OK ||
				    *u < 0)
					return MG_ERR_FORMAT;
				return MG_OK;
			}
	}
	return mg_parse_double(s, n, v);
}

int icp_parse_line_spec(const char *s, size_t n, char el[4], double *nm)
{
	mg_trim(&s, &n);
	size_t k = 0;
	while (k < n && isalpha((unsigned char)s[k]))
		k++;
	if (icp_parse_element(s, k, el) != MG_OK)
		return MG_ERR_FORMAT;
	const char *w = s + k;
	size_t wn = n - k;
	mg_trim(&w, &wn);
	if (wn > 2 && icp_view_eq(w + wn - 2, 2, "nm")) {
		wn -= 2;
		mg_trim(&w, &wn);
	}
	if (mg_parse_double(w, wn, nm) != MG_OK || !(*nm >= 100 && *nm <= 1000))
		return MG_ERR_FORMAT;
	return MG_OK;
}

void icp_line_set(mg_icp_line *l, const char *el, double nm, int is_std)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->element, sizeof(l->element), "%s", el);
	l->wavelength_nm = nm;
	snprintf(l->label, sizeof(l->label), "%s %.3f", el, nm);
	l->is_internal_std = is_std;
}

int icp_csv_split(const char *line, size_t n, char sep, char *buf, size_t bufcap, const char **fields,
                  size_t maxfields)
{
	size_t nf = 0, o = 0, i = 0;
	for (;;) {
		if (nf >= maxfields)
			return MG_ERR_FORMAT;
		/* skip leading blanks (not the separator itself) */
		while (i < n && (line[i] == ' ' || (line[i] == '\t' && sep != '\t')))
			i++;
		if (o >= bufcap)
			return MG_ERR_FORMAT;
		fields[nf++] = buf + o;
		if (i < n && line[i] == '"') {
			i++;
			for (;;) {
				if (i >= n)
					return MG_ERR_FORMAT; /* unterminated quote */
				if (line[i] == '"') {
					if (i + 1 < n && line[i + 1] == '"') {
						if (o + 1 >= bufcap)
							return MG_ERR_FORMAT;
						buf[o++] = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				if (o + 1 >= bufcap)
					return MG_ERR_FORMAT;
				buf[o++] = line[i++];
			}
			while (i < n && (line[i] == ' ' || (line[i] == '\t' && sep != '\t')))
				i++;
			if (i < n && line[i] != sep)
				return MG_ERR_FORMAT; /* text after the closing quote */
		} else {
			size_t start = o;
			while (i < n && line[i] != sep) {
				if (o + 1 >= bufcap)
					return MG_ERR_FORMAT;
				buf[o++] = line[i++];
			}
			while (o > start && (buf[o - 1] == ' ' || buf[o - 1] == '\t'))
				o--;
		}
		buf[o++] = '\0';
		if (i >= n)
			break;
		i++; /* the separator */
	}
	return (int)nf;
}

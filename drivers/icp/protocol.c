/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES profile mechanics: command templates (compile, expand), glob
 * matching of *IDN? fields, and the parsing of spectral windows and plasma
 * status as the profile describes them. Pure functions (see protocol.h). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "drivers/icp/protocol.h"
#include "internal.h"

#define DOM "icp"

static const struct {
	const char *name;
	mg_icp_var var;
	char kind; /* 'i' int, 'd' double, 's' string */
} vars[] = {
	{"index", MG_ICP_VAR_INDEX, 'i'},         {"index0", MG_ICP_VAR_INDEX0, 'i'},
	{"element", MG_ICP_VAR_ELEMENT, 's'},     {"wavelength", MG_ICP_VAR_WAVELENGTH, 'd'},
	{"label", MG_ICP_VAR_LABEL, 's'},         {"is", MG_ICP_VAR_IS, 'i'},
	{"seconds", MG_ICP_VAR_SECONDS, 'd'},     {"count", MG_ICP_VAR_COUNT, 'i'},
	{"position", MG_ICP_VAR_POSITION, 'i'},   {"line", MG_ICP_VAR_LINE, 'i'},
	{"line0", MG_ICP_VAR_LINE0, 'i'},         {"replicate", MG_ICP_VAR_REPLICATE, 'i'},
	{"replicate0", MG_ICP_VAR_REPLICATE0, 'i'},
};

unsigned mg_icp_var_mask(const int *v)
{
	unsigned m = 0;
	for (; *v; v++)
		m |= 1u << *v;
	return m;
}

static int var_index(mg_icp_var v)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(vars); i++)
		if (vars[i].var == v)
			return (int)i;
	return -1;
}

void mg_icp_template_free(mg_icp_template *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nseg; i++)
		free(t->seg[i].text);
	free(t->seg);
	free(t->source);
	memset(t, 0, sizeof(*t));
}

static int add_seg(mg_icp_template *t, const mg_icp_segment *s)
{
	mg_icp_segment *n = realloc(t->seg, (t->nseg + 1) * sizeof(*n));
	if (!n)
		return MG_ERR_NOMEM;
	t->seg = n;
	t->seg[t->nseg++] = *s;
	return MG_OK;
}

static int add_text(mg_icp_template *t, const char *p, size_t n)
{
	if (!n)
		return MG_OK;
	mg_icp_segment s = {0};
	s.text = malloc(n + 1);
	if (!s.text)
		return MG_ERR_NOMEM;
	memcpy(s.text, p, n);
	s.text[n] = '\0';
	if (add_seg(t, &s)) {
		free(s.text);
		return MG_ERR_NOMEM;
	}
	return MG_OK;
}

int mg_icp_template_compile(const char *src, unsigned allowed, mg_icp_template *t)
{
	memset(t, 0, sizeof(*t));
	size_t n = strlen(src);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)src[i] < 32 || src[i] == 127)
			return mg_fail(MG_ERR_FORMAT, DOM, "control character 0x%02x in the command", (unsigned char)src[i]);
	if (!(t->source = strdup(src)))
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	mg_buf lit;
	mg_buf_init(&lit);
	int rc = MG_OK;
	for (size_t i = 0; i < n && rc == MG_OK; i++) {
		char c = src[i];
		if (c == '{' && i + 1 < n && src[i + 1] == '{') {
			mg_buf_append(&lit, "{", 1);
			i++;
			continue;
		}
		if (c == '}') {
			if (i + 1 < n && src[i + 1] == '}') {
				mg_buf_append(&lit, "}", 1);
				i++;
				continue;
			}
			rc = mg_fail(MG_ERR_FORMAT, DOM, "column %zu: a '}' without '{' (write '}}' for a brace)", i + 1);
			break;
		}
		if (c != '{') {
			mg_buf_append(&lit, &c, 1);
			continue;
		}
		const char *close = memchr(src + i, '}', n - i);
		if (!close) {
			rc = mg_fail(MG_ERR_FORMAT, DOM, "column %zu: a '{' without '}' (write '{{' for a brace)", i + 1);
			break;
		}
		size_t len = (size_t)(close - src) - i - 1;
		char name[32] = "", fmt[16] = "";
		const char *colon = memchr(src + i + 1, ':', len);
		size_t nl = colon ? (size_t)(colon - src) - i - 1 : len;
		size_t fl = colon ? len - nl - 1 : 0;
		if (nl == 0 || nl >= sizeof(name) || fl >= sizeof(fmt)) {
			rc = mg_fail(MG_ERR_FORMAT, DOM, "column %zu: bad placeholder '{%.*s}'", i + 1, (int)(len > 40 ? 40 : len),
			             src + i + 1);
			break;
		}
		memcpy(name, src + i + 1, nl);
		if (fl)
			memcpy(fmt, colon + 1, fl);
		int k = -1;
		for (size_t j = 0; j < MG_ARRAY_SIZE(vars); j++)
			if (!strcmp(vars[j].name, name))
				k = (int)j;
		if (k < 0 || !(allowed & (1u << vars[k].var))) {
			char list[256] = "";
			for (size_t j = 0; j < MG_ARRAY_SIZE(vars); j++)
				if (allowed & (1u << vars[j].var)) {
					strncat(list, *list ? ", " : "", sizeof(list) - strlen(list) - 1);
					strncat(list, vars[j].name, sizeof(list) - strlen(list) - 1);
				}
			rc = mg_fail(MG_ERR_FORMAT, DOM, "column %zu: %s placeholder '{%s}' here (allowed: %s)", i + 1,
			             k < 0 ? "unknown" : "no", name, *list ? list : "none");
			break;
		}
		mg_icp_segment s = {.var = vars[k].var, .prec = -1};
		char kind = vars[k].kind;
		if (fl) {
			if (fmt[0] == '.' && fl >= 3 && (fmt[fl - 1] == 'f' || fmt[fl - 1] == 'e') && kind == 'd') {
				char *end;
				long prec = strtol(fmt + 1, &end, 10);
				if (end != fmt + fl - 1 || prec < 0 || prec > 12 || !isdigit((unsigned char)fmt[1])) {
					rc = mg_fail(MG_ERR_FORMAT, DOM, "column %zu: bad format ':%s' (e.g. :.4f, 0-12 digits)", i + 1,
					             fmt);
					break;
				}
				s.fmt = fmt[fl - 1];
				s.prec = (int)prec;
			} else if (!strcmp(fmt, "d") && kind == 'i') {
				s.fmt = 'd';
			} else if (!strcmp(fmt, "q") && kind == 's') {
				s.fmt = 'q';
			} else {
				rc = mg_fail(MG_ERR_FORMAT, DOM, "column %zu: format ':%s' does not apply to {%s} (%s)", i + 1, fmt,
				             name,
				             kind == 'd' ? "numbers take :.Nf or :.Ne" : kind == 'i' ? "integers take :d" : "strings take :q");
				break;
			}
		}
		if (add_text(t, lit.data ? lit.data : "", lit.len) || add_seg(t, &s)) {
			rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
			break;
		}
		mg_buf_reset(&lit);
		i = (size_t)(close - src);
	}
	if (rc == MG_OK && (mg_buf_status(&lit) || add_text(t, lit.data ? lit.data : "", lit.len)))
		rc = mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	mg_buf_free(&lit);
	if (rc) {
		mg_icp_template_free(t);
		return rc;
	}
	t->queries = mg_scpi_count_queries(src, n);
	return MG_OK;
}

static int put_string(mg_buf *out, const char *name, const char *s, char fmt)
{
	if (!s)
		s = "";
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 32 || *p == 127)
			return mg_fail(MG_ERR_ARG, DOM, "{%s}: control character 0x%02x", name, (unsigned char)*p);
	if (fmt == 'q')
		return mg_scpi_append_string(out, s);
	for (const char *p = s; *p; p++)
		if (strchr(";\"',", *p))
			return mg_fail(MG_ERR_ARG, DOM,
			               "{%s}: '%s' holds '%c', which cannot go into a command unquoted (use {%s:q})", name, s,
			               *p, name);
	return mg_buf_puts(out, s);
}

int mg_icp_template_expand(const mg_icp_template *t, const mg_icp_vars *v, mg_buf *out)
{
	mg_buf_reset(out);
	for (size_t i = 0; i < t->nseg; i++) {
		const mg_icp_segment *s = &t->seg[i];
		if (s->text) {
			mg_buf_puts(out, s->text);
			continue;
		}
		int k = var_index(s->var);
		const char *name = k >= 0 ? vars[k].name : "?";
		int ival = 0;
		double dval = 0;
		switch (s->var) {
		case MG_ICP_VAR_INDEX:
			ival = v->index;
			break;
		case MG_ICP_VAR_INDEX0:
			ival = v->index - 1;
			break;
		case MG_ICP_VAR_IS:
			ival = v->is ? 1 : 0;
			break;
		case MG_ICP_VAR_COUNT:
			ival = v->count;
			break;
		case MG_ICP_VAR_POSITION:
			ival = v->position;
			break;
		case MG_ICP_VAR_LINE:
			ival = v->line;
			break;
		case MG_ICP_VAR_LINE0:
			ival = v->line - 1;
			break;
		case MG_ICP_VAR_REPLICATE:
			ival = v->replicate;
			break;
		case MG_ICP_VAR_REPLICATE0:
			ival = v->replicate - 1;
			break;
		case MG_ICP_VAR_WAVELENGTH:
			dval = v->wavelength;
			break;
		case MG_ICP_VAR_SECONDS:
			dval = v->seconds;
			break;
		case MG_ICP_VAR_ELEMENT: {
			int rc = put_string(out, name, v->element, s->fmt);
			if (rc)
				return rc;
			continue;
		}
		case MG_ICP_VAR_LABEL: {
			int rc = put_string(out, name, v->label, s->fmt);
			if (rc)
				return rc;
			continue;
		}
		default:
			return mg_fail(MG_ERR_INTERNAL, DOM, "template variable %d", (int)s->var);
		}
		if (k >= 0 && vars[k].kind == 'd') {
			if (!isfinite(dval))
				return mg_fail(MG_ERR_ARG, DOM, "{%s}: not a finite number", name);
			int prec = s->prec >= 0 ? s->prec : s->var == MG_ICP_VAR_WAVELENGTH ? 4 : 3;
			mg_buf_printf(out, s->fmt == 'e' ? "%.*E" : "%.*f", prec, dval);
		} else {
			mg_buf_printf(out, "%d", ival);
		}
	}
	if (!out->data)
		mg_buf_append(out, "", 0);
	return mg_buf_status(out) ? mg_fail(MG_ERR_NOMEM, DOM, "out of memory") : MG_OK;
}

int mg_icp_glob(const char *pat, const char *s)
{
	/* iterative with one backtrack point: linear enough for short fields */
	const char *star = NULL, *ss = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			ss = s;
		} else if (*pat == '?' || (*pat && tolower((unsigned char)*pat) == tolower((unsigned char)*s))) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++ss;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* ------------------------------------------------------------ answers */

static int numbers(const mg_icp_profile *p, const char *msg, size_t n, double *v, size_t cap, size_t *count,
                   const char *what)
{
	if (p->format == MG_ICP_DATA_BLOCK) {
		mg_scpi_element el;
		size_t pos = 0;
		int r = mg_scpi_next_element(msg, n, &pos, NULL, &el);
		if (r < 0)
			return mg_fail(MG_ERR_PROTOCOL, DOM, "%s: %s", what, mg_error_detail());
		if (r == 0 || el.type != MG_SCPI_BLOCK)
			return mg_fail(MG_ERR_PROTOCOL, DOM, "%s: expected a binary block (#<n><length><data>), got '%.*s'",
			               what, (int)(n > 20 ? 20 : n), msg);
		if (mg_scpi_next_element(msg, n, &pos, NULL, &el) != 0)
			return mg_fail(MG_ERR_PROTOCOL, DOM, "%s: more than one element after the block", what);
		if (mg_scpi_decode_numbers((const uint8_t *)el.p, el.n, p->number, p->big_endian, v, cap, count))
			return mg_fail(MG_ERR_PROTOCOL, DOM, "%s: %s", what, mg_error_detail());
		return MG_OK;
	}
	if (mg_scpi_parse_numbers(msg, n, v, cap, count))
		return mg_fail(MG_ERR_PROTOCOL, DOM, "%s: %s", what, mg_error_detail());
	return MG_OK;
}

static int check_axis(const double *wl, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(wl[i]) || wl[i] <= 0 || wl[i] > 2000)
			return mg_fail(MG_ERR_PROTOCOL, DOM, "%s: pixel %zu wavelength %g nm is not plausible", what, i, wl[i]);
		if (i && !(wl[i] > wl[i - 1]))
			return mg_fail(MG_ERR_PROTOCOL, DOM, "%s: wavelengths not increasing at pixel %zu (%.6f after %.6f)", what,
			               i, wl[i], wl[i - 1]);
	}
	return MG_OK;
}

int mg_icp_parse_wavelengths(const mg_icp_profile *p, const char *msg, size_t n, double *wl, size_t cap,
                             size_t *count)
{
	size_t max = cap < p->pixels_max ? cap : p->pixels_max;
	int rc = numbers(p, msg, n, wl, max, count, "wavelengths");
	if (rc)
		return rc;
	if (*count < 3)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "wavelengths: %zu pixels (at least 3)", *count);
	return check_axis(wl, *count, "wavelengths");
}

int mg_icp_parse_window(const mg_icp_profile *p, const char *msg, size_t n, const double *wavelengths, size_t nwl,
                        mg_icp_window *w)
{
	double v[2 * MG_ICP_MAX_PIXELS];
	size_t count = 0;
	size_t maxpix = p->pixels_max < MG_ICP_MAX_PIXELS ? p->pixels_max : MG_ICP_MAX_PIXELS;
	int pairs = p->layout == MG_ICP_LAYOUT_PAIRS;
	int rc = numbers(p, msg, n, v, pairs ? 2 * maxpix : maxpix, &count, "window");
	if (rc)
		return rc;
	size_t npix;
	if (pairs) {
		if (count % 2)
			return mg_fail(MG_ERR_PROTOCOL, DOM, "window: %zu values, not (wavelength, intensity) pairs", count);
		npix = count / 2;
	} else {
		npix = count;
		if (!wavelengths || nwl != npix)
			return mg_fail(MG_ERR_PROTOCOL, DOM, "window: %zu intensities for %zu wavelengths", npix, nwl);
	}
	if (npix < 3)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "window: %zu pixels (at least 3)", npix);
	memset(w, 0, sizeof(*w));
	w->npix = npix;
	for (size_t i = 0; i < npix; i++) {
		w->wavelength_nm[i] = pairs ? v[2 * i] : wavelengths[i];
		w->intensity[i] = pairs ? v[2 * i + 1] : v[i];
		if (!isfinite(w->intensity[i]))
			return mg_fail(MG_ERR_PROTOCOL, DOM, "window: pixel %zu intensity is %s (overload or no reading)", i,
			               isnan(w->intensity[i]) ? "not a number" : "infinite");
	}
	return check_axis(w->wavelength_nm, npix, "window");
}

static int token_in(const char *list, const char *s, size_t n)
{
	const char *p = list;
	while (p && *p) {
		const char *c = strchr(p, ',');
		size_t k = c ? (size_t)(c - p) : strlen(p);
		while (k && *p == ' ')
			p++, k--;
		while (k && p[k - 1] == ' ')
			k--;
		if (k == n && !strncasecmp(p, s, n))
			return 1;
		p = c ? c + 1 : NULL;
	}
	return 0;
}

int mg_icp_parse_plasma(const mg_icp_profile *p, const char *msg, size_t n, mg_icp_plasma *out)
{
	mg_scpi_element el[MG_ICP_MAX_PLASMA_FIELDS + 1];
	size_t k;
	memset(out, 0, sizeof(*out));
	out->rf_power_w = out->nebulizer_flow_lmin = out->plasma_flow_lmin = out->aux_flow_lmin = NAN;
	if (mg_scpi_split(msg, n, el, MG_ARRAY_SIZE(el), &k))
		return mg_fail(MG_ERR_PROTOCOL, DOM, "plasma status: %s", mg_error_detail());
	if (k != p->nplasma_fields)
		return mg_fail(MG_ERR_PROTOCOL, DOM, "plasma status '%.*s': %zu fields, the profile expects %zu",
		               (int)(n > 60 ? 60 : n), msg, k, p->nplasma_fields);
	for (size_t i = 0; i < k; i++) {
		mg_icp_plasma_field f = p->plasma_fields[i];
		if (f == MG_ICP_PF_SKIP)
			continue;
		if (el[i].type != MG_SCPI_TEXT)
			return mg_fail(MG_ERR_PROTOCOL, DOM, "plasma status field %zu is not a plain value", i + 1);
		if (f == MG_ICP_PF_LIT) {
			if (token_in(p->lit_on, el[i].p, el[i].n)) {
				out->lit = 1;
			} else {
				double d;
				if (mg_scpi_parse_number(el[i].p, el[i].n, &d) == MG_OK)
					out->lit = d != 0;
				else if (el[i].n == 3 && !strncasecmp(el[i].p, "OFF", 3))
					out->lit = 0;
				else
					return mg_fail(MG_ERR_PROTOCOL, DOM, "plasma status field %zu '%.*s': not a plasma state (lit: %s)",
					               i + 1, (int)(el[i].n > 20 ? 20 : el[i].n), el[i].p, p->lit_on);
			}
			continue;
		}
		double d;
		if (mg_scpi_parse_number(el[i].p, el[i].n, &d))
			return mg_fail(MG_ERR_PROTOCOL, DOM, "plasma status field %zu: %s", i + 1, mg_error_detail());
		switch (f) {
		case MG_ICP_PF_RF_POWER:
			out->rf_power_w = d;
			break;
		case MG_ICP_PF_NEBULIZER:
			out->nebulizer_flow_lmin = d;
			break;
		case MG_ICP_PF_PLASMA_FLOW:
			out->plasma_flow_lmin = d;
			break;
		case MG_ICP_PF_AUX:
			out->aux_flow_lmin = d;
			break;
		default:
			break;
		}
	}
	return MG_OK;
}

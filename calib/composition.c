/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Compositions ("Fe:66,Nd:24.1+-0.2,B:1", wt%; calib.h): what standards are
 * known to contain and what the quantification reports. Strict: every
 * malformed item is an error naming its byte offset. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "elements.h"
#include "internal.h"
#include "magassay/calib.h"
#include "text.h"

#define QDOM "quant" /* the log domain of everything quantitative */

double mg_quant_comp_get(const mg_quant_comp *c, int z)
{
	if (!c)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->z[i] == z)
			return c->w[i];
	return 0;
}

int mg_quant_comp_set(mg_quant_comp *c, int z, double w, double u)
{
	if (!c || z < 1 || z > 98 || !isfinite(w) || !isfinite(u))
		return mg_fail(MG_ERR_ARG, QDOM, "composition: bad element or value");
	for (size_t i = 0; i < c->n; i++)
		if (c->z[i] == z) {
			c->w[i] = w;
			c->u[i] = u;
			return 0;
		}
	if (c->n >= MG_QUANT_MAX_EL)
		return mg_fail(MG_ERR_ARG, QDOM, "composition: more than %d elements", MG_QUANT_MAX_EL);
	c->z[c->n] = z;
	c->w[c->n] = w;
	c->u[c->n] = u;
	c->n++;
	return 0;
}

int mg_quant_comp_format(const mg_quant_comp *c, char *buf, size_t size)
{
	size_t pos = 0;
	if (size)
		buf[0] = 0;
	for (size_t i = 0; c && i < c->n; i++) {
		int n = snprintf(pos < size ? buf + pos : NULL, pos < size ? size - pos : 0, "%s%s:%.6g", i ? "," : "",
		                 mg_element_symbol(c->z[i]), 100 * c->w[i]);
		if (n > 0)
			pos += (size_t)n;
	}
	return (int)pos;
}

static int is_sep(char c)
{
	return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int mg_quant_comp_parse(const char *spec, mg_quant_comp *out)
{
	if (!spec || !out)
		return mg_fail(MG_ERR_ARG, QDOM, "composition: NULL argument");
	mg_quant_comp c;
	memset(&c, 0, sizeof c);
	const char *p = spec;
	while (*p) {
		while (*p && is_sep(*p))
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && isalpha((unsigned char)*p))
			p++;
		int z = mg_element_z(s, (size_t)(p - s));
		if (z < 1)
			return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": byte %ld: not an element symbol", spec,
			               (long)(s - spec));
		if (*p != ':')
			return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": byte %ld: ':' expected after %s", spec,
			               (long)(p - spec), mg_element_symbol(z));
		p++;
		const char *v = p;
		while (*p && !is_sep(*p) && *p != '+' && strncmp(p, "\xc2\xb1", 2) != 0)
			p++;
		/* a leading '+' of the number itself is not allowed: "+-" starts the uncertainty */
		double w, u = 0;
		if (mg_parse_double(v, (size_t)(p - v), &w) < 0 || w < 0 || w > 100)
			return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": byte %ld: %s: a wt%% value expected",
			               spec, (long)(v - spec), mg_element_symbol(z));
		if (strncmp(p, "+-", 2) == 0 || strncmp(p, "\xc2\xb1", 2) == 0) {
			p += 2;
			const char *t = p;
			while (*p && !is_sep(*p))
				p++;
			if (mg_parse_double(t, (size_t)(p - t), &u) < 0 || u < 0 || u > 100)
				return mg_fail(MG_ERR_FORMAT, QDOM,
				               "composition \"%.60s\": byte %ld: %s: an uncertainty in wt%% expected", spec,
				               (long)(t - spec), mg_element_symbol(z));
		} else if (*p && !is_sep(*p)) {
			return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": byte %ld: unexpected '%c'", spec,
			               (long)(p - spec), *p);
		}
		for (size_t i = 0; i < c.n; i++)
			if (c.z[i] == z)
				return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": %s given twice", spec,
				               mg_element_symbol(z));
		if (mg_quant_comp_set(&c, z, w / 100, u / 100) < 0)
			return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": more than %d elements", spec,
			               MG_QUANT_MAX_EL);
	}
	if (!c.n)
		return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": no element", spec);
	*out = c;
	return 0;
}

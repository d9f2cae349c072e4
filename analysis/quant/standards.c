/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Compositions ("Fe:66,Nd:24.1+-0.2,B:1", wt%) and the standards table (CSV)
 * that `magassay calibrate quant --standards FILE.csv` reads. Strict: every
 * malformed item is an error naming its byte offset or line. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/quant.h"
#include "quant_internal.h"
#include "text.h"

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
		                 q_z_symbol(c->z[i]), 100 * c->w[i]);
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
		int z = q_symbol_z(s, (size_t)(p - s));
		if (z < 1)
			return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": byte %ld: not an element symbol", spec,
			               (long)(s - spec));
		if (*p != ':')
			return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": byte %ld: ':' expected after %s", spec,
			               (long)(p - spec), q_z_symbol(z));
		p++;
		const char *v = p;
		while (*p && !is_sep(*p) && *p != '+' && strncmp(p, "\xc2\xb1", 2) != 0)
			p++;
		/* a leading '+' of the number itself is not allowed: "+-" starts the uncertainty */
		double w, u = 0;
		if (mg_parse_double(v, (size_t)(p - v), &w) < 0 || w < 0 || w > 100)
			return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": byte %ld: %s: a wt%% value expected",
			               spec, (long)(v - spec), q_z_symbol(z));
		if (strncmp(p, "+-", 2) == 0 || strncmp(p, "\xc2\xb1", 2) == 0) {
			p += 2;
			const char *t = p;
			while (*p && !is_sep(*p))
				p++;
			if (mg_parse_double(t, (size_t)(p - t), &u) < 0 || u < 0 || u > 100)
				return mg_fail(MG_ERR_FORMAT, QDOM,
				               "composition \"%.60s\": byte %ld: %s: an uncertainty in wt%% expected", spec,
				               (long)(t - spec), q_z_symbol(z));
		} else if (*p && !is_sep(*p)) {
			return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": byte %ld: unexpected '%c'", spec,
			               (long)(p - spec), *p);
		}
		for (size_t i = 0; i < c.n; i++)
			if (c.z[i] == z)
				return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": %s given twice", spec,
				               q_z_symbol(z));
		if (mg_quant_comp_set(&c, z, w / 100, u / 100) < 0)
			return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": more than %d elements", spec,
			               MG_QUANT_MAX_EL);
	}
	if (!c.n)
		return mg_fail(MG_ERR_FORMAT, QDOM, "composition \"%.60s\": no element", spec);
	*out = c;
	return 0;
}

/* ---------------------------------------------------------------- CSV */

#define MAXCOL 80

typedef struct col {
	int kind; /* 0 file, 1 element, 2 uncertainty, 3 name */
	int z;
} col;

/* Split one CSV line (no quotes needed: file names with ',' are not supported;
 * a quoted cell "..." is accepted without embedded quotes). */
static int split(const char *ln, size_t n, const char **cell, size_t *len, size_t max)
{
	size_t nc = 0, i = 0;
	for (;;) {
		if (nc >= max)
			return -1;
		size_t s = i;
		while (i < n && ln[i] != ',')
			i++;
		const char *c = ln + s;
		size_t cn = i - s;
		mg_trim(&c, &cn);
		if (cn >= 2 && c[0] == '"' && c[cn - 1] == '"') {
			c++;
			cn -= 2;
		}
		cell[nc] = c;
		len[nc] = cn;
		nc++;
		if (i >= n)
			break;
		i++;
	}
	return (int)nc;
}

int mg_quant_standards_csv_parse(const char *text, size_t len, const char *name, mg_quant_std_row **rows,
                                 size_t *n)
{
	if (!rows || !n || (!text && len))
		return mg_fail(MG_ERR_ARG, QDOM, "standards table: NULL argument");
	if (!name)
		name = "(standards)";
	*rows = NULL;
	*n = 0;
	if (len && mg_looks_binary(text, len))
		return mg_fail(MG_ERR_FORMAT, QDOM, "%s: binary data, not a CSV table", name);
	mg_lines it;
	const char *ln;
	size_t ll;
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 byte-order mark */
		text += 3;
		len -= 3;
	}
	mg_lines_init(&it, text, len);
	col cols[MAXCOL];
	int ncol = 0, have_file = 0;
	mg_quant_std_row *v = NULL;
	size_t nv = 0, cap = 0;
	const char *cell[MAXCOL];
	size_t cl[MAXCOL];
	int rc = 0;
	while (mg_lines_next(&it, &ln, &ll)) {
		mg_trim(&ln, &ll);
		if (ll == 0 || ln[0] == '#')
			continue;
		int nc = split(ln, ll, cell, cl, MAXCOL);
		if (nc < 0) {
			rc = mg_fail(MG_ERR_FORMAT, QDOM, "%s line %ld: more than %d columns", name, it.lineno, MAXCOL);
			goto fail;
		}
		if (!ncol) { /* the header */
			for (int i = 0; i < nc; i++) {
				if (mg_equals_ci(cell[i], cl[i], "file")) {
					cols[i].kind = 0;
					have_file++;
				} else if (mg_equals_ci(cell[i], cl[i], "name") || mg_equals_ci(cell[i], cl[i], "sample")) {
					cols[i].kind = 3;
				} else if (cl[i] > 2 && (cell[i][0] == 'u' || cell[i][0] == 'U') && cell[i][1] == '_' &&
				           q_symbol_z(cell[i] + 2, cl[i] - 2) > 0) {
					cols[i].kind = 2;
					cols[i].z = q_symbol_z(cell[i] + 2, cl[i] - 2);
				} else if (q_symbol_z(cell[i], cl[i]) > 0) {
					cols[i].kind = 1;
					cols[i].z = q_symbol_z(cell[i], cl[i]);
				} else {
					rc = mg_fail(MG_ERR_FORMAT, QDOM,
					             "%s line %ld: column %d '%.*s' is not file, name, an element or u_<element>",
					             name, it.lineno, i + 1, (int)(cl[i] > 24 ? 24 : cl[i]), cell[i]);
					goto fail;
				}
				for (int j = 0; j < i; j++)
					if (cols[j].kind == cols[i].kind && cols[j].z == cols[i].z) {
						rc = mg_fail(MG_ERR_FORMAT, QDOM, "%s line %ld: column %d repeats column %d", name,
						             it.lineno, i + 1, j + 1);
						goto fail;
					}
			}
			if (have_file != 1) {
				rc = mg_fail(MG_ERR_FORMAT, QDOM, "%s line %ld: the header needs one 'file' column", name,
				             it.lineno);
				goto fail;
			}
			ncol = nc;
			continue;
		}
		if (nc != ncol) {
			rc = mg_fail(MG_ERR_FORMAT, QDOM, "%s line %ld: %d cells, the header has %d", name, it.lineno, nc,
			             ncol);
			goto fail;
		}
		if (nv == cap) {
			cap = cap ? 2 * cap : 16;
			mg_quant_std_row *nvp = realloc(v, cap * sizeof *nvp);
			if (!nvp) {
				rc = mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
				goto fail;
			}
			v = nvp;
		}
		mg_quant_std_row *r = &v[nv];
		memset(r, 0, sizeof *r);
		double uu[99] = {0};
		int has_u[99] = {0};
		for (int i = 0; i < nc; i++) {
			double x;
			switch (cols[i].kind) {
			case 0:
				if (cl[i] == 0 || cl[i] >= sizeof r->file) {
					rc = mg_fail(MG_ERR_FORMAT, QDOM, "%s line %ld: empty or too long file name", name,
					             it.lineno);
					goto fail;
				}
				q_view_copy(r->file, sizeof r->file, cell[i], cl[i]);
				break;
			case 3:
				q_view_copy(r->name, sizeof r->name, cell[i], cl[i]);
				break;
			case 1:
			case 2:
				if (cl[i] == 0)
					break; /* not assayed */
				if (mg_parse_double(cell[i], cl[i], &x) < 0 || x < 0 || x > 100) {
					rc = mg_fail(MG_ERR_FORMAT, QDOM, "%s line %ld: column %d: '%.*s' is not a wt%% value",
					             name, it.lineno, i + 1, (int)(cl[i] > 24 ? 24 : cl[i]), cell[i]);
					goto fail;
				}
				if (cols[i].kind == 1) {
					if (mg_quant_comp_set(&r->comp, cols[i].z, x / 100, 0) < 0) {
						rc = mg_fail(MG_ERR_FORMAT, QDOM, "%s line %ld: too many elements", name, it.lineno);
						goto fail;
					}
				} else {
					uu[cols[i].z] = x / 100;
					has_u[cols[i].z] = 1;
				}
				break;
			}
		}
		for (int z = 1; z < 99; z++)
			if (has_u[z]) {
				int found = 0;
				for (size_t k = 0; k < r->comp.n; k++)
					if (r->comp.z[k] == z) {
						r->comp.u[k] = uu[z];
						found = 1;
					}
				if (!found) {
					rc = mg_fail(MG_ERR_FORMAT, QDOM, "%s line %ld: u_%s without a %s value", name, it.lineno,
					             q_z_symbol(z), q_z_symbol(z));
					goto fail;
				}
			}
		if (!r->comp.n) {
			rc = mg_fail(MG_ERR_FORMAT, QDOM, "%s line %ld: no element value", name, it.lineno);
			goto fail;
		}
		if (!r->name[0]) {
			const char *b = strrchr(r->file, '/');
			b = b ? b + 1 : r->file;
			q_view_copy(r->name, sizeof r->name, b, strlen(b));
		}
		nv++;
	}
	if (!ncol) {
		rc = mg_fail(MG_ERR_FORMAT, QDOM, "%s: no header line", name);
		goto fail;
	}
	if (!nv) {
		rc = mg_fail(MG_ERR_FORMAT, QDOM, "%s: no standard", name);
		goto fail;
	}
	*rows = v;
	*n = nv;
	return 0;
fail:
	free(v);
	return rc;
}

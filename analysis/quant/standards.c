/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The standards table (CSV) that `magassay calibrate quant --standards
 * FILE.csv` reads (compositions themselves: calib/composition.c). Strict:
 * every malformed item is an error naming its line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/quant.h"
#include "quant_internal.h"
#include "text.h"

/* Copy a view into buf (NUL-terminated, truncated). */
static void copy_view(char *buf, size_t size, const char *s, size_t n)
{
	if (!size)
		return;
	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(buf, s, n);
	buf[n] = 0;
}

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
				copy_view(r->file, sizeof r->file, cell[i], cl[i]);
				break;
			case 3:
				copy_view(r->name, sizeof r->name, cell[i], cl[i]);
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
			copy_view(r->name, sizeof r->name, b, strlen(b));
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

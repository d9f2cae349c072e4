/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Totals (TREE, Nd+Pr, Dy+Tb, total) and the grade classification from a
 * configurable table (examples/grades.ini): sections in order, the first
 * whose every condition "quantity = lo .. hi" (wt%, inclusive, a side may be
 * empty) holds wins. Quantities: tree, nd_pr, dy_tb, total or an element. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"
#include "internal.h"
#include "magassay/fileio.h"
#include "quant_internal.h"
#include "text.h"

#define DOM "grades"
#define MAX_COND 16

enum { Q_TREE = -1, Q_NDPR = -2, Q_DYTB = -3, Q_TOTAL = -4 };

typedef struct g_cond {
	int quantity; /* Q_* or Z */
	double lo, hi;
} g_cond;

typedef struct g_grade {
	char name[32];
	char desc[96];
	size_t nc;
	g_cond c[MAX_COND];
	long line;
} g_grade;

struct mg_grade_table {
	size_t n, cap;
	g_grade *g;
};

void mg_grade_table_free(mg_grade_table *t)
{
	if (!t)
		return;
	free(t->g);
	free(t);
}

size_t mg_grade_table_count(const mg_grade_table *t)
{
	return t ? t->n : 0;
}

typedef struct gstate {
	mg_grade_table *t;
	const char *name;
} gstate;

static int parse_range(const char *s, size_t n, double *lo, double *hi)
{
	const char *dd = NULL;
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '.' && s[i + 1] == '.') {
			dd = s + i;
			break;
		}
	if (!dd)
		return -1;
	const char *a = s, *b = dd + 2;
	size_t an = (size_t)(dd - s), bn = n - an - 2;
	mg_trim(&a, &an);
	mg_trim(&b, &bn);
	*lo = -INFINITY;
	*hi = INFINITY;
	if (an && mg_parse_double(a, an, lo) < 0)
		return -1;
	if (bn && mg_parse_double(b, bn, hi) < 0)
		return -1;
	return *lo <= *hi ? 0 : -1; /* ".." alone: any value */
}

static int on_item(const mg_ini_item *it, void *ud)
{
	gstate *st = ud;
	mg_grade_table *t = st->t;
	if (!it->key) {
		if (it->section_len >= sizeof t->g[0].name)
			return mg_ini_fail(it, "grade name longer than %zu", sizeof t->g[0].name - 1);
		for (size_t i = 0; i < t->n; i++)
			if (mg_ini_section_is(it, t->g[i].name))
				return mg_ini_fail(it, "grade [%s] given twice", t->g[i].name);
		if (t->n == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 8;
			g_grade *ng = realloc(t->g, cap * sizeof *ng);
			if (!ng)
				return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
			t->g = ng;
			t->cap = cap;
		}
		g_grade *g = &t->g[t->n++];
		memset(g, 0, sizeof *g);
		snprintf(g->name, sizeof g->name, "%s", it->section);
		g->line = it->line;
		return 0;
	}
	g_grade *g = &t->g[t->n - 1];
	if (mg_ini_key_is(it, "description")) {
		snprintf(g->desc, sizeof g->desc, "%s", it->value);
		return 0;
	}
	int klen = (int)(it->key_len > 24 ? 24 : it->key_len);
	int qn;
	if (mg_ini_key_is(it, "tree"))
		qn = Q_TREE;
	else if (mg_ini_key_is(it, "nd_pr"))
		qn = Q_NDPR;
	else if (mg_ini_key_is(it, "dy_tb"))
		qn = Q_DYTB;
	else if (mg_ini_key_is(it, "total"))
		qn = Q_TOTAL;
	else if ((qn = q_symbol_z(it->key, it->key_len)) < 1)
		return mg_ini_fail(it, "'%.*s' is not description, tree, nd_pr, dy_tb, total or an element", klen,
		                   it->key);
	for (size_t i = 0; i < g->nc; i++)
		if (g->c[i].quantity == qn)
			return mg_ini_fail(it, "'%.*s' given twice in [%s]", klen, it->key, g->name);
	if (g->nc >= MAX_COND)
		return mg_ini_fail(it, "more than %d conditions", MAX_COND);
	g_cond *c = &g->c[g->nc];
	if (parse_range(it->value, it->value_len, &c->lo, &c->hi) < 0)
		return mg_ini_fail(it, "'%.*s' is not a range LO .. HI (wt%%)",
		                   (int)(it->value_len > 24 ? 24 : it->value_len), it->value);
	c->quantity = qn;
	g->nc++;
	return 0;
}

int mg_grade_table_parse(const char *text, size_t len, const char *name, mg_grade_table **out)
{
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "grades: NULL argument");
	*out = NULL;
	gstate st = {.t = calloc(1, sizeof(mg_grade_table)), .name = name ? name : "(grades)"};
	if (!st.t)
		return mg_fail(MG_ERR_NOMEM, DOM, "out of memory");
	int rc = mg_ini_parse(text, len, st.name, DOM, on_item, &st);
	if (rc == 0 && !st.t->n)
		rc = mg_fail(MG_ERR_FORMAT, DOM, "%s: no grade", st.name);
	for (size_t i = 0; rc == 0 && i < st.t->n; i++)
		if (!st.t->g[i].nc)
			rc = mg_fail(MG_ERR_FORMAT, DOM, "%s line %ld: grade [%s] has no condition", st.name, st.t->g[i].line,
			             st.t->g[i].name);
	if (rc < 0) {
		mg_grade_table_free(st.t);
		return rc;
	}
	*out = st.t;
	return 0;
}

int mg_grade_table_read_file(const char *path, mg_grade_table **out)
{
	if (!path || !out)
		return mg_fail(MG_ERR_ARG, DOM, "grades: NULL argument");
	unsigned char *data;
	size_t len;
	int rc = mg_file_read_all(path, 1u << 20, &data, &len);
	if (rc < 0)
		return rc;
	rc = mg_grade_table_parse((const char *)data, len, path, out);
	free(data);
	return rc;
}

static int is_ree(int z)
{
	return z == 21 || z == 39 || (z >= 57 && z <= 71);
}

void mg_quant_totals(mg_quant_result *r)
{
	mg_quant_sum t = {0, 0}, tree = {0, 0}, ndpr = {0, 0}, dytb = {0, 0};
	for (size_t i = 0; i < r->n; i++) {
		const mg_quant_element *e = &r->el[i];
		double w = isfinite(e->wt_pct) ? e->wt_pct : 0, v = isfinite(e->sigma) ? e->sigma * e->sigma : 0;
		t.wt_pct += w;
		t.sigma += v;
		if (is_ree(e->z)) {
			tree.wt_pct += w;
			tree.sigma += v;
		}
		if (e->z == 59 || e->z == 60) {
			ndpr.wt_pct += w;
			ndpr.sigma += v;
		}
		if (e->z == 65 || e->z == 66) {
			dytb.wt_pct += w;
			dytb.sigma += v;
		}
	}
	t.sigma = sqrt(t.sigma);
	tree.sigma = sqrt(tree.sigma);
	ndpr.sigma = sqrt(ndpr.sigma);
	dytb.sigma = sqrt(dytb.sigma);
	r->total = t;
	r->tree = tree;
	r->ndpr = ndpr;
	r->dytb = dytb;
}

static double quantity(const mg_quant_result *r, int q)
{
	switch (q) {
	case Q_TREE: return r->tree.wt_pct;
	case Q_NDPR: return r->ndpr.wt_pct;
	case Q_DYTB: return r->dytb.wt_pct;
	case Q_TOTAL: return r->total.wt_pct;
	default: {
		const mg_quant_element *e = mg_quant_result_find(r, q);
		return e ? e->wt_pct : 0;
	}
	}
}

int mg_grade_classify(const mg_grade_table *t, mg_quant_result *r)
{
	r->grade[0] = 0;
	r->grade_description[0] = 0;
	if (!t || !r)
		return 0;
	if (r->flags & MG_QS_COATING) {
		snprintf(r->grade_description, sizeof r->grade_description, "not classified: coating suspected");
		return 0;
	}
	for (size_t i = 0; i < t->n; i++) {
		const g_grade *g = &t->g[i];
		int ok = 1;
		for (size_t c = 0; c < g->nc && ok; c++) {
			double v = quantity(r, g->c[c].quantity);
			ok = isfinite(v) && v >= g->c[c].lo && v <= g->c[c].hi;
		}
		if (ok) {
			snprintf(r->grade, sizeof r->grade, "%s", g->name);
			snprintf(r->grade_description, sizeof r->grade_description, "%s", g->desc);
			return 1;
		}
	}
	return 0;
}

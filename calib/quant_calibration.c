/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The quantification calibration (calib.h): clear, deep copy, and its JSON
 * payload (the payload of a "quant" calibration record; jansson, NAN is
 * written as null). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elements.h"
#include "internal.h"
#include "magassay/calib.h"
#include "magassay/instrument.h"

#define QDOM "quant" /* the log domain of everything quantitative */

static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Shell class of a family label: 0 = K, 1 = L, 2 = M, -1 = none (the
 * instrument factors are kept per class). */
static int shell_class(const char *label)
{
	if (!label || !label[0])
		return -1;
	if (label[0] == 'K')
		return 0;
	if (label[0] == 'L')
		return 1;
	if (label[0] == 'M')
		return 2;
	return -1;
}

/* ---------------------------------------------------------------- clear and copy */

void mg_quant_calibration_clear(mg_quant_calibration *c)
{
	if (!c)
		return;
	free(c->stds);
	memset(c, 0, sizeof *c);
}

int mg_quant_calibration_copy(mg_quant_calibration *dst, const mg_quant_calibration *src)
{
	*dst = *src;
	dst->stds = NULL;
	if (src->nstd && src->stds) {
		dst->stds = malloc(src->nstd * sizeof *dst->stds);
		if (!dst->stds) {
			dst->nstd = 0;
			return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
		}
		memcpy(dst->stds, src->stds, src->nstd * sizeof *dst->stds);
	} else {
		dst->nstd = 0;
	}
	return 0;
}

/* ---------------------------------------------------------------- JSON */

static json_t *comp_json(const mg_quant_comp *c, int with_u)
{
	json_t *o = json_object();
	for (size_t i = 0; i < c->n; i++) {
		const char *sym = mg_element_symbol(c->z[i]);
		if (with_u && c->u[i] > 0)
			json_object_set_new(o, sym, json_pack("[f,f]", 100 * c->w[i], 100 * c->u[i]));
		else
			json_object_set_new(o, sym, json_real(100 * c->w[i]));
	}
	return o;
}

static json_t *meas_json(const mg_quant_meas *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "live_time_s", jreal(m->live_time_s));
	json_object_set_new(o, "current_ua", jreal(m->current_ua));
	json_object_set_new(o, "chi2_reduced", jreal(m->chi2_reduced));
	json_t *a = json_array();
	for (size_t i = 0; i < m->n; i++) {
		const mg_quant_line *l = &m->lines[i];
		json_array_append_new(a, json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:i}", "element", l->element, "line",
		                                   l->line, "energy_kev", jreal(l->energy_kev), "area", jreal(l->area),
		                                   "sigma", jreal(l->sigma), "sigma_bg", jreal(l->sigma_bg), "status",
		                                   l->status));
	}
	json_object_set_new(o, "lines", a);
	return o;
}

char *mg_quant_calibration_to_json(const mg_quant_calibration *c)
{
	if (!c)
		return NULL;
	char ini[4096];
	mg_instrument_desc_format(&c->instrument, ini, sizeof ini);
	json_t *o = json_object();
	json_object_set_new(o, "instrument_ini", json_string(ini));
	json_object_set_new(o, "elements", json_string(c->elements));
	json_t *g = json_array();
	static const char *const cls[3] = {"K", "L", "M"};
	for (int i = 0; i < 3; i++)
		if (c->g_n[i])
			json_array_append_new(g, json_pack("{s:s,s:f,s:f,s:i}", "shell", cls[i], "factor", c->g[i], "u_rel",
			                                   c->g_u[i], "n", c->g_n[i]));
	json_object_set_new(o, "instrument_factors", g);
	json_object_set_new(o, "tube_tilt", json_real(c->tilt));
	json_object_set_new(o, "tube_tilt_u", json_real(c->tilt_u));
	json_t *lines = json_array();
	for (size_t i = 0; i < c->nlines; i++) {
		const mg_quant_empirical_line *e = &c->lines[i];
		json_t *x = json_object();
		json_object_set_new(x, "element", json_string(e->element));
		json_object_set_new(x, "line", json_string(e->line));
		json_object_set_new(x, "b0", json_real(e->b0));
		json_object_set_new(x, "b1", json_real(e->b1));
		json_t *al = json_object();
		for (size_t j = 0; j < e->nalpha; j++)
			json_object_set_new(al, mg_element_symbol(e->alpha_z[j]), json_real(e->alpha[j]));
		json_object_set_new(x, "alpha", al);
		size_t np = 2 + e->nalpha;
		json_t *cv = json_array();
		for (size_t a = 0; a < np; a++)
			for (size_t b = 0; b < np; b++)
				json_array_append_new(cv, json_real(e->cov[a * (2 + MG_QUANT_MAX_ALPHA) + b]));
		json_object_set_new(x, "cov", cv);
		json_object_set_new(x, "s_resid", json_real(e->s_resid));
		json_object_set_new(x, "w_min_pct", json_real(100 * e->w_min));
		json_object_set_new(x, "w_max_pct", json_real(100 * e->w_max));
		json_object_set_new(x, "n_standards", json_integer((json_int_t)e->nstd));
		json_array_append_new(lines, x);
	}
	json_object_set_new(o, "lines", lines);
	json_t *st = json_array();
	for (size_t s = 0; s < c->nstd; s++) {
		const mg_quant_standard *S = &c->stds[s];
		json_t *x = json_object();
		json_object_set_new(x, "name", json_string(S->name));
		json_object_set_new(x, "file", json_string(S->file));
		json_object_set_new(x, "sha256", json_string(S->sha256));
		json_object_set_new(x, "composition_wt_pct", comp_json(&S->comp, 1));
		json_object_set_new(x, "intensities", meas_json(&S->meas));
		json_array_append_new(st, x);
	}
	json_object_set_new(o, "standards", st);
	char *s = json_dumps(o, JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static int bad(const char *name, const char *what)
{
	return mg_fail(MG_ERR_FORMAT, QDOM, "%s: quantification calibration: %s", name, what);
}

static double num(json_t *x, int *ok)
{
	if (json_is_number(x))
		return json_number_value(x);
	if (json_is_null(x))
		return NAN;
	*ok = 0;
	return 0;
}

static int comp_from(json_t *o, mg_quant_comp *c)
{
	memset(c, 0, sizeof *c);
	if (!json_is_object(o))
		return -1;
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		int z = mg_element_z(k, strlen(k));
		double w, u = 0;
		if (z < 1)
			return -1;
		if (json_is_number(v))
			w = json_number_value(v);
		else if (json_is_array(v) && json_array_size(v) == 2 && json_is_number(json_array_get(v, 0)) &&
		         json_is_number(json_array_get(v, 1))) {
			w = json_number_value(json_array_get(v, 0));
			u = json_number_value(json_array_get(v, 1));
		} else
			return -1;
		if (!(w >= 0 && w <= 100) || !(u >= 0) || mg_quant_comp_set(c, z, w / 100, u / 100) < 0)
			return -1;
	}
	return 0;
}

static int meas_from(json_t *o, mg_quant_meas *m, const char *name)
{
	memset(m, 0, sizeof *m);
	snprintf(m->name, sizeof m->name, "%s", name);
	int ok = 1;
	if (!json_is_object(o))
		return -1;
	m->live_time_s = num(json_object_get(o, "live_time_s"), &ok);
	m->current_ua = num(json_object_get(o, "current_ua"), &ok);
	m->chi2_reduced = num(json_object_get(o, "chi2_reduced"), &ok);
	json_t *a = json_object_get(o, "lines");
	if (!json_is_array(a) || json_array_size(a) > MG_QUANT_MAX_EL)
		return -1;
	size_t i;
	json_t *x;
	json_array_foreach(a, i, x)
	{
		mg_quant_line *l = &m->lines[m->n];
		const char *el = json_string_value(json_object_get(x, "element"));
		const char *ln = json_string_value(json_object_get(x, "line"));
		if (!el || !ln || strlen(ln) >= sizeof l->line || (l->z = mg_element_z(el, strlen(el))) < 1)
			return -1;
		snprintf(l->element, sizeof l->element, "%s", mg_element_symbol(l->z));
		snprintf(l->line, sizeof l->line, "%s", ln);
		l->energy_kev = num(json_object_get(x, "energy_kev"), &ok);
		l->area = num(json_object_get(x, "area"), &ok);
		l->sigma = num(json_object_get(x, "sigma"), &ok);
		l->sigma_bg = num(json_object_get(x, "sigma_bg"), &ok);
		json_t *st = json_object_get(x, "status");
		l->status = json_is_integer(st) ? (int)json_integer_value(st) : 0;
		if (!isfinite(l->area) || !isfinite(l->sigma))
			return -1;
		m->n++;
	}
	return ok ? 0 : -1;
}

int mg_quant_calibration_from_json(const char *text, size_t len, const char *name, mg_quant_calibration *out)
{
	if (!text || !out)
		return mg_fail(MG_ERR_ARG, QDOM, "calibration: NULL argument");
	if (!name)
		name = "(calibration)";
	memset(out, 0, sizeof *out);
	json_error_t err;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!o)
		return mg_fail(MG_ERR_FORMAT, QDOM, "%s: line %d: %s", name, err.line, err.text);
	int rc = 0;
	if (!json_is_object(o)) {
		rc = bad(name, "not an object");
		goto out;
	}
	const char *ini = json_string_value(json_object_get(o, "instrument_ini"));
	if (!ini) {
		rc = bad(name, "no instrument_ini");
		goto out;
	}
	if ((rc = mg_instrument_desc_parse(ini, strlen(ini), name, &out->instrument)) < 0)
		goto out;
	const char *els = json_string_value(json_object_get(o, "elements"));
	if (!els || strlen(els) >= sizeof out->elements) {
		rc = bad(name, "no elements");
		goto out;
	}
	snprintf(out->elements, sizeof out->elements, "%s", els);
	json_t *g = json_object_get(o, "instrument_factors");
	size_t i;
	json_t *x;
	if (g && !json_is_array(g)) {
		rc = bad(name, "instrument_factors is not a list");
		goto out;
	}
	json_array_foreach(g, i, x)
	{
		const char *sh = json_string_value(json_object_get(x, "shell"));
		int c = shell_class(sh);
		json_t *f = json_object_get(x, "factor"), *u = json_object_get(x, "u_rel"), *n = json_object_get(x, "n");
		if (c < 0 || !json_is_number(f) || !json_is_number(u) || !json_is_integer(n)) {
			rc = bad(name, "bad instrument factor");
			goto out;
		}
		out->g[c] = json_number_value(f);
		out->g_u[c] = json_number_value(u);
		out->g_n[c] = (int)json_integer_value(n);
	}
	{
		int ok = 1;
		json_t *t = json_object_get(o, "tube_tilt"), *tu = json_object_get(o, "tube_tilt_u");
		out->tilt = t ? num(t, &ok) : 0;
		out->tilt_u = tu ? num(tu, &ok) : 0;
		if (!ok || !isfinite(out->tilt) || fabs(out->tilt) > 5 || !(out->tilt_u >= 0)) {
			rc = bad(name, "bad tube_tilt");
			goto out;
		}
	}
	json_t *lines = json_object_get(o, "lines");
	if (!json_is_array(lines) || json_array_size(lines) > MG_QUANT_MAX_EL) {
		rc = bad(name, "lines is not a list (at most 32)");
		goto out;
	}
	json_array_foreach(lines, i, x)
	{
		mg_quant_empirical_line *e = &out->lines[out->nlines];
		const char *el = json_string_value(json_object_get(x, "element"));
		const char *ln = json_string_value(json_object_get(x, "line"));
		int ok = 1;
		if (!el || !ln || strlen(ln) >= sizeof e->line || (e->z = mg_element_z(el, strlen(el))) < 1) {
			rc = bad(name, "a line without element or family");
			goto out;
		}
		snprintf(e->element, sizeof e->element, "%s", mg_element_symbol(e->z));
		snprintf(e->line, sizeof e->line, "%s", ln);
		e->b0 = num(json_object_get(x, "b0"), &ok);
		e->b1 = num(json_object_get(x, "b1"), &ok);
		e->s_resid = num(json_object_get(x, "s_resid"), &ok);
		e->w_min = num(json_object_get(x, "w_min_pct"), &ok) / 100;
		e->w_max = num(json_object_get(x, "w_max_pct"), &ok) / 100;
		json_t *ns = json_object_get(x, "n_standards");
		e->nstd = json_is_integer(ns) && json_integer_value(ns) >= 0 ? (size_t)json_integer_value(ns) : 0;
		json_t *al = json_object_get(x, "alpha");
		const char *k;
		json_t *v;
		if (!json_is_object(al) || json_object_size(al) > MG_QUANT_MAX_ALPHA) {
			rc = bad(name, "alpha is not an object of at most 4 elements");
			goto out;
		}
		json_object_foreach(al, k, v)
		{
			int z = mg_element_z(k, strlen(k));
			if (z < 1 || !json_is_number(v)) {
				rc = bad(name, "bad alpha");
				goto out;
			}
			e->alpha_z[e->nalpha] = z;
			e->alpha[e->nalpha++] = json_number_value(v);
		}
		size_t np = 2 + e->nalpha;
		json_t *cv = json_object_get(x, "cov");
		if (!json_is_array(cv) || json_array_size(cv) != np * np) {
			rc = bad(name, "cov has the wrong size");
			goto out;
		}
		for (size_t a = 0; a < np; a++)
			for (size_t b = 0; b < np; b++)
				e->cov[a * (2 + MG_QUANT_MAX_ALPHA) + b] = num(json_array_get(cv, a * np + b), &ok);
		if (!ok || !isfinite(e->b0) || !isfinite(e->b1)) {
			rc = bad(name, "a line with non-numeric coefficients");
			goto out;
		}
		out->nlines++;
	}
	json_t *st = json_object_get(o, "standards");
	if (st && (!json_is_array(st) || json_array_size(st) > 1000)) {
		rc = bad(name, "standards is not a list");
		goto out;
	}
	if (st && json_array_size(st)) {
		out->stds = calloc(json_array_size(st), sizeof *out->stds);
		if (!out->stds) {
			rc = mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
			goto out;
		}
		json_array_foreach(st, i, x)
		{
			mg_quant_standard *S = &out->stds[out->nstd];
			const char *nm = json_string_value(json_object_get(x, "name"));
			const char *fl = json_string_value(json_object_get(x, "file"));
			const char *sh = json_string_value(json_object_get(x, "sha256"));
			snprintf(S->name, sizeof S->name, "%s", nm ? nm : "");
			snprintf(S->file, sizeof S->file, "%s", fl ? fl : "");
			snprintf(S->sha256, sizeof S->sha256, "%s", sh ? sh : "");
			if (comp_from(json_object_get(x, "composition_wt_pct"), &S->comp) < 0 ||
			    meas_from(json_object_get(x, "intensities"), &S->meas, S->name) < 0) {
				rc = bad(name, "a standard with a bad composition or intensities");
				goto out;
			}
			out->nstd++;
		}
	}
	/* ranges from the standards */
	for (size_t s = 0; s < out->nstd; s++)
		for (size_t k = 0; k < out->stds[s].comp.n; k++) {
			int z = out->stds[s].comp.z[k];
			double w = out->stds[s].comp.w[k];
			double lo = mg_quant_comp_get(&out->range_lo, z);
			int have = 0;
			for (size_t j = 0; j < out->range_lo.n; j++)
				have |= out->range_lo.z[j] == z;
			if (!have) {
				mg_quant_comp_set(&out->range_lo, z, w, 0);
				mg_quant_comp_set(&out->range_hi, z, w, 0);
			} else {
				mg_quant_comp_set(&out->range_lo, z, fmin(lo, w), 0);
				mg_quant_comp_set(&out->range_hi, z, fmax(mg_quant_comp_get(&out->range_hi, z), w), 0);
			}
		}
out:
	json_decref(o);
	if (rc < 0)
		mg_quant_calibration_clear(out);
	return rc;
}

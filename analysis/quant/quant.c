/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The prepared quantification (mg_quant_new): the element list, the FP
 * model, copies of the standards and the calibration, the instrument factors
 * and the nominal FP rates of the standards' lines. Options and names are
 * options.c, the factors instrument_factors.c, one run run.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/quant.h"
#include "quant_internal.h"

/* ---------------------------------------------------------------- helpers */

int q_comp_to_w(const mg_fp_model *fp, const mg_quant_comp *c, double *w)
{
	size_t ne = q_fp_nelements(fp);
	for (size_t e = 0; e < ne; e++)
		w[e] = 0;
	double sum = 0;
	for (size_t i = 0; i < c->n; i++) {
		int e = q_fp_element_index(fp, c->z[i]);
		if (e < 0)
			return mg_fail(MG_ERR_ARG, QDOM, "%s is not in the FP element list", q_z_symbol(c->z[i]));
		if (c->w[i] > 0) {
			w[e] += c->w[i];
			sum += c->w[i];
		}
	}
	if (!(sum > 0))
		return mg_fail(MG_ERR_ARG, QDOM, "empty composition");
	for (size_t e = 0; e < ne; e++)
		w[e] /= sum;
	return 0;
}

/* ---------------------------------------------------------------- the object */

void mg_quant_free(mg_quant *q)
{
	if (!q)
		return;
	mg_fp_model_free(q->fp);
	free(q->stds);
	free(q->std_rate);
	mg_quant_calibration_clear(&q->cal);
	free(q);
}

const mg_fp_model *mg_quant_fp(const mg_quant *q)
{
	return q ? q->fp : NULL;
}

static void add_el(char *list, size_t size, int z)
{
	const char *sym = q_z_symbol(z);
	size_t n = strlen(list);
	/* already there? */
	const char *p = list;
	while (*p) {
		const char *s = p;
		while (*p && *p != ',')
			p++;
		if ((size_t)(p - s) == strlen(sym) && strncmp(s, sym, (size_t)(p - s)) == 0)
			return;
		if (*p)
			p++;
	}
	snprintf(list + n, size - n, "%s%s", n ? "," : "", sym);
}

static void add_list(char *list, size_t size, const char *elements)
{
	const char *p = elements;
	while (p && *p) {
		while (*p == ',' || *p == ' ' || *p == ';')
			p++;
		const char *s = p;
		while (*p && *p != ',' && *p != ' ' && *p != ';' && *p != ':')
			p++;
		int z = q_symbol_z(s, (size_t)(p - s));
		if (z > 0)
			add_el(list, size, z);
		while (*p && *p != ',' && *p != ' ' && *p != ';')
			p++;
	}
}

int mg_quant_new(const mg_instrument_desc *ins, const char *elements, const mg_quant_options *o,
                 const mg_quant_standard *stds, size_t nstd, const mg_quant_calibration *cal, mg_quant **out)
{
	if ((!ins && !cal) || !o || !out || (nstd && !stds))
		return mg_fail(MG_ERR_ARG, QDOM, "quant: NULL argument");
	*out = NULL;
	mg_quant *q = calloc(1, sizeof *q);
	if (!q)
		return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
	q->ins = ins ? *ins : cal->instrument;
	q->o = *o;
	int rc = 0;
	if (elements)
		add_list(q->elements, sizeof q->elements, elements);
	if (cal && cal->elements[0])
		add_list(q->elements, sizeof q->elements, cal->elements);
	for (size_t s = 0; s < nstd; s++)
		for (size_t i = 0; i < stds[s].comp.n; i++)
			add_el(q->elements, sizeof q->elements, stds[s].comp.z[i]);
	if (cal)
		for (size_t s = 0; s < cal->nstd && cal->stds; s++)
			for (size_t i = 0; i < cal->stds[s].comp.n; i++)
				add_el(q->elements, sizeof q->elements, cal->stds[s].comp.z[i]);
	for (size_t i = 0; i < o->fixed.n; i++)
		add_el(q->elements, sizeof q->elements, o->fixed.z[i]);
	if (o->balance[0]) {
		int z = q_symbol_z(o->balance, strlen(o->balance));
		if (z < 1) {
			rc = mg_fail(MG_ERR_ARG, QDOM, "balance element '%.4s' unknown", o->balance);
			goto fail;
		}
		add_el(q->elements, sizeof q->elements, z);
	}
	if (!q->elements[0]) {
		rc = mg_fail(MG_ERR_ARG, QDOM, "quant: no element");
		goto fail;
	}
	if ((rc = mg_fp_model_new(&q->ins, q->elements,
	                          (o->flags & MG_QUANT_NO_SECONDARY) ? MG_FP_NO_SECONDARY : 0, &q->fp)) < 0)
		goto fail;
	if (nstd) {
		q->stds = malloc(nstd * sizeof *q->stds);
		q->std_rate = calloc(nstd * MG_QUANT_MAX_EL, sizeof(double));
		if (!q->stds || !q->std_rate) {
			rc = mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
			goto fail;
		}
		memcpy(q->stds, stds, nstd * sizeof *stds);
		q->nstd = nstd;
	}
	if (cal) {
		if ((rc = mg_quant_calibration_copy(&q->cal, cal)) < 0)
			goto fail;
		q->has_cal = 1;
	}
	/* the standards fixing the instrument factors: the calibration's, else the k-ratio ones */
	if (q->has_cal && q->cal.nstd) {
		q->gstd = q->cal.stds;
		q->ngstd = q->cal.nstd;
	} else if (q->nstd) {
		q->gstd = q->stds;
		q->ngstd = q->nstd;
	}
	q->base = q_fp_knobs_none;
	if (q->ngstd) {
		q_ifac f;
		if ((rc = q_instrument_factors(q->fp, &q_fp_knobs_none, q->gstd, q->ngstd, 1, &f)) < 0)
			goto fail;
		memcpy(q->g, f.g, sizeof q->g);
		memcpy(q->g_u, f.gu, sizeof q->g_u);
		memcpy(q->g_n, f.gn, sizeof q->g_n);
		q->base.tilt = f.tilt;
		q->tilt_u = f.tilt_fitted ? f.tilt_u : 0;
		mg_dbg(QDOM, "instrument factors from %zu standards: G K %.4g L %.4g (u %.3f %.3f, n %d %d), tilt %.3f +- %.3f%s",
		       q->ngstd, f.g[0], f.g[1], f.gu[0], f.gu[1], f.gn[0], f.gn[1], f.tilt, f.tilt_u,
		       f.tilt_fitted ? "" : " (not fitted)");
	} else if (q->has_cal) {
		memcpy(q->g, q->cal.g, sizeof q->g);
		memcpy(q->g_u, q->cal.g_u, sizeof q->g_u);
		memcpy(q->g_n, q->cal.g_n, sizeof q->g_n);
		q->base.tilt = q->cal.tilt;
		q->tilt_u = q->cal.tilt_u;
	}
	/* nominal FP rates of the k-ratio standards' lines */
	double w[2 * MG_QUANT_MAX_EL];
	for (size_t s = 0; s < q->nstd; s++) {
		if ((rc = q_comp_to_w(q->fp, &q->stds[s].comp, w)) < 0) {
			rc = mg_fail(rc, QDOM, "standard %s: %s", q->stds[s].name, mg_error_detail());
			goto fail;
		}
		for (size_t i = 0; i < q->stds[s].meas.n; i++) {
			const mg_quant_line *l = &q->stds[s].meas.lines[i];
			if (mg_quant_comp_get(&q->stds[s].comp, l->z) <= 0)
				continue;
			int f = q_fp_family(q->fp, l->z, l->line);
			if (f < 0) {
				mg_error_clear();
				continue;
			}
			double P, S;
			if ((rc = q_fp_eval(q->fp, w, &q->base, &f, 1, &P, &S)) < 0)
				goto fail;
			q->std_rate[s * MG_QUANT_MAX_EL + i] = P + S;
		}
	}
	if (o->method == MG_QUANT_KRATIO && !q->nstd) {
		rc = mg_fail(MG_ERR_ARG, QDOM, "the k-ratio method needs standards");
		goto fail;
	}
	if (o->method == MG_QUANT_EMPIRICAL && (!q->has_cal || !q->cal.nlines)) {
		rc = mg_fail(MG_ERR_ARG, QDOM, "the empirical method needs a calibration with calibration lines");
		goto fail;
	}
	*out = q;
	return 0;
fail:
	mg_quant_free(q);
	return rc;
}

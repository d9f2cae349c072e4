/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Empirical calibration (type standardisation) on reference magnets assayed
 * by ICP: for every element measured in enough standards a calibration line
 * with Lachance–Traill influence coefficients,
 *
 *     w_i = (b0 + b1·R_i)·(1 + Σ_j α_ij·w_j)
 *
 * R_i the line's rate per µA (counts/s/µA), w_j the standards' assayed mass
 * fractions of the influencing elements (xrf-physics.md §4.3). Fitted by
 * Gauss–Newton (GSL least squares on the linearised system), the parameter
 * covariance s²(JᵀJ)⁻¹ and the residual standard deviation kept for the
 * uncertainty budget, the assayed range kept for the "outside calibrated
 * range" flag. The same standards also fix the FP instrument factors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_vector.h>

#include "internal.h"
#include "magassay/quant.h"
#include "quant_internal.h"

#define NP_MAX (2 + MG_QUANT_MAX_ALPHA)

/* "Nd:Fe;Dy:Fe+Nd" → the influencing elements of analyte z. */
static int influences_of(const char *spec, int z, int *alpha_z, size_t max)
{
	size_t n = 0;
	const char *p = spec;
	while (p && *p) {
		while (*p == ';' || *p == ' ' || *p == ',')
			p++;
		const char *s = p;
		while (*p && *p != ':' && *p != ';')
			p++;
		int az = q_symbol_z(s, (size_t)(p - s));
		if (*p != ':')
			return az < 0 && p == s ? 0 : mg_fail(MG_ERR_ARG, QDOM, "influences \"%s\": EL:EL[+EL] expected", spec);
		p++;
		while (*p && *p != ';') {
			const char *t = p;
			while (*p && *p != '+' && *p != ';' && *p != ' ')
				p++;
			int iz = q_symbol_z(t, (size_t)(p - t));
			if (az < 1 || iz < 1)
				return mg_fail(MG_ERR_ARG, QDOM, "influences \"%s\": unknown element", spec);
			if (az == z && n < max && iz != z)
				alpha_z[n++] = iz;
			while (*p == '+' || *p == ' ')
				p++;
		}
	}
	return (int)n;
}

typedef struct pt {
	double R, w, wj[MG_QUANT_MAX_ALPHA];
} pt;

static double model(const mg_quant_empirical_line *e, const pt *p)
{
	double a = 1;
	for (size_t j = 0; j < e->nalpha; j++)
		a += e->alpha[j] * p->wj[j];
	return (e->b0 + e->b1 * p->R) * a;
}

static int fit_line(mg_quant_empirical_line *e, const pt *pts, size_t n)
{
	size_t np = 2 + e->nalpha;
	if (n < np + 1)
		return mg_fail(MG_ERR_ARG, QDOM, "%s %s: %zu standards for %zu parameters", e->element, e->line, n, np);
	gsl_matrix *J = gsl_matrix_alloc(n, np), *cov = gsl_matrix_alloc(np, np);
	gsl_vector *r = gsl_vector_alloc(n), *d = gsl_vector_alloc(np);
	gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, np);
	int rc = 0;
	if (!J || !cov || !r || !d || !ws) {
		rc = mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
		goto out;
	}
	/* start: the plain line w = b0 + b1·R */
	double sr = 0, sw = 0, srr = 0, srw = 0;
	for (size_t i = 0; i < n; i++) {
		sr += pts[i].R;
		sw += pts[i].w;
		srr += pts[i].R * pts[i].R;
		srw += pts[i].R * pts[i].w;
	}
	double den = n * srr - sr * sr;
	if (!(fabs(den) > 0)) {
		rc = mg_fail(MG_ERR_ARG, QDOM, "%s %s: the standards' intensities do not vary", e->element, e->line);
		goto out;
	}
	e->b1 = (n * srw - sr * sw) / den;
	e->b0 = (sw - e->b1 * sr) / n;
	for (size_t j = 0; j < e->nalpha; j++)
		e->alpha[j] = 0;
	double chisq = 0;
	for (int it = 0; it < 30; it++) {
		for (size_t i = 0; i < n; i++) {
			const pt *p = &pts[i];
			double a = 1;
			for (size_t j = 0; j < e->nalpha; j++)
				a += e->alpha[j] * p->wj[j];
			double b = e->b0 + e->b1 * p->R;
			gsl_matrix_set(J, i, 0, a);
			gsl_matrix_set(J, i, 1, p->R * a);
			for (size_t j = 0; j < e->nalpha; j++)
				gsl_matrix_set(J, i, 2 + j, b * p->wj[j]);
			gsl_vector_set(r, i, p->w - b * a);
		}
		if (gsl_multifit_linear(J, r, d, cov, &chisq, ws) != 0) {
			rc = mg_fail(MG_ERR_ARG, QDOM, "%s %s: singular calibration (influences not independent?)",
			             e->element, e->line);
			goto out;
		}
		double step = 0;
		e->b0 += gsl_vector_get(d, 0);
		e->b1 += gsl_vector_get(d, 1);
		step = fabs(gsl_vector_get(d, 0)) + fabs(gsl_vector_get(d, 1) * (sr / n));
		for (size_t j = 0; j < e->nalpha; j++) {
			e->alpha[j] += gsl_vector_get(d, 2 + j);
			step += fabs(gsl_vector_get(d, 2 + j)) * 0.1;
		}
		if (step < 1e-12)
			break;
	}
	/* residuals and covariance at the solution: s²·(JᵀJ)⁻¹ */
	double rss = 0;
	for (size_t i = 0; i < n; i++) {
		double v = pts[i].w - model(e, &pts[i]);
		rss += v * v;
	}
	e->s_resid = n > np ? sqrt(rss / (double)(n - np)) : 0;
	/* gsl_multifit_linear's cov is σ²(JᵀJ)⁻¹ with σ² = χ²/(n − p) of the last step: rescale */
	double s2_step = n > np ? chisq / (double)(n - np) : 0;
	double s2 = e->s_resid * e->s_resid;
	memset(e->cov, 0, sizeof e->cov);
	for (size_t i = 0; i < np; i++)
		for (size_t j = 0; j < np; j++) {
			double c = gsl_matrix_get(cov, i, j);
			e->cov[i * NP_MAX + j] = s2_step > 0 ? c * s2 / s2_step : 0;
		}
	e->nstd = n;
out:
	gsl_matrix_free(J);
	gsl_matrix_free(cov);
	gsl_vector_free(r);
	gsl_vector_free(d);
	if (ws)
		gsl_multifit_linear_free(ws);
	return rc;
}

int mg_quant_calibrate(const mg_instrument_desc *ins, const char *elements, const mg_quant_options *o,
                       const mg_quant_standard *stds, size_t nstd, const char *influences,
                       mg_quant_calibration *out)
{
	if (!ins || !o || !stds || !nstd || !out)
		return mg_fail(MG_ERR_ARG, QDOM, "calibrate: NULL argument or no standard");
	memset(out, 0, sizeof *out);
	out->instrument = *ins;
	char list[512] = "";
	size_t len = 0;
	if (elements)
		len += (size_t)snprintf(list, sizeof list, "%s", elements);
	for (size_t s = 0; s < nstd; s++)
		for (size_t i = 0; i < stds[s].comp.n && len + 4 < sizeof list; i++)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? "," : "",
			                        q_z_symbol(stds[s].comp.z[i]));
	for (size_t i = 0; i < o->fixed.n && len + 4 < sizeof list; i++)
		len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? "," : "", q_z_symbol(o->fixed.z[i]));
	mg_fp_model *fp = NULL;
	int rc = mg_fp_model_new(ins, list, (o->flags & MG_QUANT_NO_SECONDARY) ? MG_FP_NO_SECONDARY : 0, &fp);
	if (rc < 0)
		return rc;
	/* the element list, deduplicated, as the model holds it */
	len = 0;
	for (size_t e = 0; e < q_fp_nelements(fp) && len + 4 < sizeof out->elements; e++)
		len += (size_t)snprintf(out->elements + len, sizeof out->elements - len, "%s%s", len ? "," : "",
		                        q_z_symbol(q_fp_element_z(fp, e)));
	q_ifac fac;
	if ((rc = q_instrument_factors(fp, &q_fp_knobs_none, stds, nstd, 1, &fac)) < 0)
		goto fail;
	memcpy(out->g, fac.g, sizeof out->g);
	memcpy(out->g_u, fac.gu, sizeof out->g_u);
	memcpy(out->g_n, fac.gn, sizeof out->g_n);
	out->tilt = fac.tilt;
	out->tilt_u = fac.tilt_fitted ? fac.tilt_u : 0;
	out->stds = malloc(nstd * sizeof *out->stds);
	if (!out->stds) {
		rc = mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
		goto fail;
	}
	memcpy(out->stds, stds, nstd * sizeof *stds);
	out->nstd = nstd;
	/* ranges */
	for (size_t s = 0; s < nstd; s++)
		for (size_t i = 0; i < stds[s].comp.n; i++) {
			int z = stds[s].comp.z[i];
			double w = stds[s].comp.w[i];
			int have = 0;
			for (size_t k = 0; k < out->range_lo.n; k++)
				if (out->range_lo.z[k] == z) {
					have = 1;
					out->range_lo.w[k] = fmin(out->range_lo.w[k], w);
					out->range_hi.w[k] = fmax(out->range_hi.w[k], w);
				}
			if (!have) {
				mg_quant_comp_set(&out->range_lo, z, w, 0);
				mg_quant_comp_set(&out->range_hi, z, w, 0);
			}
		}
	/* calibration lines: every (element, line) the standards measured, with its value known */
	pt *pts = malloc(nstd * sizeof *pts);
	if (!pts) {
		rc = mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
		goto fail;
	}
	for (size_t s0 = 0; s0 < nstd; s0++) {
		for (size_t i0 = 0; i0 < stds[s0].meas.n; i0++) {
			const mg_quant_line *l0 = &stds[s0].meas.lines[i0];
			int done = 0;
			for (size_t k = 0; k < out->nlines; k++)
				done |= out->lines[k].z == l0->z && strcmp(out->lines[k].line, l0->line) == 0;
			int fixed = 0;
			for (size_t f = 0; f < o->fixed.n; f++)
				fixed |= o->fixed.z[f] == l0->z;
			if (done || fixed || out->nlines >= MG_QUANT_MAX_EL)
				continue;
			mg_quant_empirical_line e;
			memset(&e, 0, sizeof e);
			e.z = l0->z;
			snprintf(e.element, sizeof e.element, "%s", l0->element);
			snprintf(e.line, sizeof e.line, "%s", l0->line);
			int na = influences ? influences_of(influences, e.z, e.alpha_z, MG_QUANT_MAX_ALPHA) : 0;
			if (na < 0) {
				rc = na;
				free(pts);
				goto fail;
			}
			e.nalpha = (size_t)na;
			size_t n = 0;
			e.w_min = INFINITY;
			e.w_max = -INFINITY;
			for (size_t s = 0; s < nstd; s++) {
				const mg_quant_line *l = mg_quant_meas_find(&stds[s].meas, e.z, e.line);
				int known = 0;
				double w = 0;
				for (size_t c = 0; c < stds[s].comp.n; c++)
					if (stds[s].comp.z[c] == e.z) {
						known = 1;
						w = stds[s].comp.w[c];
					}
				double R = l ? mg_quant_line_rate(&stds[s].meas, l) : NAN;
				if (!known || !isfinite(R))
					continue;
				pts[n].R = R;
				pts[n].w = w;
				for (size_t j = 0; j < e.nalpha; j++)
					pts[n].wj[j] = mg_quant_comp_get(&stds[s].comp, e.alpha_z[j]);
				e.w_min = fmin(e.w_min, w);
				e.w_max = fmax(e.w_max, w);
				n++;
			}
			/* fewer standards than the influences need: drop influences */
			while (e.nalpha && n < 3 + e.nalpha) {
				mg_warn(QDOM, "calibration %s %s: %zu standards, influence of %s dropped", e.element, e.line, n,
				        q_z_symbol(e.alpha_z[e.nalpha - 1]));
				e.nalpha--;
			}
			if (n < 3 || !(e.w_max > e.w_min))
				continue;
			if ((rc = fit_line(&e, pts, n)) < 0) {
				mg_warn(QDOM, "calibration %s %s: %s", e.element, e.line, mg_error_detail());
				mg_error_clear();
				rc = 0;
				continue;
			}
			out->lines[out->nlines++] = e;
		}
	}
	free(pts);
	mg_fp_model_free(fp);
	return 0;
fail:
	mg_fp_model_free(fp);
	mg_quant_calibration_clear(out);
	return rc;
}

/* ---------------------------------------------------------------- use */

static double wj_of(const q_run *r, int z)
{
	int e = q_fp_element_index(r->q->fp, z);
	return e >= 0 ? r->w[e] : 0;
}

int q_empirical_apply(q_run *r)
{
	const double tol = r->q->o.tol > 0 ? r->q->o.tol : 1e-6;
	const int bal = r->s.balance_el;
	for (int it = 0; it < 100; it++) {
		double maxd = 0;
		for (size_t k = 0; k < r->na; k++) {
			const mg_quant_empirical_line *e = r->a[k].emp;
			if (!e)
				continue;
			double a = 1;
			for (size_t j = 0; j < e->nalpha; j++)
				a += e->alpha[j] * wj_of(r, e->alpha_z[j]);
			double w = (e->b0 + e->b1 * r->a[k].R) * a;
			maxd = fmax(maxd, fabs(w - r->w[r->a[k].el]));
			r->w[r->a[k].el] = w;
		}
		if (bal >= 0) {
			double others = 0;
			size_t ne = q_fp_nelements(r->q->fp);
			for (size_t e = 0; e < ne; e++)
				if ((int)e != bal)
					others += r->w[e];
			maxd = fmax(maxd, fabs(1 - others - r->w[bal]));
			r->w[bal] = 1 - others;
		}
		if (maxd < tol)
			return 0;
	}
	mg_warn(QDOM, "empirical: influence iteration did not converge");
	return 0;
}

void q_empirical_uncertainty(const q_run *r, size_t k, double *u_cal, double *u_mat, double *sens)
{
	const mg_quant_empirical_line *e = r->a[k].emp;
	double R = r->a[k].R, a = 1;
	double wj[MG_QUANT_MAX_ALPHA];
	for (size_t j = 0; j < e->nalpha; j++) {
		wj[j] = wj_of(r, e->alpha_z[j]);
		a += e->alpha[j] * wj[j];
	}
	double b = e->b0 + e->b1 * R;
	double g[NP_MAX] = {a, R * a};
	size_t np = 2 + e->nalpha;
	for (size_t j = 0; j < e->nalpha; j++)
		g[2 + j] = b * wj[j];
	double vfull = 0, vab = 0;
	for (size_t i = 0; i < np; i++)
		for (size_t j = 0; j < np; j++) {
			double c = g[i] * g[j] * e->cov[i * NP_MAX + j];
			vfull += c;
			if (i < 2 && j < 2)
				vab += c;
		}
	/* the (b0, b1) and α blocks alone, scaled together to the full variance
	 * (their correlation is strong: w_Fe and the intensities move together) */
	double va = 0;
	for (size_t i = 2; i < np; i++)
		for (size_t j = 2; j < np; j++)
			va += g[i] * g[j] * e->cov[i * NP_MAX + j];
	vab = fmax(vab, 0);
	va = fmax(va, 0);
	vfull = fmax(vfull, 0);
	double f = vab + va > 0 ? vfull / (vab + va) : 0;
	*u_cal = sqrt(f * vab + e->s_resid * e->s_resid);
	*u_mat = sqrt(f * va);
	double dwdR = e->b1 * a;
	*sens = dwdR != 0 ? 1.0 / fabs(dwdR * r->a[k].c) : 0;
}

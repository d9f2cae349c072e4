/* SPDX-License-Identifier: GPL-3.0-or-later */
/* FP instrument factors from standards: measured/predicted rate of every
 * usable line of the standards, one factor per shell class (K, L, M) with
 * its uncertainty, and the tube-spectrum tilt fitted so that one factor
 * explains every line (q_instrument_factors, quant_internal.h). Used when a
 * quantification is prepared, by the uncertainty perturbations and by
 * mg_quant_calibrate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/quant.h"
#include "quant_internal.h"

static int usable_std_line(const mg_quant_standard *s, const mg_quant_line *l)
{
	return l->area > 0 && l->area > 10 * l->sigma && mg_quant_comp_get(&s->comp, l->z) >= 1e-3 &&
	       s->meas.live_time_s > 0;
}

#define QI_MAX 256

typedef struct qi_pts {
	size_t n;
	int cls[QI_MAX], z[QI_MAX];
	double e[QI_MAX];              /* main line energy */
	double lr[QI_MAX], wt[QI_MAX]; /* ln(measured/predicted), 1/relative variance */
} qi_pts;

/* Measured/predicted rate of every usable line of the standards under knobs k. */
static int qi_collect(const mg_fp_model *fp, const q_fp_knobs *k, const mg_quant_standard *stds, size_t n,
                      qi_pts *p)
{
	double w[2 * MG_QUANT_MAX_EL];
	p->n = 0;
	for (size_t s = 0; s < n; s++) {
		const mg_quant_standard *S = &stds[s];
		int rc = q_comp_to_w(fp, &S->comp, w);
		if (rc < 0)
			return mg_fail(rc, QDOM, "standard %s: %s", S->name, mg_error_detail());
		int fam[MG_QUANT_MAX_EL];
		size_t idx[MG_QUANT_MAX_EL], nf = 0;
		for (size_t i = 0; i < S->meas.n; i++) {
			const mg_quant_line *l = &S->meas.lines[i];
			if (!usable_std_line(S, l))
				continue;
			int f = q_fp_family(fp, l->z, l->line);
			if (f < 0)
				continue;
			fam[nf] = f;
			idx[nf++] = i;
		}
		mg_error_clear();
		if (!nf)
			continue;
		double P[MG_QUANT_MAX_EL], Q[MG_QUANT_MAX_EL];
		if ((rc = q_fp_eval(fp, w, k, fam, nf, P, Q)) < 0)
			return rc;
		for (size_t j = 0; j < nf && p->n < QI_MAX; j++) {
			const mg_quant_line *l = &S->meas.lines[idx[j]];
			double pred = P[j] + Q[j], meas = mg_quant_line_rate(&S->meas, l);
			int c = q_family_class(l->line);
			if (!(pred > 0) || !(meas > 0) || c < 0)
				continue;
			double wz = mg_quant_comp_get(&S->comp, l->z), uz = 0;
			for (size_t i = 0; i < S->comp.n; i++)
				if (S->comp.z[i] == l->z)
					uz = S->comp.u[i];
			/* counting, the standard's value, and 0.5 % for the line's own model */
			double rv = (l->sigma / l->area) * (l->sigma / l->area) + (uz / wz) * (uz / wz) + 2.5e-5;
			p->cls[p->n] = c;
			p->e[p->n] = l->energy_kev;
			p->z[p->n] = l->z;
			p->lr[p->n] = log(meas / pred);
			p->wt[p->n] = 1.0 / rv;
			p->n++;
		}
	}
	return 0;
}

/* Weighted χ² of ln(ratio) about one common factor, over the lines at or
 * above emin keV. */
static double qi_chi2(const qi_pts *p, double emin, double *mean, double *sw)
{
	double s = 0, sx = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i] >= emin) {
			s += p->wt[i];
			sx += p->wt[i] * p->lr[i];
		}
	double m = s > 0 ? sx / s : 0, c = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i] >= emin)
			c += p->wt[i] * (p->lr[i] - m) * (p->lr[i] - m);
	if (mean)
		*mean = m;
	if (sw)
		*sw = s;
	return c;
}

/* The tube tilt is fitted on lines above 4 keV: below, the detector window and
 * dead layer (and the atmosphere) weigh more than the excitation. */
#define TILT_EMIN 4.0

static int qi_chi2_at(const mg_fp_model *fp, const q_fp_knobs *k, double t, const mg_quant_standard *stds,
                      size_t n, qi_pts *p, double emin, double *chi2)
{
	q_fp_knobs kk = *k;
	kk.tilt = t;
	int rc = qi_collect(fp, &kk, stds, n, p);
	if (rc < 0)
		return rc;
	*chi2 = qi_chi2(p, emin, NULL, NULL);
	return 0;
}

int q_instrument_factors(const mg_fp_model *fp, const q_fp_knobs *k, const mg_quant_standard *stds, size_t n,
                         int fit_tilt, q_ifac *out)
{
	memset(out, 0, sizeof *out);
	out->tilt = k->tilt;
	qi_pts *p = malloc(sizeof *p);
	if (!p)
		return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
	int rc = qi_collect(fp, k, stds, n, p);
	if (rc < 0)
		goto out;
	/* the lines the tilt is fitted on: those above TILT_EMIN when there are 3 of 2 elements */
	double emin = TILT_EMIN;
	int nel = 0;
	size_t nfit = 0;
	for (int pass = 0; pass < 2; pass++) {
		nel = 0;
		nfit = 0;
		for (size_t i = 0; i < p->n; i++) {
			if (p->e[i] < emin)
				continue;
			nfit++;
			int seen = 0;
			for (size_t j = 0; j < i; j++)
				seen |= p->z[j] == p->z[i] && p->e[j] >= emin;
			nel += !seen;
		}
		if (nfit >= 3 && nel >= 2)
			break;
		emin = 0;
	}
	/* the tube-spectrum shape: beam × (E/10 keV)^t, t fitted so that one factor
	 * explains every line of every standard (golden section on [-1.5, 1.5]) */
	if (fit_tilt && nfit >= 3 && nel >= 2) {
		const double gr = 0.6180339887498949;
		double a = -1.5, b = 1.5, c1 = b - gr * (b - a), c2 = a + gr * (b - a), f1, f2;
		if ((rc = qi_chi2_at(fp, k, c1, stds, n, p, emin, &f1)) < 0 || (rc = qi_chi2_at(fp, k, c2, stds, n, p, emin, &f2)) < 0)
			goto out;
		while (b - a > 2e-3) {
			if (f1 < f2) {
				b = c2;
				c2 = c1;
				f2 = f1;
				c1 = b - gr * (b - a);
				if ((rc = qi_chi2_at(fp, k, c1, stds, n, p, emin, &f1)) < 0)
					goto out;
			} else {
				a = c1;
				c1 = c2;
				f1 = f2;
				c2 = a + gr * (b - a);
				if ((rc = qi_chi2_at(fp, k, c2, stds, n, p, emin, &f2)) < 0)
					goto out;
			}
		}
		double t = 0.5 * (a + b), h = 0.05, f0, fp1, fm1;
		if ((rc = qi_chi2_at(fp, k, t + h, stds, n, p, emin, &fp1)) < 0 ||
		    (rc = qi_chi2_at(fp, k, t - h, stds, n, p, emin, &fm1)) < 0 ||
		    (rc = qi_chi2_at(fp, k, t, stds, n, p, emin, &f0)) < 0)
			goto out;
		double curv = (fp1 - 2 * f0 + fm1) / (h * h);
		double red = nfit > 2 ? f0 / (double)(nfit - 2) : 1;
		double st = curv > 0 ? sqrt(2.0 / curv * fmax(red, 1.0)) : INFINITY;
		mg_dbg(QDOM, "tube tilt fit: t %.3f chi2 %.4g (red %.3g) curvature %.4g -> sigma %.3f, %zu lines >= %.1f keV",
		       t, f0, red, curv, st, nfit, emin);
		if (st < 0.5 && fabs(t) < 1.45) {
			out->tilt = t;
			out->tilt_u = st;
			out->tilt_fitted = 1;
		} else if ((rc = qi_collect(fp, k, stds, n, p)) < 0) {
			goto out;
		}
	}
	if (out->tilt_fitted) {
		/* one factor for every shell class, from the lines the tilt was fitted on */
		size_t nu = 0;
		for (size_t i = 0; i < p->n; i++)
			nu += p->e[i] >= emin;
		double m, sw, chi2 = qi_chi2(p, emin, &m, &sw);
		double red = nu > 2 ? chi2 / (double)(nu - 2) : 1;
		double se2 = fmax(red, 1.0) / sw, scatter2 = chi2 / sw * (double)nu / (double)(nu > 2 ? nu - 2 : 1);
		for (int c = 0; c < 3; c++) {
			int nc = 0;
			for (size_t i = 0; i < p->n; i++)
				nc += p->cls[i] == c;
			if (!nc)
				continue;
			out->g[c] = exp(m);
			out->gu[c] = sqrt(se2 + scatter2);
			out->gn[c] = nc;
		}
	} else {
		for (int c = 0; c < 3; c++) {
			double s = 0, sx = 0, sxx = 0;
			int nc = 0;
			for (size_t i = 0; i < p->n; i++)
				if (p->cls[i] == c) {
					s += p->wt[i];
					sx += p->wt[i] * p->lr[i];
					sxx += p->wt[i] * p->lr[i] * p->lr[i];
					nc++;
				}
			if (!nc)
				continue;
			double m = sx / s, var = nc > 1 ? fmax(sxx / s - m * m, 0) * nc / (nc - 1.0) : 0;
			double se2 = 1.0 / s;
			/* element-to-element scatter (FP data, model) counts fully once there are 3 or more */
			out->g[c] = exp(m);
			out->gu[c] = nc >= 3 ? sqrt(se2 + var) : sqrt(se2 + var / nc);
			out->gn[c] = nc;
		}
	}
	rc = 0;
out:
	free(p);
	return rc;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The matrix correction: from measured quantities (k-ratios or rates) to mass
 * fractions, iterated to convergence with the FP model (xrf-physics.md §4.1):
 *
 *   predicted_i(w) = scale_i · N_i(w),  N_i the FP rate of the line family,
 *   n_i(w) = N_i(w)/w_i (the sensitivity in the current matrix),
 *   w_i ← target_i / (scale_i · n_i(w))            (Criss–Birks; linear in
 *                                                   the target, so negative
 *                                                   values stay possible)
 *
 * The matrix used for absorption and enhancement is the current estimate
 * normalised to 1 (unmeasured remainder spread proportionally); fixed elements
 * (boron, nominal or from ICP) keep their values; an element by difference
 * takes 1 − the rest; `normalise` (ignored with a balance element) scales the
 * analytes so that the total is 1 (standardless FP: the instrument factor is
 * unknown). Stops when every mass
 * fraction moves by less than tol; a damped update (λ = 0.5) takes over when a
 * change flips sign (oscillation). */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "quant_internal.h"

#define WMIN 1e-7 /* floor of a mass fraction inside the matrix (absorption needs w >= 0) */

static double sum_w(const q_solve *s, const double *w, size_t ne)
{
	(void)s;
	double t = 0;
	for (size_t e = 0; e < ne; e++)
		t += w[e];
	return t;
}

int q_solve_run(q_solve *s)
{
	const size_t ne = q_fp_nelements(s->fp);
	if (ne > MG_QUANT_MAX_EL * 2)
		return mg_fail(MG_ERR_INTERNAL, QDOM, "solve: too many elements");
	double w[MG_QUANT_MAX_EL * 2] = {0}, wm[MG_QUANT_MAX_EL * 2], prev_d[MG_QUANT_MAX_EL] = {0};
	int fam[MG_QUANT_MAX_EL];
	double P[MG_QUANT_MAX_EL], S[MG_QUANT_MAX_EL];
	double fixed = 0;
	for (size_t f = 0; f < s->nfixed; f++) {
		w[s->fixed_el[f]] = s->fixed_w[f];
		fixed += s->fixed_w[f];
	}
	if (!s->na)
		return mg_fail(MG_ERR_ARG, QDOM, "solve: no analyte");
	for (size_t k = 0; k < s->na; k++)
		fam[k] = s->a[k].fam;
	/* start: a warm start if the caller gave one (w[] of the struct non-zero), else an even share */
	double warm = 0;
	for (size_t k = 0; k < s->na; k++)
		warm += fabs(s->w[s->a[k].el]);
	double rest = 1.0 - fixed;
	if (rest < 0.05)
		rest = 0.05;
	for (size_t k = 0; k < s->na; k++)
		w[s->a[k].el] = warm > 0 ? s->w[s->a[k].el] : rest / (double)(s->na + (s->balance_el >= 0));
	if (s->balance_el >= 0 && !(warm > 0))
		w[s->balance_el] = rest / (double)(s->na + 1);
	else if (s->balance_el >= 0)
		w[s->balance_el] = s->w[s->balance_el];
	double lambda = 1.0;
	s->converged = 0;
	int it;
	for (it = 1; it <= s->max_iter; it++) {
		/* the matrix: current estimate, floored, normalised */
		double t = 0;
		for (size_t e = 0; e < ne; e++)
			wm[e] = w[e] > 0 ? w[e] : 0;
		for (size_t k = 0; k < s->na; k++)
			if (wm[s->a[k].el] < WMIN)
				wm[s->a[k].el] = WMIN; /* an analyte needs w > 0 for its sensitivity */
		for (size_t e = 0; e < ne; e++)
			t += wm[e];
		for (size_t e = 0; e < ne; e++)
			wm[e] /= t;
		int rc = q_fp_eval(s->fp, wm, &s->knobs, fam, s->na, P, S);
		if (rc < 0)
			return rc;
		double wn[MG_QUANT_MAX_EL];
		for (size_t k = 0; k < s->na; k++) {
			double n = (P[k] + S[k]) / wm[s->a[k].el];
			double pred = s->a[k].scale * n;
			if (!(pred > 0) || !isfinite(pred))
				return mg_fail(MG_ERR_NOT_FOUND, QDOM, "solve: %s has no predicted intensity",
				               q_z_symbol(s->a[k].z));
			wn[k] = s->a[k].target / pred;
			s->rate[k] = n; /* per unit mass fraction */
		}
		double asum = 0;
		for (size_t k = 0; k < s->na; k++)
			asum += wn[k];
		s->sum_raw = asum + fixed;
		s->norm = 1.0;
		if (s->normalise && s->balance_el < 0 && asum > 0) {
			double f = (1.0 - fixed) / asum;
			for (size_t k = 0; k < s->na; k++)
				wn[k] *= f;
			s->norm = f;
		}
		double maxd = 0;
		int flip = 0;
		for (size_t k = 0; k < s->na; k++) {
			double d = wn[k] - w[s->a[k].el];
			if (it > 2 && d * prev_d[k] < 0 && fabs(d) > s->tol)
				flip = 1;
			prev_d[k] = d;
			maxd = fmax(maxd, fabs(d));
		}
		if (flip)
			lambda = 0.5;
		for (size_t k = 0; k < s->na; k++) {
			double *x = &w[s->a[k].el];
			*x += lambda * (wn[k] - *x);
		}
		if (s->balance_el >= 0) {
			double others = sum_w(s, w, ne) - w[s->balance_el];
			double b = 1.0 - others;
			maxd = fmax(maxd, fabs(b - w[s->balance_el]));
			w[s->balance_el] = b;
		}
		if (maxd < s->tol) {
			s->converged = 1;
			break;
		}
	}
	s->iterations = it > s->max_iter ? s->max_iter : it;
	memcpy(s->w, w, sizeof(double) * ne);
	return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The combined standard uncertainty of every mass fraction and the detection
 * and quantification limits (xrf-physics.md §4.4–4.5).
 *
 *  - counting: the fitted area's σ (the engine's covariance, which carries the
 *    overlaps: Dy Lα on Fe Kα) through the linearised solution w = q·N, with
 *    q_i = target_i/(scale_i·n_i(w)) and, when normalised, w_i = (1 − F)·q_i/Σq
 *    (F the fixed elements): u_w² = Σ_j (∂w_i/∂q_j)²·u_qj²;
 *  - calibration: k-ratios: the standard's counting σ and its certified
 *    uncertainty; FP with standards: the instrument factor's uncertainty
 *    (standard error and, with 3 or more lines, their scatter: element-to-element
 *    FP data errors); standardless FP: an independent relative uncertainty of
 *    every element's sensitivity (u_fp_data_rel for L and M lines, 40 % of it
 *    for K lines) through the normalisation; empirical: the calibration
 *    line's parameter covariance and residual scatter;
 *  - matrix: the solution recomputed with the FP model perturbed by the sizes
 *    in the options — secondary fluorescence × (1 + u_sf_rel), tube spectrum ×
 *    (E/10 keV)^u_tube_tilt, absorption of the major element above its edge ×
 *    (1 + u_mu_rel), the fixed elements (boron) + their uncertainty — the
 *    standards recomputed under the same perturbation, so what a matrix-matched
 *    standard cancels is cancelled; the changes added in quadrature;
 *  - LOD = lod_k·σ_B/S and LOQ = loq_k·σ_B/S (3σ_B and 10σ_B), σ_B the
 *    σ of the area with the element absent (background and overlaps under the
 *    line), S = d(area)/d(w) at the result. */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "quant_internal.h"

/* Partial derivative of the normalised w_i with respect to q_j. */
static double dnorm(const q_run *r, size_t i, size_t j, double Q, double F)
{
	double qi = r->s.w[r->a[i].el] / (r->s.norm > 0 ? r->s.norm : 1.0);
	return (1.0 - F) * ((i == j ? 1.0 / Q : 0.0) - qi / (Q * Q));
}

int q_uncertainty(q_run *r)
{
	const mg_quant *q = r->q;
	const size_t na = r->na;
	const q_solve *s = &r->s;
	double uq[MG_QUANT_MAX_EL], qv[MG_QUANT_MAX_EL], Q = 0, F = 0;
	for (size_t f = 0; f < s->nfixed; f++)
		F += s->fixed_w[f];
	int norm = s->normalise && s->balance_el < 0;
	double nf = s->norm > 0 ? s->norm : 1.0;
	for (size_t k = 0; k < na; k++) {
		const q_an *a = &r->a[k];
		double d = s->a[k].scale * s->rate[k]; /* d(target)/d(q) */
		qv[k] = s->w[a->el] / nf;
		Q += qv[k];
		uq[k] = d > 0 ? a->line->sigma * a->c / d : INFINITY;
		r->sens[k] = d > 0 ? d / (a->c * nf) : 0;
	}
	/* counting */
	for (size_t i = 0; i < na; i++) {
		if (!norm || !(Q > 0)) {
			r->u_count[i] = uq[i] * nf;
			continue;
		}
		double v = 0;
		for (size_t j = 0; j < na; j++) {
			double g = dnorm(r, i, j, Q, F);
			v += g * g * uq[j] * uq[j];
		}
		r->u_count[i] = sqrt(v);
	}
	/* calibration */
	for (size_t i = 0; i < na; i++) {
		const q_an *a = &r->a[i];
		double w = fabs(r->w[a->el]);
		if (r->method == MG_QUANT_KRATIO && a->std) {
			double rs = a->sline->sigma / a->sline->area, rw = a->wstd > 0 ? a->uwstd / a->wstd : 0;
			r->u_cal[i] = w * sqrt(rs * rs + rw * rw);
		} else if (!r->standardless) {
			int c = a->cls;
			double gu = c >= 0 && c < 3 && q->g[c] > 0 ? q->g_u[c] : NAN;
			if (!isfinite(gu)) { /* the class has no standard: another class's factor */
				gu = 0;
				for (int k = 0; k < 3; k++)
					if (q->g[k] > 0)
						gu = fmax(gu, q->g_u[k]);
				gu = sqrt(gu * gu + q->o.u_fp_data_rel * q->o.u_fp_data_rel);
			}
			r->u_cal[i] = w * gu;
		} else {
			double v = 0;
			for (size_t j = 0; j < na; j++) {
				double rel = r->a[j].cls == 0 ? 0.4 * q->o.u_fp_data_rel : q->o.u_fp_data_rel;
				double g = norm && Q > 0 ? dnorm(r, i, j, Q, F) : (i == j ? 1.0 : 0.0);
				v += (g * qv[j] * rel) * (g * qv[j] * rel);
			}
			r->u_cal[i] = sqrt(v);
		}
	}
	/* matrix: FP perturbations */
	memset(r->u_mat, 0, sizeof r->u_mat);
	r->u_balance = 0;
	if (!(r->flags & MG_QUANT_NO_MATRIX_U)) {
		q_fp_knobs ks[3] = {q->base, q->base, q->base};
		ks[0].sf_scale = q->base.sf_scale * (1.0 + q->o.u_sf_rel);
		ks[1].tilt = q->base.tilt + (q->tilt_u > 0 ? q->tilt_u : q->o.u_tube_tilt);
		ks[2].mu_z = r->mu_z;
		ks[2].mu_scale = 1.0 + q->o.u_mu_rel;
		double fixed_w[MG_QUANT_MAX_EL];
		int nfix = 0;
		for (size_t f = 0; f < q->o.fixed.n; f++) {
			fixed_w[f] = q->o.fixed.w[f] + q->o.fixed.u[f];
			nfix |= q->o.fixed.u[f] > 0;
		}
		for (int p = 0; p < 4; p++) {
			if (p == 0 && !(q->o.u_sf_rel > 0))
				continue;
			if (p == 1 && !(q->o.u_tube_tilt > 0))
				continue;
			if (p == 2 && (!(q->o.u_mu_rel > 0) || !r->mu_z))
				continue;
			if (p == 3 && !nfix)
				continue;
			q_solve ps;
			int rc = q_run_setup(r, p < 3 ? &ks[p] : &q->base, p == 3 ? fixed_w : NULL, &ps);
			if (rc < 0)
				return rc;
			memcpy(ps.w, r->s.w, sizeof ps.w); /* warm start */
			if ((rc = q_solve_run(&ps)) < 0)
				return rc;
			for (size_t k = 0; k < na; k++) {
				double d = ps.w[r->a[k].el] - r->s.w[r->a[k].el];
				r->u_mat[k] += d * d;
			}
			if (s->balance_el >= 0) {
				double d = ps.w[s->balance_el] - r->s.w[s->balance_el];
				r->u_balance += d * d;
			}
		}
		for (size_t k = 0; k < na; k++)
			r->u_mat[k] = sqrt(r->u_mat[k]);
	}
	/* the empirical calibration lines replace the FP parts for their elements */
	for (size_t k = 0; k < na; k++) {
		if (!r->a[k].emp)
			continue;
		double uc, um, sens;
		q_empirical_uncertainty(r, k, &uc, &um, &sens);
		r->u_cal[k] = uc;
		r->u_mat[k] = um;
		r->sens[k] = sens;
		r->u_count[k] = sens > 0 ? r->a[k].line->sigma / sens : INFINITY;
	}
	if (s->balance_el >= 0) {
		double v = r->u_balance;
		for (size_t k = 0; k < na; k++)
			v += r->u_count[k] * r->u_count[k] + r->u_cal[k] * r->u_cal[k];
		r->u_balance = sqrt(v);
	}
	/* detection and quantification limits */
	for (size_t k = 0; k < na; k++) {
		double sb = r->a[k].line->sigma_bg;
		double lod_k = q->o.lod_k > 0 ? q->o.lod_k : 3, loq_k = q->o.loq_k > 0 ? q->o.loq_k : 10;
		r->lod[k] = r->sens[k] > 0 ? lod_k * sb / r->sens[k] : NAN;
		r->loq[k] = r->sens[k] > 0 ? loq_k * sb / r->sens[k] : NAN;
	}
	return 0;
}

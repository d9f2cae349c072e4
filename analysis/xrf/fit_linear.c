/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The fast path's solver: weighted linear least squares with non-negative
 * family areas (continuum coefficients free), by Lawson–Hanson's active set
 * method on the normal equations (as in Bro & de Jong's FNNLS), with Cholesky
 * solves of the passive subsets, and the covariance (AᵀWA)⁻¹. The design's
 * columns are banded ([lo, hi) per column) so the normal matrix costs only
 * the overlaps. Allocation-free: every array lives in an_nnls_ws. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "an.h"
#include "internal.h"

#define RIDGE 1e-11 /* relative to the unit diagonal of the scaled normal matrix */

int an_nnls_ws_init(an_nnls_ws *ws, size_t pmax)
{
	memset(ws, 0, sizeof(*ws));
	ws->pmax = pmax;
	size_t p = pmax ? pmax : 1;
	ws->g = malloc(p * p * sizeof(double));
	ws->chol = malloc(p * p * sizeof(double));
	ws->b = malloc(p * sizeof(double));
	ws->x = malloc(p * sizeof(double));
	ws->s = malloc(p * sizeof(double));
	ws->wgrad = malloc(p * sizeof(double));
	ws->scale = malloc(p * sizeof(double));
	ws->tmp = malloc(p * sizeof(double));
	ws->passive = malloc(p);
	ws->active = malloc(p);
	ws->warm = calloc(p, 1);
	ws->idx = malloc(p * sizeof(size_t));
	if (!ws->g || !ws->chol || !ws->b || !ws->x || !ws->s || !ws->wgrad || !ws->scale ||
	    !ws->tmp || !ws->passive || !ws->active || !ws->warm || !ws->idx) {
		an_nnls_ws_destroy(ws);
		return mg_fail(MG_ERR_NOMEM, AN_DOM, "out of memory");
	}
	return 0;
}

void an_nnls_ws_destroy(an_nnls_ws *ws)
{
	free(ws->g);
	free(ws->chol);
	free(ws->b);
	free(ws->x);
	free(ws->s);
	free(ws->wgrad);
	free(ws->scale);
	free(ws->tmp);
	free(ws->passive);
	free(ws->active);
	free(ws->warm);
	free(ws->idx);
	memset(ws, 0, sizeof(*ws));
}

/* Cholesky of the m×m submatrix G[idx, idx] (p = row stride) into L (m×m). */
static void chol_sub(const double *g, size_t p, const size_t *idx, size_t m, double *l)
{
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j <= i; j++) {
			double s = g[idx[i] * p + idx[j]];
			for (size_t k = 0; k < j; k++)
				s -= l[i * m + k] * l[j * m + k];
			if (i == j) {
				s += RIDGE;
				l[i * m + i] = s > 1e-300 ? sqrt(s) : 1e-150;
			} else {
				l[i * m + j] = s / l[j * m + j];
			}
		}
	}
}

/* Solve L Lᵀ x = r in place (r has m entries). */
static void chol_solve(const double *l, size_t m, double *r)
{
	for (size_t i = 0; i < m; i++) {
		double s = r[i];
		for (size_t k = 0; k < i; k++)
			s -= l[i * m + k] * r[k];
		r[i] = s / l[i * m + i];
	}
	for (size_t i = m; i-- > 0;) {
		double s = r[i];
		for (size_t k = i + 1; k < m; k++)
			s -= l[k * m + i] * r[k];
		r[i] = s / l[i * m + i];
	}
}

/* s = solution on the passive set (zero elsewhere). */
static void solve_passive(an_nnls_ws *ws, size_t p, const unsigned char *active)
{
	size_t m = 0;
	for (size_t j = 0; j < p; j++)
		if (active[j] && ws->passive[j])
			ws->idx[m++] = j;
	for (size_t j = 0; j < p; j++)
		ws->s[j] = 0;
	if (!m)
		return;
	chol_sub(ws->g, p, ws->idx, m, ws->chol);
	for (size_t i = 0; i < m; i++)
		ws->tmp[i] = ws->b[ws->idx[i]];
	chol_solve(ws->chol, m, ws->tmp);
	for (size_t i = 0; i < m; i++)
		ws->s[ws->idx[i]] = ws->tmp[i];
}

int an_linfit(const an_design *d, const double *y, const double *w, an_nnls_ws *ws, double *coef,
              double *cov)
{
	const size_t p = d->p;
	if (p > ws->pmax)
		return mg_fail(MG_ERR_INTERNAL, AN_DOM, "linfit: %zu parameters, workspace for %zu", p,
		               ws->pmax);
	double *g = ws->g, *b = ws->b;
	/* normal equations over the column overlaps */
	for (size_t j = 0; j < p; j++) {
		const double *aj = d->cols[j];
		size_t lo = d->lo[j], hi = d->hi[j];
		double s = 0;
		for (size_t i = lo; i < hi; i++)
			s += w[i] * aj[i] * y[i];
		b[j] = s;
		for (size_t k = j; k < p; k++) {
			const double *ak = d->cols[k];
			size_t a = lo > d->lo[k] ? lo : d->lo[k];
			size_t e = hi < d->hi[k] ? hi : d->hi[k];
			double t = 0;
			for (size_t i = a; i < e; i++)
				t += w[i] * aj[i] * ak[i];
			g[j * p + k] = g[k * p + j] = t;
		}
	}
	/* scale to a unit diagonal; columns without data are inactive */
	unsigned char *act = ws->active, *pas = ws->passive;
	for (size_t j = 0; j < p; j++)
		ws->scale[j] = g[j * p + j] > 0 ? 1.0 / sqrt(g[j * p + j]) : 0.0;
	for (size_t j = 0; j < p; j++) {
		for (size_t k = 0; k < p; k++)
			g[j * p + k] *= ws->scale[j] * ws->scale[k];
		b[j] *= ws->scale[j];
		act[j] = ws->scale[j] > 0;
		pas[j] = act[j] && !d->nonneg[j]; /* free coefficients are always passive */
		ws->x[j] = 0;
	}
	double bmax = 0;
	for (size_t j = 0; j < p; j++)
		if (fabs(b[j]) > bmax)
			bmax = fabs(b[j]);
	const double tol = 1e-10 * (bmax > 0 ? bmax : 1.0);

	/* warm start: the passive set of the previous fit (spectra of a batch are alike);
	 * kept only if its solution is feasible, else the cold start (free columns only) */
	if (ws->warm && ws->np_warm == p) {
		for (size_t j = 0; j < p; j++)
			pas[j] = act[j] && (!d->nonneg[j] || ws->warm[j]);
		solve_passive(ws, p, act);
		int feasible = 1;
		for (size_t j = 0; j < p && feasible; j++)
			if (act[j] && pas[j] && d->nonneg[j] && !(ws->s[j] > 0))
				feasible = 0;
		if (!feasible)
			for (size_t j = 0; j < p; j++)
				pas[j] = act[j] && !d->nonneg[j];
		else
			memcpy(ws->x, ws->s, p * sizeof(double));
		if (!feasible) {
			solve_passive(ws, p, act);
			memcpy(ws->x, ws->s, p * sizeof(double));
		}
	} else {
		solve_passive(ws, p, act);
		memcpy(ws->x, ws->s, p * sizeof(double));
	}
	int outer = 0, maxouter = 3 * (int)p + 10;
	for (; outer < maxouter; outer++) {
		/* gradient */
		size_t jbest = p;
		double best = tol;
		for (size_t j = 0; j < p; j++) {
			if (!act[j] || pas[j] || !d->nonneg[j])
				continue;
			double s = b[j];
			for (size_t k = 0; k < p; k++)
				s -= g[j * p + k] * ws->x[k];
			if (s > best) {
				best = s;
				jbest = j;
			}
		}
		if (jbest == p)
			break;
		pas[jbest] = 1;
		for (int inner = 0; inner < 3 * (int)p + 10; inner++) {
			solve_passive(ws, p, act);
			double alpha = 2.0;
			size_t jmin = p;
			for (size_t j = 0; j < p; j++) {
				if (!act[j] || !pas[j] || !d->nonneg[j] || ws->s[j] > 0)
					continue;
				double den = ws->x[j] - ws->s[j];
				double a = den > 0 ? ws->x[j] / den : 0.0;
				if (a < alpha) {
					alpha = a;
					jmin = j;
				}
			}
			if (jmin == p) {
				memcpy(ws->x, ws->s, p * sizeof(double));
				break;
			}
			for (size_t j = 0; j < p; j++) {
				ws->x[j] += alpha * (ws->s[j] - ws->x[j]);
				if (d->nonneg[j] && pas[j] && (j == jmin || ws->x[j] <= 0)) {
					pas[j] = 0;
					ws->x[j] = 0;
				}
			}
		}
	}
	for (size_t j = 0; j < p; j++) {
		double v = ws->x[j] * ws->scale[j];
		if (d->nonneg[j] && v < 0)
			v = 0;
		coef[j] = act[j] ? v : 0.0;
		if (ws->warm)
			ws->warm[j] = pas[j];
	}
	ws->np_warm = p;
	if (cov) {
		/* (AᵀWA)⁻¹ over every active column */
		size_t m = 0;
		for (size_t j = 0; j < p; j++)
			if (act[j])
				ws->idx[m++] = j;
		memset(cov, 0, p * p * sizeof(double));
		if (m) {
			chol_sub(g, p, ws->idx, m, ws->chol);
			for (size_t c = 0; c < m; c++) {
				for (size_t i = 0; i < m; i++)
					ws->tmp[i] = i == c;
				chol_solve(ws->chol, m, ws->tmp);
				for (size_t i = 0; i < m; i++) {
					size_t r = ws->idx[i], q = ws->idx[c];
					cov[r * p + q] = ws->tmp[i] * ws->scale[r] * ws->scale[q];
				}
			}
		}
	}
	return outer;
}

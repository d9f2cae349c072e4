/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES calibration curves per line: response (IS-corrected net
 * intensity) against concentration, from the calibration blank and the
 * standards.
 *
 * Kinds: ordinary straight line; straight line weighted 1/x or 1/x² (the
 * blank, x = 0, gets the weight of the lowest standard, so it still anchors
 * the intercept without an infinite weight); quadratic (ordinary). All are
 * solved by gsl_multifit_wlinear on the design (1, x[, x²]); the coefficient
 * covariance is scaled by the residual variance of unit weight,
 * s² = Σ w (y − ŷ)² / (n − p). r = √(1 − SSres/SStot) with the same weights
 * (for the ordinary straight line that is Pearson's r).
 *
 * Inverse prediction (x from a measured y) uses the delta method,
 *   u_x² = (u_y² + gᵀ·cov·g) / (dy/dx)²,  g = (1, x, x²),
 * which for the ordinary straight line is exactly the textbook
 *   s_x0 = s/b · √(1/m + 1/n + (y0 − ȳ)² / (b² Σ(x − x̄)²))
 * when u_y = s/√m (Miller & Miller, Statistics and Chemometrics for
 * Analytical Chemistry, §5.6). */
#include <math.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_vector.h>

#include "internal.h"
#include "magassay/icp_analysis.h"

#define DOM "icp-curve"

int mg_icp_curve_fit(mg_icp_curve_kind kind, const double *x, const double *y, size_t n, mg_icp_curve *out)
{
	if (!out || !x || !y)
		return mg_fail(MG_ERR_ARG, DOM, "curve: missing arguments");
	memset(out, 0, sizeof(*out));
	out->r = out->s_yx = out->lod = out->loq = out->blank_sd = NAN;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			out->cov[i][j] = NAN;
	out->kind = kind;
	if (kind < MG_ICP_CURVE_LINEAR || kind > MG_ICP_CURVE_QUADRATIC)
		return mg_fail(MG_ERR_ARG, DOM, "curve: unknown kind %d", (int)kind);
	size_t p = kind == MG_ICP_CURVE_QUADRATIC ? 3 : 2;
	if (n > MG_ICP_MAX_CAL_POINTS)
		return mg_fail(MG_ERR_ARG, DOM, "curve: %zu points (at most %d)", n, MG_ICP_MAX_CAL_POINTS);
	if (n < p)
		return mg_fail(MG_ERR_ARG, DOM, "curve: %zu points for a %s curve (at least %zu)", n,
		               kind == MG_ICP_CURVE_QUADRATIC ? "quadratic" : "straight-line", p);
	double xmin_pos = INFINITY;
	size_t distinct = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]) || !isfinite(y[i]) || x[i] < 0)
			return mg_fail(MG_ERR_ARG, DOM, "curve: point %zu (%g, %g) is not a valid concentration/response",
			               i + 1, x[i], y[i]);
		if (x[i] > 0 && x[i] < xmin_pos)
			xmin_pos = x[i];
		int seen = 0;
		for (size_t j = 0; j < i; j++)
			if (x[j] == x[i])
				seen = 1;
		distinct += !seen;
	}
	if (distinct < p)
		return mg_fail(MG_ERR_ARG, DOM, "curve: %zu distinct concentrations for %zu coefficients", distinct, p);
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		out->x[i] = x[i];
		out->y[i] = y[i];
		double xe = x[i] > 0 ? x[i] : (isfinite(xmin_pos) ? xmin_pos : 1);
		out->w[i] = kind == MG_ICP_CURVE_WEIGHTED_1X ? 1.0 / xe : kind == MG_ICP_CURVE_WEIGHTED_1X2 ? 1.0 / (xe * xe) : 1.0;
	}
	/* normalise the weights (mean 1): s_yx stays in response units for a typical point */
	double ws = 0;
	for (size_t i = 0; i < n; i++)
		ws += out->w[i];
	for (size_t i = 0; i < n; i++)
		out->w[i] *= (double)n / ws;

	gsl_matrix *X = gsl_matrix_alloc(n, p), *cov = gsl_matrix_alloc(p, p);
	gsl_vector *yv = gsl_vector_alloc(n), *wv = gsl_vector_alloc(n), *c = gsl_vector_alloc(p);
	gsl_multifit_linear_workspace *ws_ = gsl_multifit_linear_alloc(n, p);
	int rc = MG_OK;
	if (!X || !cov || !yv || !wv || !c || !ws_) {
		rc = mg_fail(MG_ERR_NOMEM, DOM, "no memory for the curve fit");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		gsl_matrix_set(X, i, 0, 1.0);
		gsl_matrix_set(X, i, 1, x[i]);
		if (p == 3)
			gsl_matrix_set(X, i, 2, x[i] * x[i]);
		gsl_vector_set(yv, i, y[i]);
		gsl_vector_set(wv, i, out->w[i]);
	}
	double chisq;
	int st = gsl_multifit_wlinear(X, wv, yv, c, cov, &chisq, ws_);
	if (st != GSL_SUCCESS) {
		rc = mg_fail(MG_ERR_ARG, DOM, "curve: the fit failed: %s", gsl_strerror(st));
		goto out;
	}
	out->coef[0] = gsl_vector_get(c, 0);
	out->coef[1] = gsl_vector_get(c, 1);
	out->coef[2] = p == 3 ? gsl_vector_get(c, 2) : 0;
	out->dof = (int)(n - p);
	double s2 = out->dof > 0 ? chisq / out->dof : NAN;
	out->s_yx = sqrt(s2);
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++)
			out->cov[i][j] = i < p && j < p ? gsl_matrix_get(cov, i, j) * s2 : 0;
	/* r, weighted */
	double sw = 0, swy = 0;
	for (size_t i = 0; i < n; i++) {
		sw += out->w[i];
		swy += out->w[i] * y[i];
	}
	double ybar = swy / sw, sst = 0, ssr = 0;
	for (size_t i = 0; i < n; i++) {
		double d = y[i] - ybar, e = y[i] - mg_icp_curve_eval(out, x[i]);
		sst += out->w[i] * d * d;
		ssr += out->w[i] * e * e;
	}
	out->r = sst > 0 ? sqrt(fmax(0, 1 - ssr / sst)) : NAN;
	if (out->coef[1] < 0 && p == 2)
		out->r = -out->r;
	for (size_t i = 0; i < n; i++) {
		double xb;
		if (mg_icp_curve_invert(out, y[i], 0, &xb, NULL) == MG_OK) {
			out->back_calc[i] = xb;
			out->resid_pct[i] = x[i] > 0 ? 100.0 * (xb - x[i]) / x[i] : NAN;
		} else {
			out->back_calc[i] = out->resid_pct[i] = NAN;
		}
	}
out:
	gsl_multifit_linear_free(ws_);
	gsl_vector_free(c);
	gsl_vector_free(wv);
	gsl_vector_free(yv);
	gsl_matrix_free(cov);
	gsl_matrix_free(X);
	return rc;
}

double mg_icp_curve_eval(const mg_icp_curve *c, double x)
{
	return c->coef[0] + c->coef[1] * x + c->coef[2] * x * x;
}

int mg_icp_curve_invert(const mg_icp_curve *c, double y, double u_y, double *x_out, double *u_x)
{
	if (!c || !x_out || !isfinite(y))
		return mg_fail(MG_ERR_ARG, DOM, "inverse prediction: missing arguments");
	double a = c->coef[0], b = c->coef[1], q = c->coef[2], x;
	double xmax = 0;
	for (size_t i = 0; i < c->n; i++)
		xmax = fmax(xmax, c->x[i]);
	if (xmax <= 0)
		xmax = 1;
	if (q == 0 || fabs(q) * xmax < 1e-12 * fabs(b)) {
		if (b == 0 || !isfinite(b))
			return mg_fail(MG_ERR_ARG, DOM, "inverse prediction: the curve is flat");
		x = (y - a) / b;
	} else {
		double disc = b * b - 4 * q * (a - y);
		if (disc < 0)
			return mg_fail(MG_ERR_ARG, DOM, "inverse prediction: the response %g is beyond the curve's turning point",
			               y);
		double sq = sqrt(disc);
		double qq = -0.5 * (b + (b >= 0 ? sq : -sq));
		double r1 = qq / q, r2 = qq != 0 ? (a - y) / qq : r1;
		/* the branch with the slope of the data (at mid-range), nearest the range */
		double sgn = b + q * xmax >= 0 ? 1 : -1;
		double best = NAN, bd = INFINITY;
		double roots[2] = {r1, r2};
		for (int k = 0; k < 2; k++) {
			double r = roots[k];
			if (!isfinite(r) || (b + 2 * q * r) * sgn <= 0)
				continue;
			double d = r < 0 ? -r : (r > xmax ? r - xmax : 0);
			if (d < bd) {
				bd = d;
				best = r;
			}
		}
		if (!isfinite(best))
			return mg_fail(MG_ERR_ARG, DOM, "inverse prediction: no root on the rising branch for %g", y);
		x = best;
	}
	*x_out = x;
	if (u_x) {
		double g[3] = {1, x, x * x}, v = 0;
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				v += g[i] * c->cov[i][j] * g[j];
		double uy = isfinite(u_y) ? u_y : 0;
		double slope = b + 2 * q * x;
		*u_x = sqrt(fmax(0, uy * uy + v)) / fabs(slope);
	}
	return MG_OK;
}

int mg_icp_curve_limits(mg_icp_curve *c, const double *blank_y, size_t n, double k_lod, double k_loq)
{
	if (!c || !blank_y)
		return mg_fail(MG_ERR_ARG, DOM, "limits: missing arguments");
	mg_icp_stats s;
	mg_icp_stats_compute(blank_y, n, &s);
	if (s.n < 2 || !isfinite(s.sd))
		return mg_fail(MG_ERR_ARG, DOM, "limits: %zu blank readings (at least 2 needed)", s.n);
	double slope = c->coef[1];
	if (!(fabs(slope) > 0))
		return mg_fail(MG_ERR_ARG, DOM, "limits: the curve has no slope at zero");
	c->blank_sd = s.sd;
	c->lod = k_lod * s.sd / fabs(slope);
	c->loq = k_loq * s.sd / fabs(slope);
	return MG_OK;
}

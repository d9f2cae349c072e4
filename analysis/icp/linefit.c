/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ICP-OES line fit: one emission line in the spectral window the instrument
 * read around it.
 *
 * Model, per pixel i (wavelength λ_i, width Δλ_i):
 *   y_i = A·Δλ_i·P(λ_i − c; w, η) + Σ_k A_k·Δλ_i·P(λ_i − c_k; w, η) + b0 + b1·t + b2·t²
 * with P the area-normalised Gaussian or pseudo-Voigt (η·Lorentzian +
 * (1−η)·Gaussian, one FWHM w), t = (λ − λ_line)/half-span, and k over the
 * other lines in the window (listed in the method, or found in the residual)
 * at fixed positions, sharing the width. A is the net line intensity in
 * counts. Weighted least squares (weights 1/max(|y|,1), Poisson), solved with
 * GSL's trust-region Levenberg–Marquardt; the covariance (J'WJ)⁻¹ is scaled by
 * χ²ν when χ²ν > 1 (flicker noise exceeds Poisson).
 *
 * Parameters can be fixed: the width and η (a reference shape from a strong
 * standard, so blanks and weak lines are fitted with the same estimator), the
 * centre (weak lines keep the reference position; the centre is freed only
 * when the line stands out by centre_free_snr σ), the background (off-peak
 * mode uses only the pixels near the off-peak points and the peak region, so
 * the pixels between them — where other lines sit — do not bias it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>

#include "internal.h"
#include "magassay/icp_analysis.h"

#define DOM "icp-fit"

enum { P_A, P_C, P_W, P_U, P_B0, P_B1, P_B2, P_NB };
#define NPAR_MAX (P_NB + MG_ICP_MAX_NEIGHBOURS)

static const double LN2 = 0.69314718055994530942;

typedef struct fitctx {
	size_t n;
	double lam[MG_ICP_MAX_PIXELS], y[MG_ICP_MAX_PIXELS], dl[MG_ICP_MAX_PIXELS];
	double lam0, tscale;
	mg_icp_shape prof;
	size_t nnb;
	double nb_c[MG_ICP_MAX_NEIGHBOURS]; /* fixed neighbour centres */
	double par[NPAR_MAX];
	int fixed[NPAR_MAX];
	size_t map[NPAR_MAX];
	size_t nfree;
} fitctx;

double mg_icp_shape_value(mg_icp_shape p, double x, double w, double eta)
{
	w = fabs(w);
	if (!(w > 0))
		return 0;
	double z = 2.0 * x / w; /* x in half-widths */
	double g = (2.0 / w) * sqrt(LN2 / M_PI) * exp(-LN2 * z * z);
	if (p == MG_ICP_GAUSSIAN)
		return g;
	double l = (2.0 / (M_PI * w)) / (1.0 + z * z);
	if (eta < 0)
		eta = 0;
	if (eta > 1)
		eta = 1;
	return eta * l + (1 - eta) * g;
}

static double eta_of(double u)
{
	return 0.5 * (1.0 + tanh(u));
}

static double u_of(double eta)
{
	if (eta < 1e-6)
		eta = 1e-6;
	if (eta > 1 - 1e-6)
		eta = 1 - 1e-6;
	return atanh(2 * eta - 1);
}

static double model_eta(const fitctx *c, const double *par, size_t i, double eta)
{
	double w = par[P_W];
	double v = par[P_A] * c->dl[i] * mg_icp_shape_value(c->prof, c->lam[i] - par[P_C], w, eta);
	for (size_t k = 0; k < c->nnb; k++)
		v += par[P_NB + k] * c->dl[i] * mg_icp_shape_value(c->prof, c->lam[i] - c->nb_c[k], w, eta);
	double t = (c->lam[i] - c->lam0) / c->tscale;
	v += par[P_B0] + par[P_B1] * t + par[P_B2] * t * t;
	return v;
}

static double model_at(const fitctx *c, const double *par, size_t i)
{
	return model_eta(c, par, i, c->prof == MG_ICP_PSEUDO_VOIGT ? eta_of(par[P_U]) : 0);
}

static void unpack(const fitctx *c, const gsl_vector *x, double *par)
{
	memcpy(par, c->par, sizeof(c->par));
	for (size_t j = 0; j < c->nfree; j++)
		par[c->map[j]] = gsl_vector_get(x, j);
}

static int resid_f(const gsl_vector *x, void *params, gsl_vector *f)
{
	const fitctx *c = params;
	double par[NPAR_MAX];
	unpack(c, x, par);
	double eta = c->prof == MG_ICP_PSEUDO_VOIGT ? eta_of(par[P_U]) : 0;
	for (size_t i = 0; i < c->n; i++) {
		double m = model_eta(c, par, i, eta);
		if (!isfinite(m))
			return GSL_EDOM;
		gsl_vector_set(f, i, m - c->y[i]);
	}
	return GSL_SUCCESS;
}

typedef struct fitout {
	double par[NPAR_MAX];
	double sd[NPAR_MAX]; /* standard deviations (unscaled) of free params, 0 for fixed */
	double chi2, chi2_red;
	int iterations;
	int ok;
} fitout;

/* One weighted nonlinear fit of the free parameters. */
static int fit_once(fitctx *c, fitout *o)
{
	c->nfree = 0;
	for (size_t k = 0; k < P_NB + c->nnb; k++)
		if (!c->fixed[k])
			c->map[c->nfree++] = k;
	for (size_t k = P_NB + c->nnb; k < NPAR_MAX; k++)
		c->par[k] = 0;
	memset(o, 0, sizeof(*o));
	if (c->n <= c->nfree + 1)
		return mg_fail(MG_ERR_FORMAT, DOM, "%zu pixels for %zu parameters: widen the fit window", c->n,
		               c->nfree);
	size_t n = c->n, p = c->nfree;
	gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
	fp.trs = gsl_multifit_nlinear_trs_lm;
	fp.scale = gsl_multifit_nlinear_scale_more;
	gsl_multifit_nlinear_workspace *ws = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, n, p);
	gsl_vector *x = gsl_vector_alloc(p), *wts = gsl_vector_alloc(n);
	gsl_matrix *cov = gsl_matrix_alloc(p, p);
	int rc = MG_OK;
	if (!ws || !x || !wts || !cov) {
		rc = mg_fail(MG_ERR_NOMEM, DOM, "no memory for the fit workspace");
		goto out;
	}
	for (size_t j = 0; j < p; j++)
		gsl_vector_set(x, j, c->par[c->map[j]]);
	for (size_t i = 0; i < n; i++)
		gsl_vector_set(wts, i, 1.0 / fmax(fabs(c->y[i]), 1.0));
	gsl_multifit_nlinear_fdf fdf;
	memset(&fdf, 0, sizeof(fdf));
	fdf.f = resid_f;
	fdf.df = NULL; /* forward differences: the model is cheap and smooth */
	fdf.n = n;
	fdf.p = p;
	fdf.params = c;
	int info = 0;
	int st = gsl_multifit_nlinear_winit(x, wts, &fdf, ws);
	if (st == GSL_SUCCESS)
		st = gsl_multifit_nlinear_driver(200, 1e-10, 1e-10, 0.0, NULL, NULL, &info, ws);
	/* GSL_ENOPROG / GSL_EMAXITER at an optimum are fine if the result is finite */
	if (st != GSL_SUCCESS && st != GSL_ENOPROG && st != GSL_EMAXITER && st != GSL_ETOLF && st != GSL_ETOLX &&
	    st != GSL_ETOLG) {
		rc = mg_fail(MG_ERR_INTERNAL, DOM, "the fit did not run: %s", gsl_strerror(st));
		goto out;
	}
	const gsl_vector *xs = gsl_multifit_nlinear_position(ws);
	unpack(c, xs, o->par);
	const gsl_vector *f = gsl_multifit_nlinear_residual(ws); /* weighted residuals */
	double chi2;
	gsl_blas_ddot(f, f, &chi2);
	o->chi2 = chi2;
	o->chi2_red = chi2 / (double)(n - p);
	o->iterations = (int)gsl_multifit_nlinear_niter(ws);
	const gsl_matrix *J = gsl_multifit_nlinear_jac(ws);
	st = gsl_multifit_nlinear_covar(J, 1e-12, cov);
	for (size_t j = 0; j < p; j++) {
		double v = st == GSL_SUCCESS ? gsl_matrix_get(cov, j, j) : NAN;
		o->sd[c->map[j]] = v >= 0 ? sqrt(v) : NAN;
	}
	o->ok = isfinite(o->par[P_A]) && isfinite(o->chi2);
	if (!o->ok)
		rc = mg_fail(MG_ERR_INTERNAL, DOM, "the fit diverged");
out:
	gsl_matrix_free(cov);
	gsl_vector_free(wts);
	gsl_vector_free(x);
	if (ws)
		gsl_multifit_nlinear_free(ws);
	return rc;
}

void mg_icp_fit_opts_init(mg_icp_fit_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->shape = MG_ICP_PSEUDO_VOIGT;
	o->background = MG_ICP_BG_LINEAR;
	o->half_width_nm = 0;
	o->shift_max_nm = 0.01;
	o->fwhm_nm = 0;
	o->eta = NAN;
	o->centre_nm = NAN;
	o->centre_free_snr = 30;
	o->offpeak_order = 1;
	o->auto_neighbours = 1;
}

/* Background value at a wavelength (for the initial guess and the report). */
static double bg_at(const fitctx *c, const double *par, double lam)
{
	double t = (lam - c->lam0) / c->tscale;
	return par[P_B0] + par[P_B1] * t + par[P_B2] * t * t;
}

/* Least-squares polynomial (order 0..2) through the points (t_i, y_i). */
static void poly_init(const double *t, const double *y, size_t n, int order, double *b)
{
	b[0] = b[1] = b[2] = 0;
	if (n == 0)
		return;
	if (order > (int)n - 1)
		order = (int)n - 1;
	double s[5] = {0}, r[3] = {0};
	for (size_t i = 0; i < n; i++) {
		double tp = 1;
		for (int k = 0; k <= 4; k++) {
			s[k] += tp;
			if (k <= 2)
				r[k] += tp * y[i];
			tp *= t[i];
		}
	}
	if (order <= 0) {
		b[0] = r[0] / s[0];
		return;
	}
	if (order == 1) {
		double det = s[0] * s[2] - s[1] * s[1];
		if (fabs(det) < 1e-300) {
			b[0] = r[0] / s[0];
			return;
		}
		b[0] = (r[0] * s[2] - r[1] * s[1]) / det;
		b[1] = (s[0] * r[1] - s[1] * r[0]) / det;
		return;
	}
	/* 3x3 normal equations by Cramer's rule */
	double m[3][3] = {{s[0], s[1], s[2]}, {s[1], s[2], s[3]}, {s[2], s[3], s[4]}};
	double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
	             m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
	if (fabs(det) < 1e-300) {
		poly_init(t, y, n, 1, b);
		return;
	}
	for (int k = 0; k < 3; k++) {
		double a[3][3];
		memcpy(a, m, sizeof(a));
		for (int i = 0; i < 3; i++)
			a[i][k] = r[i];
		b[k] = (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
		        a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])) /
		       det;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Look for one unexplained line in the residual of a fit: the largest
 * standardized excess, more than 1.5 FWHM from the analyte line and from
 * lines already in the model. 1 and its position, or 0. */
static int find_neighbour(const fitctx *c, const fitout *o, double *where, double *height)
{
	double r[MG_ICP_MAX_PIXELS], tmp[MG_ICP_MAX_PIXELS];
	double w = fabs(o->par[P_W]);
	for (size_t i = 0; i < c->n; i++) {
		double m = model_at(c, o->par, i);
		r[i] = (c->y[i] - m) / sqrt(fmax(fabs(m), 1.0));
		tmp[i] = fabs(r[i]);
	}
	double s = 1.4826 * median(tmp, c->n);
	double thr = 6.0 * fmax(s, 1.0);
	size_t best = (size_t)-1;
	for (size_t i = 1; i + 1 < c->n; i++) {
		if (r[i] < thr || r[i] < r[i - 1] || r[i] < r[i + 1])
			continue;
		/* a line is several pixels wide: a lone spike is not one */
		if (r[i - 1] < 0.25 * thr && r[i + 1] < 0.25 * thr)
			continue;
		if (fabs(c->lam[i] - o->par[P_C]) < 1.5 * w)
			continue;
		int near = 0;
		for (size_t k = 0; k < c->nnb; k++)
			if (fabs(c->lam[i] - c->nb_c[k]) < 1.0 * w)
				near = 1;
		if (near)
			continue;
		if (best == (size_t)-1 || r[i] > r[best])
			best = i;
	}
	if (best == (size_t)-1)
		return 0;
	/* parabola through the three residual values for the vertex */
	size_t i = best;
	double y0 = c->y[i - 1] - model_at(c, o->par, i - 1), y1 = c->y[i] - model_at(c, o->par, i),
	       y2 = c->y[i + 1] - model_at(c, o->par, i + 1);
	double den = y0 - 2 * y1 + y2, d = 0;
	if (den < 0)
		d = 0.5 * (y0 - y2) / den;
	if (d > 0.5)
		d = 0.5;
	if (d < -0.5)
		d = -0.5;
	double step = d >= 0 ? c->lam[i + 1] - c->lam[i] : c->lam[i] - c->lam[i - 1];
	*where = c->lam[i] + d * step;
	*height = y1;
	return 1;
}

int mg_icp_fit_line(const mg_icp_window *win, double line_nm, const mg_icp_fit_opts *opts, mg_icp_linefit *out)
{
	mg_icp_fit_opts defo;
	if (!out)
		return mg_fail(MG_ERR_ARG, DOM, "no output");
	memset(out, 0, sizeof(*out));
	out->net = out->net_u = out->centre_nm = out->fwhm_nm = out->eta = out->background = out->chi2_red = NAN;
	if (!opts) {
		mg_icp_fit_opts_init(&defo);
		opts = &defo;
	}
	if (!win || !isfinite(line_nm))
		return out->status = mg_fail(MG_ERR_ARG, DOM, "no window or line");
	size_t np = win->npix;
	if (np < 5 || np > MG_ICP_MAX_PIXELS)
		return out->status = mg_fail(MG_ERR_FORMAT, DOM, "the window of %.3f nm has %zu pixels (5..%d)",
		                             line_nm, np, MG_ICP_MAX_PIXELS);
	for (size_t i = 0; i < np; i++) {
		if (!isfinite(win->wavelength_nm[i]) || !isfinite(win->intensity[i]))
			return out->status = mg_fail(MG_ERR_FORMAT, DOM, "window of %.3f nm: pixel %zu is not a number",
			                             line_nm, i);
		if (i && !(win->wavelength_nm[i] > win->wavelength_nm[i - 1]))
			return out->status = mg_fail(MG_ERR_FORMAT, DOM,
			                             "window of %.3f nm: wavelengths do not increase at pixel %zu", line_nm, i);
	}
	double c0 = isfinite(opts->centre_nm) ? opts->centre_nm : line_nm;
	if (c0 < win->wavelength_nm[0] || c0 > win->wavelength_nm[np - 1])
		return out->status =
		           mg_fail(MG_ERR_UNSUPPORTED, DOM, "the line %.3f nm is outside the window %.3f–%.3f nm", c0,
		                   win->wavelength_nm[0], win->wavelength_nm[np - 1]);

	/* pixel widths */
	double dlall[MG_ICP_MAX_PIXELS];
	for (size_t i = 0; i < np; i++) {
		double lo = i ? win->wavelength_nm[i] - win->wavelength_nm[i - 1] : win->wavelength_nm[1] - win->wavelength_nm[0];
		double hi = i + 1 < np ? win->wavelength_nm[i + 1] - win->wavelength_nm[i] : lo;
		dlall[i] = 0.5 * (lo + hi);
	}
	double dlmean = (win->wavelength_nm[np - 1] - win->wavelength_nm[0]) / (double)(np - 1);

	/* pixel selection */
	static fitctx zero;
	fitctx c = zero;
	c.prof = opts->shape == MG_ICP_GAUSSIAN ? MG_ICP_GAUSSIAN : MG_ICP_PSEUDO_VOIGT;
	c.lam0 = c0;
	int offpeak = opts->background == MG_ICP_BG_OFFPEAK;
	if (offpeak && opts->noffpeak == 0)
		return out->status = mg_fail(MG_ERR_ARG, DOM, "off-peak background without off-peak points");
	double peak_half = opts->half_width_nm;
	if (offpeak && !(peak_half > 0)) {
		double mind = INFINITY;
		for (size_t k = 0; k < opts->noffpeak && k < MG_ICP_MAX_OFFPEAK; k++)
			mind = fmin(mind, fabs(opts->offpeak_nm[k]));
		peak_half = 0.6 * mind;
	}
	int is_off[MG_ICP_MAX_PIXELS] = {0};
	for (size_t i = 0; i < np; i++) {
		double lam = win->wavelength_nm[i];
		int take = !(peak_half > 0) || fabs(lam - c0) <= peak_half;
		if (offpeak) {
			for (size_t k = 0; k < opts->noffpeak && k < MG_ICP_MAX_OFFPEAK; k++) {
				double at = c0 + opts->offpeak_nm[k];
				double h = opts->offpeak_half_nm > 0 ? opts->offpeak_half_nm : 0.5 * dlall[i];
				if (fabs(lam - at) <= h + 1e-12) {
					take = 1;
					is_off[c.n] = 1;
				}
			}
		}
		if (take) {
			c.lam[c.n] = lam;
			c.y[c.n] = win->intensity[i];
			c.dl[c.n] = dlall[i];
			c.n++;
		}
	}
	out->npix = c.n;
	if (c.n < 5)
		return out->status = mg_fail(MG_ERR_FORMAT, DOM, "line %.3f nm: only %zu pixels in the fit region", line_nm,
		                             c.n);
	double span = 0;
	for (size_t i = 0; i < c.n; i++)
		span = fmax(span, fabs(c.lam[i] - c0));
	c.tscale = span > 0 ? span : 1;

	/* background order and start */
	int order = opts->background == MG_ICP_BG_QUADRATIC ? 2 : 1;
	double tb[MG_ICP_MAX_PIXELS], yb[MG_ICP_MAX_PIXELS];
	size_t nb = 0;
	if (offpeak) {
		order = opts->noffpeak == 1 ? 0 : (opts->offpeak_order == 2 && opts->noffpeak >= 3 ? 2 : 1);
		for (size_t i = 0; i < c.n; i++)
			if (is_off[i]) {
				tb[nb] = (c.lam[i] - c0) / c.tscale;
				yb[nb++] = c.y[i];
			}
		if (nb == 0)
			return out->status = mg_fail(MG_ERR_FORMAT, DOM,
			                             "line %.3f nm: no pixel at the off-peak points", line_nm);
	} else {
		/* the outer pixels of the region (3 each side) */
		size_t k = c.n < 12 ? 2 : 3;
		for (size_t i = 0; i < k; i++) {
			tb[nb] = (c.lam[i] - c0) / c.tscale;
			yb[nb++] = c.y[i];
			tb[nb] = (c.lam[c.n - 1 - i] - c0) / c.tscale;
			yb[nb++] = c.y[c.n - 1 - i];
		}
	}
	double b[3];
	poly_init(tb, yb, nb, order > 1 && !offpeak ? 1 : order, b);
	c.par[P_B0] = b[0];
	c.par[P_B1] = order >= 1 ? b[1] : 0;
	c.par[P_B2] = order >= 2 ? b[2] : 0;
	c.fixed[P_B1] = order < 1;
	c.fixed[P_B2] = order < 2;

	/* peak start: height near the expected centre */
	double shift = opts->shift_max_nm > 0 ? opts->shift_max_nm : 0;
	size_t ipk = (size_t)-1;
	double h = -INFINITY;
	for (size_t i = 0; i < c.n; i++) {
		if (fabs(c.lam[i] - c0) > fmax(shift, 0.6 * c.dl[i]))
			continue;
		double v = c.y[i] - bg_at(&c, c.par, c.lam[i]);
		if (v > h) {
			h = v;
			ipk = i;
		}
	}
	if (ipk == (size_t)-1) {
		/* nearest pixel */
		double best = INFINITY;
		for (size_t i = 0; i < c.n; i++)
			if (fabs(c.lam[i] - c0) < best) {
				best = fabs(c.lam[i] - c0);
				ipk = i;
			}
		h = c.y[ipk] - bg_at(&c, c.par, c.lam[ipk]);
	}
	double w0 = opts->fwhm_nm > 0 ? opts->fwhm_nm : 0;
	if (!(w0 > 0)) {
		/* half-maximum crossings */
		double lo = c.lam[ipk], hi = c.lam[ipk];
		if (h > 0) {
			for (size_t i = ipk; i-- > 0;) {
				double v = c.y[i] - bg_at(&c, c.par, c.lam[i]);
				if (v < h / 2) {
					double v1 = c.y[i + 1] - bg_at(&c, c.par, c.lam[i + 1]);
					lo = c.lam[i] + (c.lam[i + 1] - c.lam[i]) * (h / 2 - v) / (v1 - v);
					break;
				}
				lo = c.lam[i];
			}
			for (size_t i = ipk + 1; i < c.n; i++) {
				double v = c.y[i] - bg_at(&c, c.par, c.lam[i]);
				if (v < h / 2) {
					double v0 = c.y[i - 1] - bg_at(&c, c.par, c.lam[i - 1]);
					hi = c.lam[i - 1] + (c.lam[i] - c.lam[i - 1]) * (v0 - h / 2) / (v0 - v);
					break;
				}
				hi = c.lam[i];
			}
		}
		w0 = hi - lo;
		if (!(w0 >= 1.5 * dlmean))
			w0 = 3 * dlmean;
		if (w0 > 0.5 * (c.lam[c.n - 1] - c.lam[0]))
			w0 = 0.5 * (c.lam[c.n - 1] - c.lam[0]);
	}
	double eta0 = c.prof == MG_ICP_PSEUDO_VOIGT ? (isfinite(opts->eta) ? opts->eta : 0.3) : 0;
	c.par[P_W] = w0;
	c.par[P_U] = c.prof == MG_ICP_PSEUDO_VOIGT ? u_of(eta0) : 0;
	c.par[P_C] = c0;
	double pk = mg_icp_shape_value(c.prof, 0, w0, eta0) * c.dl[ipk];
	c.par[P_A] = h > 0 && pk > 0 ? h / pk : 0;
	c.fixed[P_W] = opts->fix_width;
	c.fixed[P_U] = opts->fix_width || c.prof == MG_ICP_GAUSSIAN;
	int centre_later = !opts->fix_centre && opts->centre_free_snr > 0;
	c.fixed[P_C] = opts->fix_centre || centre_later;

	/* listed neighbours, at fixed positions */
	for (size_t k = 0; k < opts->nneighbours && k < MG_ICP_MAX_NEIGHBOURS; k++) {
		double at = opts->neighbour_nm[k] + (c0 - line_nm);
		if (at < c.lam[0] - w0 || at > c.lam[c.n - 1] + w0)
			continue;
		c.nb_c[c.nnb] = at;
		double hv = 0;
		for (size_t i = 0; i < c.n; i++)
			if (fabs(c.lam[i] - at) <= 0.6 * c.dl[i])
				hv = c.y[i] - bg_at(&c, c.par, c.lam[i]);
		double pk2 = mg_icp_shape_value(c.prof, 0, w0, eta0) * dlmean;
		c.par[P_NB + c.nnb] = hv > 0 ? hv / pk2 : 0;
		c.nnb++;
	}

	fitout fo;
	int rc = fit_once(&c, &fo);
	if (rc != MG_OK)
		return out->status = rc;
	out->centre_fitted = 0;

	/* free the centre when the line stands out */
	if (centre_later && isfinite(fo.sd[P_A]) && fo.sd[P_A] > 0 && fabs(fo.par[P_A]) / fo.sd[P_A] >= opts->centre_free_snr) {
		fitctx c2 = c;
		memcpy(c2.par, fo.par, sizeof(c2.par));
		c2.fixed[P_C] = 0;
		fitout f2;
		if (fit_once(&c2, &f2) == MG_OK && fabs(f2.par[P_C] - c0) <= fmax(shift, 0.5 * dlmean) &&
		    f2.par[P_A] > 0) {
			c = c2;
			fo = f2;
			out->centre_fitted = 1;
		}
	} else if (!opts->fix_centre && !centre_later) {
		out->centre_fitted = 1;
		if (shift > 0 && fabs(fo.par[P_C] - c0) > fmax(shift, 0.5 * dlmean)) {
			/* wandered off: keep the expected position */
			c.fixed[P_C] = 1;
			c.par[P_C] = c0;
			if ((rc = fit_once(&c, &fo)) != MG_OK)
				return out->status = rc;
			out->centre_fitted = 0;
		}
	}

	/* lines the method did not list */
	for (int round = 0; opts->auto_neighbours && c.nnb < MG_ICP_MAX_NEIGHBOURS && round < MG_ICP_MAX_NEIGHBOURS;
	     round++) {
		double at, hv;
		if (!find_neighbour(&c, &fo, &at, &hv))
			break;
		fitctx c2 = c;
		memcpy(c2.par, fo.par, sizeof(c2.par));
		c2.nb_c[c2.nnb] = at;
		double pk2 = mg_icp_shape_value(c.prof, 0, fabs(fo.par[P_W]),
		                                  c.prof == MG_ICP_PSEUDO_VOIGT ? eta_of(fo.par[P_U]) : 0) *
		             dlmean;
		c2.par[P_NB + c2.nnb] = pk2 > 0 ? hv / pk2 : 0;
		c2.nnb++;
		fitout f2;
		if (fit_once(&c2, &f2) != MG_OK)
			break;
		mg_dbg(DOM, "line %.3f nm: another line found at %.4f nm (χ²ν %.3g → %.3g)", line_nm, at, fo.chi2_red,
		       f2.chi2_red);
		c = c2;
		fo = f2;
	}

	double scale = fo.chi2_red > 1 ? sqrt(fo.chi2_red) : 1;
	out->net = fo.par[P_A];
	out->net_u = fo.sd[P_A] * scale;
	out->centre_nm = fo.par[P_C];
	out->fwhm_nm = fabs(fo.par[P_W]);
	out->eta = c.prof == MG_ICP_PSEUDO_VOIGT ? eta_of(fo.par[P_U]) : 0;
	out->background = bg_at(&c, fo.par, fo.par[P_C]);
	out->chi2_red = fo.chi2_red;
	out->iterations = fo.iterations;
	out->nneighbours = c.nnb;
	if (!isfinite(out->net) || !isfinite(out->net_u))
		return out->status = mg_fail(MG_ERR_INTERNAL, DOM, "line %.3f nm: the fit gave no finite net intensity",
		                             line_nm);
	out->status = MG_OK;
	return MG_OK;
}

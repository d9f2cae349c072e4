/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Background: SNIP (Ryan 1988, Morháč 1997) with the LLS transform and a
 * decreasing clipping window; the iterative strip (PyMca's "strip"); and the
 * smooth continuum fitted together with the peaks — cubic B-splines on the
 * energy axis multiplied by the physical shape of scattered continuum
 * (detector efficiency × 1/μ_matrix(E), so absorption edges of the matrix
 * are steps in the right places), smeared by the detector resolution.
 *
 * Why the continuum is the default for magnets: a SNIP window tuned for
 * isolated peaks clips the dense 5–8 keV cluster of Nd/Pr/Dy/Tb L and Fe/Co K
 * lines, taking part of the peaks as background (Nd/Pr/Dy L biased low, Tb
 * lost). A B-spline basis with knots ≥ 1 keV apart cannot follow lines
 * 0.15 keV wide, so it does not eat peaks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xraylib-shells.h>

#include "an.h"
#include "internal.h"

static inline double lls(double y)
{
	return log(log(sqrt(y + 1.0) + 1.0) + 1.0);
}

/* The inverse as corrected in silx (the published one does not round-trip). */
static inline double lls_inv(double v)
{
	double t = exp(exp(v) - 1.0) - 1.0;
	return t * t - 1.0;
}

int an_snip(const double *y, size_t n, int width, int lls_on, double *bg, double *tmp)
{
	if (width < 1)
		width = 1;
	for (size_t i = 0; i < n; i++) {
		double v = y[i] > 0 ? y[i] : 0.0;
		bg[i] = lls_on ? lls(v) : v;
	}
	for (int p = width; p >= 1; p--) {
		size_t ps = (size_t)p;
		if (2 * ps >= n)
			continue;
		for (size_t i = ps; i + ps < n; i++) {
			double a = 0.5 * (bg[i - ps] + bg[i + ps]);
			tmp[i] = bg[i] < a ? bg[i] : a;
		}
		memcpy(bg + ps, tmp + ps, (n - 2 * ps) * sizeof(double));
	}
	if (lls_on)
		for (size_t i = 0; i < n; i++)
			bg[i] = lls_inv(bg[i]);
	return 0;
}

int mg_snip_background(const double *y, size_t n, int width, int lls_on, double *bg)
{
	if (!y || !bg || n == 0)
		return mg_fail(MG_ERR_ARG, AN_DOM, "snip: empty input");
	double *tmp = malloc(n * sizeof(double));
	double *out = malloc(n * sizeof(double));
	if (!tmp || !out) {
		free(tmp);
		free(out);
		return mg_fail(MG_ERR_NOMEM, AN_DOM, "snip: out of memory");
	}
	an_snip(y, n, width, lls_on, out, tmp);
	memcpy(bg, out, n * sizeof(double));
	free(tmp);
	free(out);
	return 0;
}

void an_strip(const double *y, size_t n, int iterations, int width, double *bg, double *tmp)
{
	size_t w = width < 1 ? 1 : (size_t)width;
	if (bg != y)
		memcpy(bg, y, n * sizeof(double));
	if (2 * w >= n)
		return;
	for (int it = 0; it < iterations; it++) {
		for (size_t i = w; i + w < n; i++) {
			double a = 0.5 * (bg[i - w] + bg[i + w]);
			tmp[i] = bg[i] < a ? bg[i] : a;
		}
		memcpy(bg + w, tmp + w, (n - 2 * w) * sizeof(double));
	}
}

/* ---------------------------------------------------------------- continuum basis */

size_t an_bspline_count(double emin, double emax, double knot)
{
	if (!(knot > 0))
		knot = 1.0;
	long nint = lround((emax - emin) / knot);
	if (nint < 1)
		nint = 1;
	return (size_t)nint + 3;
}

double an_bspline(double emin, double emax, size_t nb, size_t j, double e)
{
	double d = (emax - emin) / (double)(nb - 3);
	double t = emin + ((double)j - 1.0) * d;
	double u = fabs((e - t) / d);
	if (u < 1)
		return (4.0 - 6.0 * u * u + 3.0 * u * u * u) / 6.0;
	if (u < 2) {
		double v = 2.0 - u;
		return v * v * v / 6.0;
	}
	return 0.0;
}

void an_continuum_shape(const mg_analysis_config *cfg, const an_matrix *m, const an_shape *s,
                        const double *edges, size_t n, double *shape)
{
	/* raw shape at channel centres */
	double *raw = shape; /* computed in place, then smeared through a small ring */
	for (size_t i = 0; i < n; i++) {
		double e = 0.5 * (edges[i] + edges[i + 1]);
		double f = an_det_efficiency(&cfg->det, e);
		if (m->n > 0 && (cfg->flags & MG_AN_MATRIX)) {
			double mu = mg_xrf_mix_mu(m->n, m->z, m->w, e);
			f = mu > 0 ? f / mu : f;
		}
		raw[i] = f;
	}
	/* normalise to a maximum of 1 */
	double mx = 0;
	for (size_t i = 0; i < n; i++)
		if (raw[i] > mx)
			mx = raw[i];
	if (mx > 0)
		for (size_t i = 0; i < n; i++)
			raw[i] /= mx;
	/* smear with the detector Gaussian (σ varies slowly: take it at each output channel) */
	double *copy = malloc(n * sizeof(double));
	if (!copy)
		return; /* unsmeared shape: still usable */
	memcpy(copy, raw, n * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		double e = 0.5 * (edges[i] + edges[i + 1]);
		double g = edges[i + 1] - edges[i];
		double sg = an_sigma(s, e) / (g > 0 ? g : 1.0);
		long h = (long)ceil(4 * sg);
		double sum = 0, wsum = 0;
		for (long j = -h; j <= h; j++) {
			long k = (long)i + j;
			if (k < 0)
				k = 0;
			if (k >= (long)n)
				k = (long)n - 1;
			double w = exp(-0.5 * (double)(j * j) / (sg * sg));
			sum += w * copy[k];
			wsum += w;
		}
		shape[i] = wsum > 0 ? sum / wsum : copy[i];
	}
	free(copy);
}

size_t an_matrix_edges(const an_matrix *m, double emin, double emax, double minjump, double *out,
                       size_t max)
{
	static const int shells[] = {K_SHELL, L1_SHELL, L2_SHELL, L3_SHELL};
	size_t k = 0;
	for (int i = 0; i < m->n; i++) {
		if (m->w[i] < 0.03)
			continue;
		for (size_t s = 0; s < MG_ARRAY_SIZE(shells); s++) {
			double e = mg_xrf_edge_energy(m->z[i], shells[s]);
			if (!(e > emin && e < emax))
				continue;
			double lo = mg_xrf_mix_mu(m->n, m->z, m->w, e - 1e-4);
			double hi = mg_xrf_mix_mu(m->n, m->z, m->w, e + 1e-4);
			if (!(lo > 0) || hi / lo - 1.0 < minjump)
				continue;
			if (k < max)
				out[k++] = e;
		}
	}
	/* sort ascending */
	for (size_t a = 1; a < k; a++)
		for (size_t b = a; b > 0 && out[b] < out[b - 1]; b--) {
			double t = out[b];
			out[b] = out[b - 1];
			out[b - 1] = t;
		}
	return k;
}

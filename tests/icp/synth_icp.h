/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Synthetic ICP-OES spectral windows for the analysis tests — deliberately
 * NOT the simulator's generator (drivers/sim), so the fit is tested against a
 * shape it does not assume:
 *   - lines are true Voigt profiles (a Gaussian convolved numerically with a
 *     Lorentzian), integrated over each pixel's width (not point-sampled);
 *     the fit models a pseudo-Voigt sampled at pixel centres;
 *   - the continuum is curved: B0·exp(k·(λ − λ0)) + B1·(λ − λ0)², not a
 *     polynomial of the fit's order;
 *   - noise is Poisson on the expected counts plus a multiplicative
 *     (flicker) Gaussian per replicate, from GSL's RNG. */
#ifndef MG_TEST_SYNTH_ICP_H
#define MG_TEST_SYNTH_ICP_H

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <string.h>

#include "magassay/icp.h"

typedef struct synth_line {
	double centre_nm;
	double area;       /* counts (integrated) */
	double sigma_nm;   /* Gaussian σ */
	double gamma_nm;   /* Lorentzian HWHM */
} synth_line;

typedef struct synth_bg {
	double b0, k, b1;  /* B0·exp(k·(λ−λ0)) + b1·(λ−λ0)² */
} synth_bg;

/* The Voigt profile (area 1) at x, by Simpson integration of G(t)·L(x−t). */
static inline double synth_voigt_direct(double x, double sigma, double gamma)
{
	if (gamma <= 0)
		return exp(-x * x / (2 * sigma * sigma)) / (sigma * sqrt(2 * M_PI));
	const int n = 400;
	double a = -8 * sigma, b = 8 * sigma, h = (b - a) / n, s = 0;
	for (int i = 0; i <= n; i++) {
		double t = a + i * h;
		double g = exp(-t * t / (2 * sigma * sigma)) / (sigma * sqrt(2 * M_PI));
		double u = x - t;
		double l = gamma / (M_PI * (u * u + gamma * gamma));
		double wgt = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
		s += wgt * g * l;
	}
	return s * h / 3;
}

/* The same, tabulated once per (σ, γ) on a 2·10⁻⁵ nm grid over ±0.25 nm and
 * interpolated (beyond: the exact integral). One table per thread of use. */
#define SYNTH_VT_STEP 2e-5
#define SYNTH_VT_HALF 12500
static inline double synth_voigt(double x, double sigma, double gamma)
{
	static double tab[2 * SYNTH_VT_HALF + 1], ts = -1, tg = -1;
	if (sigma != ts || gamma != tg) {
		for (int i = 0; i <= 2 * SYNTH_VT_HALF; i++)
			tab[i] = synth_voigt_direct((i - SYNTH_VT_HALF) * SYNTH_VT_STEP, sigma, gamma);
		ts = sigma;
		tg = gamma;
	}
	double u = x / SYNTH_VT_STEP + SYNTH_VT_HALF;
	if (u < 0 || u >= 2 * SYNTH_VT_HALF)
		return synth_voigt_direct(x, sigma, gamma);
	int i = (int)u;
	double f = u - i;
	return tab[i] * (1 - f) + tab[i + 1] * f;
}

/* Expected counts per pixel (no noise). */
static inline void synth_expected(mg_icp_window *w, double lam0, double step, size_t npix, const synth_line *lines,
                                  size_t nlines, const synth_bg *bg)
{
	w->npix = npix;
	for (size_t p = 0; p < npix; p++) {
		double lam = lam0 + ((double)p - (double)(npix - 1) / 2) * step;
		w->wavelength_nm[p] = lam;
		double d = lam - lam0;
		double v = bg->b0 * exp(bg->k * d) + bg->b1 * d * d;
		for (size_t k = 0; k < nlines; k++) {
			/* integrate over the pixel: 5-point average */
			double s = 0;
			for (int q = 0; q < 5; q++) {
				double off = (q - 2) * step / 5.0;
				s += synth_voigt(lam + off - lines[k].centre_nm, lines[k].sigma_nm, lines[k].gamma_nm);
			}
			v += lines[k].area * step * s / 5.0;
		}
		w->intensity[p] = v;
	}
}

/* Poisson counts on the expectation, then one flicker factor for the window. */
static inline void synth_noise(mg_icp_window *w, gsl_rng *rng, double flicker_rel)
{
	double f = flicker_rel > 0 ? 1 + gsl_ran_gaussian(rng, flicker_rel) : 1;
	for (size_t p = 0; p < w->npix; p++) {
		double mu = w->intensity[p] * f;
		w->intensity[p] = mu > 0 ? (double)gsl_ran_poisson(rng, mu) : 0;
	}
}

#endif

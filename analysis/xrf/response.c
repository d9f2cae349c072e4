/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Detector response: each line is a Gaussian plus an optional low-energy
 * exponential tail (Hypermet short tail) and step (shelf down to 0 keV),
 * integrated exactly over every channel through their cumulative functions;
 * Si Kα/Kβ escape peaks (Gaussian) at E − E(Si K). Pile-up is a family of its
 * own built per spectrum (plan.c). Reference: xrf-physics.md §3.
 *
 * Normalisation: a line of area A puts A counts into Gaussian + tail + step:
 * tail area t·A, step height h × the Gaussian's peak height (flat from 0 keV
 * to the line), the Gaussian the rest. */
#include <math.h>
#include <string.h>

#include <gsl/gsl_sf_erf.h>

#include "an.h"

#define NSIG 8.0

void an_edges(const mg_energy_cal *cal, size_t w0, size_t n, double *edges)
{
	for (size_t k = 0; k <= n; k++) {
		double ch = (double)w0 + (double)k - 0.5;
		edges[k] = cal->offset_kev + cal->gain_kev * ch + cal->quad_kev * ch * ch;
	}
}

static inline double phi(double u)
{
	return 0.5 * erfc(-u * M_SQRT1_2);
}

/* exp(z/β + σ²/2β²)·Φ(−(z/σ + σ/β)) without overflow. */
static inline double tail_term(double z, double sigma, double beta)
{
	double u = z / sigma + sigma / beta;
	double a = z / beta + 0.5 * sigma * sigma / (beta * beta);
	if (u < 3.0)
		return exp(a) * phi(-u);
	return 0.5 * exp(a + gsl_sf_log_erfc(u * M_SQRT1_2));
}

/* ∫ ½·erfc(z/(σ√2)) dz */
static inline double step_int(double z, double sigma)
{
	return 0.5 * (z * erfc(z / (M_SQRT2 * sigma)) -
	              sqrt(2.0 / M_PI) * sigma * exp(-0.5 * z * z / (sigma * sigma)));
}

/* First index k in [0, n] with edges[k] >= x (edges ascending). */
static size_t lower_bound(const double *edges, size_t n, double x)
{
	size_t a = 0, b = n + 1;
	while (a < b) {
		size_t m = (a + b) / 2;
		if (edges[m] < x)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

void an_add_peak(const an_shape *s, double e, double area, double extra_sigma, int plain,
                 const double *edges, size_t n, double *col, size_t *lo, size_t *hi)
{
	if (!(area > 0) || n == 0)
		return;
	double sd = an_sigma(s, e);
	double sigma = sqrt(sd * sd + extra_sigma * extra_sigma);
	double t = plain ? 0.0 : s->tail_f;
	double beta = s->tail_b;
	if (!(beta > 1e-4))
		t = 0.0;
	double h = plain ? 0.0 : s->step_h;
	double at = t * area;
	double k_step = h * (e > 0 ? e : 0) / (sigma * sqrt(2 * M_PI));
	double ag = (area - at) / (1.0 + k_step);
	double hd = h * ag / (sigma * sqrt(2 * M_PI)); /* counts per keV of the shelf */

	double xlo = e - NSIG * sigma - (at > 0 ? sigma * sigma / beta : 0.0);
	double xhi = e + NSIG * sigma;
	if (xhi <= edges[0])
		return; /* tail and shelf lie on the low side: nothing reaches the window */
	if (xlo >= edges[n] && at == 0 && hd == 0)
		return;
	size_t ka = lower_bound(edges, n, xlo);
	size_t kb = lower_bound(edges, n, xhi);
	if (ka > 0)
		ka--;
	if (kb > n)
		kb = n;
	/* exact region: channels [ka, kb) through the cumulative function */
	if (kb > ka) {
		double prev = 0;
		for (size_t k = ka; k <= kb; k++) {
			double z = edges[k] - e;
			double f = ag * phi(z / sigma);
			if (at > 0)
				f += at * (phi(z / sigma) + tail_term(z, sigma, beta));
			if (hd > 0) {
				double z0 = -e; /* the shelf starts at 0 keV */
				double zz = z > z0 ? z : z0;
				f += hd * (step_int(zz, sigma) - step_int(z0, sigma));
			}
			if (k > ka) {
				double v = f - prev;
				if (v > 0)
					col[k - 1] += v;
			}
			prev = f;
		}
		if (ka < *lo)
			*lo = ka;
		if (kb > *hi)
			*hi = kb;
	}
	/* below: pure exponential tail and flat shelf */
	if (ka > 0 && (at > 0 || hd > 0)) {
		double c = 0.5 * sigma * sigma / (beta > 0 ? beta * beta : 1.0);
		size_t k = ka;
		size_t lowest = ka;
		while (k-- > 0) {
			double x0 = edges[k], x1 = edges[k + 1];
			double v = 0;
			int any = 0;
			if (at > 0) {
				double e1 = exp((x1 - e) / beta + c), e0 = exp((x0 - e) / beta + c);
				double tv = at * (e1 - e0);
				if (tv > 1e-13 * area) {
					v += tv;
					any = 1;
				}
			}
			if (hd > 0 && x1 > 0) {
				v += hd * (x1 - (x0 > 0 ? x0 : 0));
				any = 1;
			}
			if (!any)
				break;
			col[k] += v;
			lowest = k;
		}
		if (lowest < *lo)
			*lo = lowest;
	}
}

void an_render_family(const an_family *f, const an_line *lines, const an_shape *s, int escape,
                      const double *edges, size_t n, double *col, size_t *lo, size_t *hi)
{
	double esc_ka = 0, esc_kb = 0; /* Si Kα, Kβ */
	if (escape)
		mg_xrf_escape_energies(&esc_ka, &esc_kb);
	memset(col, 0, n * sizeof(double));
	*lo = n;
	*hi = 0;
	for (size_t i = 0; i < f->nlines; i++) {
		const an_line *l = &lines[f->line0 + i];
		an_add_peak(s, l->e, l->rate, f->extra_sigma, 0, edges, n, col, lo, hi);
		if (escape && l->esc_a > 0)
			an_add_peak(s, l->e - esc_ka, l->rate * l->esc_a * s->esc, f->extra_sigma, 1, edges, n,
			            col, lo, hi);
		if (escape && l->esc_b > 0)
			an_add_peak(s, l->e - esc_kb, l->rate * l->esc_b * s->esc, f->extra_sigma, 1, edges, n,
			            col, lo, hi);
	}
	if (*lo > *hi)
		*lo = *hi = 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An independent spectrum generator for the analysis tests: deliberately not
 * the engine's response code (point-evaluated Gaussians at channel centres,
 * its own tail shapes, its own escape and pile-up), so a test passing is not
 * a proof by symmetry. Header-only; needs xraylib and GSL. */
#ifndef MG_TEST_SYNTH_H
#define MG_TEST_SYNTH_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <xraylib.h>

typedef struct synth_det {
	double noise, fano;
	/* tail: up to two low-energy exponentials (fraction of the line, decay keV) */
	double t1, b1, t2, b2;
	/* a low-energy shelf of constant height, as a fraction of the line per keV */
	double shelf;
	int escape; /* Si Kα escape at E − 1.74 keV, fraction from a fixed power law */
} synth_det;

static inline double synth_sigma(const synth_det *d, double e)
{
	return sqrt(d->noise * d->noise + 2.3548 * 2.3548 * d->fano * 0.00385 * e) / 2.3548;
}

/* Add `area` counts of a line at e (keV) to y[n] on the axis E = off + gain·ch.
 * Gaussian part evaluated at channel centres × gain; tails as exponentials
 * convolved with nothing (a sharp edge at the line): a different shape from
 * the engine's Gaussian-convolved Hypermet tail. */
static inline void synth_line(const synth_det *d, double off, double gain, size_t n, double e,
                              double area, double *y)
{
	double s = synth_sigma(d, e);
	double tails = d->t1 + d->t2;
	double shelf_area = d->shelf * e;
	double ag = area * (1 - tails) - area * shelf_area;
	for (size_t k = 0; k < n; k++) {
		double x = off + gain * (double)k;
		double z = x - e;
		double v = 0;
		if (fabs(z) < 10 * s)
			v += ag * gain / (s * sqrt(2 * M_PI)) * exp(-0.5 * z * z / (s * s));
		if (z < 0) {
			if (d->t1 > 0)
				v += area * d->t1 * gain / d->b1 * exp(z / d->b1);
			if (d->t2 > 0)
				v += area * d->t2 * gain / d->b2 * exp(z / d->b2);
			if (d->shelf > 0 && x > 0)
				v += area * d->shelf * gain;
		}
		y[k] += v;
	}
	if (d->escape && e > 1.84) {
		double pe = 0.012 * pow(e / 2.0, -1.7); /* an empirical curve, not Reed & Ware */
		double es = synth_sigma(d, e - 1.74);
		for (size_t k = 0; k < n; k++) {
			double z = off + gain * (double)k - (e - 1.74);
			if (fabs(z) < 8 * es)
				y[k] += area * pe * gain / (es * sqrt(2 * M_PI)) * exp(-0.5 * z * z / (es * es));
		}
	}
}

/* Every line of a K (lines −1..−29) or L (−30..−113) family of element z,
 * weighted by xraylib's fluorescence cross section at SYNTH_E0 (no matrix,
 * no detector efficiency), total area. */
#define SYNTH_E0 20.0
static inline void synth_family(const synth_det *d, double off, double gain, size_t n, int z,
                                int lo, int hi, double area, double *y)
{
	double tot = 0;
	for (int l = lo; l >= hi; l--) {
		double e = LineEnergy(z, l, NULL), r = CS_FluorLine_Kissel_Cascade(z, l, SYNTH_E0, NULL);
		if (e > 0 && r > 0)
			tot += r;
	}
	for (int l = lo; l >= hi; l--) {
		double e = LineEnergy(z, l, NULL), r = CS_FluorLine_Kissel_Cascade(z, l, SYNTH_E0, NULL);
		if (e > 0 && r > 0)
			synth_line(d, off, gain, n, e, area * r / tot, y);
	}
}

static inline void synth_poisson(unsigned long seed, const double *mean, double *out, size_t n)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, seed);
	for (size_t k = 0; k < n; k++)
		out[k] = mean[k] > 0 ? (double)gsl_ran_poisson(r, mean[k]) : 0.0;
	gsl_rng_free(r);
}

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The detected spectrum of peaks arriving at a silicon drift detector:
 * efficiency and Si Kα/Kβ escape (detector.c), and the line shape Gaussian +
 * low-energy exponential tail + step, integrated over each channel of an
 * energy axis. Reference: xrf-physics.md §3. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "physics_internal.h"

#define NSIG 7.0 /* exact evaluation within ±NSIG σ of a peak */

/* ------------------------------------------------------------ line shape */

/* log(Φ(−u)) = log(½·erfc(u/√2)) without underflow. */
static double log_phi_neg(double u)
{
	double x = u / M_SQRT2;
	if (x < 20.0)
		return log(0.5 * erfc(x));
	double x2 = x * x;
	return -x2 - log(x * sqrt(M_PI)) + log1p(-0.5 / x2 + 0.75 / (x2 * x2)) - M_LN2;
}

/* The tail's extra term: exp(z/β + σ²/2β²)·Φ(−z/σ − σ/β). Together with
 * Φ(z/σ) it is the cumulative distribution of a Gaussian (σ) convolved with a
 * low-side exponential of decay length β, at z = E − E_p. */
static double tail_term(double z, double sigma, double beta)
{
	double a = z / beta + sigma * sigma / (2 * beta * beta);
	double u = z / sigma + sigma / beta;
	if (a < 700.0 && u < 35.0)
		return exp(a) * 0.5 * erfc(u / M_SQRT2);
	return exp(a + log_phi_neg(u));
}

static double phi(double u)
{
	return 0.5 * erfc(-u / M_SQRT2);
}

/* ∫ ½·erfc(z/(σ√2)) dz antiderivative: ½σ√2·(t·erfc(t) − e^(−t²)/√π), t = z/(σ√2). */
static double step_int(double z, double sigma)
{
	double t = z / (sigma * M_SQRT2);
	return 0.5 * sigma * M_SQRT2 * (t * erfc(t) - exp(-t * t) / sqrt(M_PI));
}

struct resp {
	const mg_xrf_detector *det;
	const mg_xrf_axis *ax;
	unsigned flags;
	double *out;     /* nchan */
	double *tailinj; /* nchan: exponential-tail injections, swept downwards at the end */
	double *flat;    /* nchan + 1: difference array of the flat part of the steps */
	double above;
	double *cdf;     /* scratch, nchan + 1 */
};

static void add_shape(struct resp *r, double ep, double area, double sigma_det, double sigma_x)
{
	const mg_xrf_axis *ax = r->ax;
	const int n = ax->nchan;
	const double g = ax->gain_kev;
	const double lo0 = ax->offset_kev - 0.5 * g;
	const double top = lo0 + n * g;
	if (!(area > 0))
		return;
	double sigma = sqrt(sigma_det * sigma_det + sigma_x * sigma_x);
	int shaped = !(r->flags & MG_XRF_NO_TAIL);
	double beta = r->det->tail_slope_kev;
	double at = shaped ? r->det->tail_fraction * area : 0.0;
	double hd = shaped ? r->det->step_height * area / (sigma_det * sqrt(2 * M_PI)) : 0.0;
	double as = hd * (ep > 0 ? ep : 0.0);
	if (at + as > 0.5 * area) { /* keep the photopeak dominant whatever the inputs */
		double k = 0.5 * area / (at + as);
		at *= k;
		hd *= k;
		as *= k;
	}
	double ag = area - at - as;

	/* exact region [ka, kb) in channels; below it the tail is a pure
	 * exponential and the step is flat. */
	double elo = ep - NSIG * sigma - (at > 0 ? sigma * sigma / beta : 0.0);
	double ehi = ep + NSIG * sigma;
	if (ehi <= lo0)
		return; /* wholly below the axis: not counted */
	long ka = (long)fmin(fmax(floor((elo - lo0) / g), 0.0), (double)n);
	long kb = (long)fmin(fmax(ceil((ehi - lo0) / g), 0.0), (double)n);

	/* above the axis */
	{
		double zt = top - ep;
		double a = ag * (1.0 - phi(zt / sigma));
		if (at > 0)
			a += at * (1.0 - phi(zt / sigma) - tail_term(zt, sigma, beta));
		if (hd > 0)
			a += hd * (0.0 - step_int(zt, sigma));
		if (a > 0)
			r->above += a;
	}
	/* exact part */
	if (kb > ka) {
		const double sq = sigma * M_SQRT2;
		for (long k = ka; k <= kb; k++) {
			double z = lo0 + k * g - ep, t = z / sq;
			double ec = erfc(-t); /* 2·Φ(z/σ) */
			double c = (ag + at) * 0.5 * ec;
			if (at > 0)
				c += at * tail_term(z, sigma, beta);
			if (hd > 0) /* ∫ ½erfc: ½σ√2·(t·erfc(t) − e^(−t²)/√π), erfc(t) = 2 − erfc(−t) */
				c += hd * 0.5 * sq * (t * (2.0 - ec) - exp(-t * t) / sqrt(M_PI));
			r->cdf[k] = c;
		}
		for (long k = ka; k < kb; k++) {
			double v = r->cdf[k + 1] - r->cdf[k];
			if (v > 0)
				r->out[k] += v;
		}
	}
	/* below the exact region */
	if (ka > 0) {
		if (at > 0) {
			double zl = lo0 + (ka - 1) * g - ep;
			double v = at * exp(sigma * sigma / (2 * beta * beta) + zl / beta) * expm1(g / beta);
			r->tailinj[ka - 1] += v;
		}
		if (hd > 0) {
			r->flat[0] += hd * g;
			r->flat[ka] -= hd * g;
		}
	}
}

int mg_xrf_detector_response(const mg_xrf_detector *det, const mg_xrf_axis *axis,
                             const mg_xrf_peak *peaks, size_t npeaks, unsigned flags,
                             double *rate_ch, double *rate_above)
{
	if (!det || !axis || !rate_ch || (npeaks && !peaks))
		return mg_fail(MG_ERR_ARG, XR_DOM, "detector response: NULL argument");
	if (axis->nchan < 1 || axis->nchan > MG_XRF_MAX_CHANNELS || !(axis->gain_kev > 0))
		return mg_fail(MG_ERR_ARG, XR_DOM, "detector response: bad axis (%d channels, %g keV/ch)",
		               axis->nchan, axis->gain_kev);
	if (!(det->tail_slope_kev >= 0.005) && det->tail_fraction > 0 && !(flags & MG_XRF_NO_TAIL))
		return mg_fail(MG_ERR_ARG, XR_DOM, "detector: tail slope %g keV below 0.005",
		               det->tail_slope_kev);
	const size_t n = (size_t)axis->nchan;
	struct resp r = {.det = det, .ax = axis, .flags = flags, .out = rate_ch};
	r.tailinj = calloc(n, sizeof(double));
	r.flat = calloc(n + 1, sizeof(double));
	r.cdf = calloc(n + 1, sizeof(double));
	if (!r.tailinj || !r.flat || !r.cdf) {
		free(r.tailinj);
		free(r.flat);
		free(r.cdf);
		return mg_fail(MG_ERR_NOMEM, XR_DOM, "detector response: out of memory");
	}
	memset(rate_ch, 0, n * sizeof(double));
	double esc_ka, esc_kb;
	mg_xrf_escape_energies(&esc_ka, &esc_kb);
	const double fwhm2sig = 1.0 / XR_FWHM_PER_SIGMA;

	for (size_t i = 0; i < npeaks; i++) {
		double e = peaks[i].energy_kev, rate = peaks[i].rate;
		double sx = peaks[i].extra_sigma_kev > 0 ? peaks[i].extra_sigma_kev : 0.0;
		if (!(rate > 0) || !(e > 0) || !isfinite(rate))
			continue;
		double detected = rate * mg_xrf_detector_efficiency(det, e);
		double pa = 0, pb = 0;
		if (!(flags & MG_XRF_NO_ESCAPE)) {
			double into =
				rate * xr_entrance(MG_XRF_SENSOR_SI, det->be_um, det->dead_layer_um, 0.0, e);
			pa = mg_xrf_escape_fraction(e, &pb);
			pa *= into;
			pb *= into;
			if (pa + pb > detected) /* cannot happen for sane inputs */
				pa = pb = 0;
		}
		add_shape(&r, e, detected - pa - pb, mg_xrf_detector_fwhm(det, e) * fwhm2sig, sx);
		if (pa > 0)
			add_shape(&r, e - esc_ka, pa, mg_xrf_detector_fwhm(det, e - esc_ka) * fwhm2sig, sx);
		if (pb > 0)
			add_shape(&r, e - esc_kb, pb, mg_xrf_detector_fwhm(det, e - esc_kb) * fwhm2sig, sx);
	}

	/* sweep the exponential tails downwards, integrate the flat steps */
	double decay = det->tail_slope_kev > 0 ? exp(-axis->gain_kev / det->tail_slope_kev) : 0.0;
	double acc = 0.0;
	for (size_t k = n; k-- > 0;) {
		acc = acc * decay + r.tailinj[k];
		rate_ch[k] += acc;
	}
	double flat = 0.0;
	for (size_t k = 0; k < n; k++) {
		flat += r.flat[k];
		rate_ch[k] += flat > 0 ? flat : 0.0;
	}
	/* lower level discriminator */
	for (size_t k = 0; k < n; k++)
		if (axis->offset_kev + axis->gain_kev * (double)k < det->lld_kev)
			rate_ch[k] = 0.0;
	if (rate_above)
		*rate_above = r.above;
	free(r.tailinj);
	free(r.flat);
	free(r.cdf);
	return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Physics of the simulated ICP-OES (see icp_physics.h).
 *
 * A window is npix pixels of pixel_nm around a configured line. Every library
 * line of an element present in the solution that lies within the window or
 * 0.5 nm around it contributes its pseudo-Voigt profile, integrated exactly
 * over each pixel (Gaussian CDF + Lorentzian CDF), so wings of strong matrix
 * lines reach into neighbouring windows. Line area (counts/s):
 *     S x c / (1 + c / CSAT) x suppression x drift_common x drift_line x jump
 * suppression = exp(-TDS / 20000 mg/L) — the same for every line, the
 * internal standard included; drift_common = 1 + D t + 0.4 % sin(2 pi t / 0.8 h),
 * also shared; drift_line = 1 + g t with g in +-0.3 %/h fixed per line by the
 * seed (what an internal standard cannot correct). Background per pixel
 * (counts/s): a continuum rising with wavelength, sloped across the window,
 * plus a recombination part proportional to TDS.
 *
 * Wavelengths of the line library: those of ../shared/reference/domain.md §5
 * for the analytes and the named interferences (B 249.773 on Fe 249.782;
 * Sm 359.260 under Nd 359.259 and Fe 359.267; Co 238.892 by Fe 238.863);
 * the other matrix neighbours (the Nd lines in the wings of Pr 390.844,
 * Dy 400.045, Tb 350.917 and others, Fe near Tb and Nd) are placed by this
 * simulator to reproduce the kinds of interference of an NdFeB digest — they
 * are not a line library. Sensitivities are plausible orders of magnitude. */
#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "drivers/sim/icp_physics.h"

static const mg_icpphys_line lines[] = {
	/* Nd: analyte lines, then matrix lines near other analytes */
	{"Nd", 401.225, 1.6e4, 1},
	{"Nd", 406.109, 2.0e4, 1},
	{"Nd", 430.358, 2.4e4, 1},
	{"Nd", 359.259, 0.9e4, 0},  /* on Sm 359.260 */
	{"Nd", 390.880, 1.2e4, 0},  /* wing on Pr 390.844 */
	{"Nd", 400.081, 1.0e4, 0},  /* wing on Dy 400.045 */
	{"Nd", 350.943, 0.6e4, 0},  /* near Tb 350.917 */
	{"Nd", 384.851, 0.7e4, 0},  /* near Tb 384.873 */
	{"Nd", 367.680, 0.4e4, 0},  /* near Tb 367.635 */
	{"Nd", 414.342, 0.5e4, 0},  /* near Pr 414.311 */
	{"Nd", 353.252, 0.3e4, 0},  /* resolved from Dy 353.170 */
	{"Nd", 394.433, 0.4e4, 0},  /* between Al 394.401 and Dy 394.468 */
	{"Nd", 430.437, 0.3e4, 0},  /* a weak Nd neighbour of Nd 430.358 */
	/* Pr */
	{"Pr", 390.844, 1.5e4, 1},
	{"Pr", 414.311, 2.0e4, 1},
	{"Pr", 417.939, 1.6e4, 1},
	{"Pr", 422.293, 2.2e4, 1},
	{"Pr", 422.535, 1.0e4, 1},
	/* Dy */
	{"Dy", 353.170, 5.0e4, 1},
	{"Dy", 394.468, 3.5e4, 1},
	{"Dy", 400.045, 3.0e4, 1},
	{"Dy", 340.780, 3.0e4, 1},
	/* Tb */
	{"Tb", 350.917, 2.5e4, 1},
	{"Tb", 367.635, 1.5e4, 1},
	{"Tb", 384.873, 1.2e4, 1},
	{"Tb", 332.440, 1.4e4, 1},
	/* Fe: analyte lines and the matrix lines of a Fe-rich digest */
	{"Fe", 238.204, 6.0e4, 1},
	{"Fe", 259.940, 8.0e4, 1},
	{"Fe", 259.837, 3.0e4, 0},
	{"Fe", 249.782, 2.5e3, 0},  /* on B 249.773 */
	{"Fe", 359.267, 1.5e3, 0},  /* on Sm 359.260 */
	{"Fe", 238.863, 8.0e3, 0},  /* near Co 238.892 */
	{"Fe", 401.263, 2.0e3, 0},  /* near Nd 401.225 */
	{"Fe", 350.878, 3.0e3, 0},  /* near Tb 350.917 */
	{"Fe", 332.462, 2.0e3, 0},  /* near Tb 332.440 */
	{"Fe", 238.120, 4.0e3, 0},
	/* Co */
	{"Co", 228.616, 3.0e4, 1},
	{"Co", 238.892, 2.5e4, 1},
	/* B */
	{"B", 249.773, 4.0e4, 1},
	{"B", 208.957, 1.5e4, 1},   /* free of Fe in this library */
	{"B", 182.577, 1.2e4, 1},
	/* Al */
	{"Al", 396.152, 3.0e4, 1},
	{"Al", 394.401, 2.0e4, 1},
	{"Al", 167.019, 4.0e4, 1},
	/* Cu */
	{"Cu", 324.754, 6.0e4, 1},
	{"Cu", 327.395, 4.0e4, 1},
	/* Ga */
	{"Ga", 417.206, 1.5e4, 1},
	{"Ga", 294.364, 1.2e4, 1},
	/* Sm */
	{"Sm", 359.260, 1.5e4, 1},
	/* internal standards */
	{"Y", 371.030, 1.2e5, 1},
	{"Y", 360.073, 6.0e4, 1},
	{"Sc", 361.383, 1.5e5, 1},
	{"Sc", 357.253, 5.0e4, 1},
	/* Ca (in the library for Al 396.152's neighbour) */
	{"Ca", 396.847, 2.0e5, 1},
	{"Ca", 393.366, 2.5e5, 1},
};

const mg_icpphys_line *mg_icpphys_lines(size_t *n)
{
	*n = sizeof(lines) / sizeof(lines[0]);
	return lines;
}

const mg_icpphys_line *mg_icpphys_find(const char *element, double wl_nm, double tol_nm)
{
	const mg_icpphys_line *best = NULL;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (!strcmp(lines[i].element, element) && fabs(lines[i].wl_nm - wl_nm) <= tol_nm &&
		    (!best || fabs(lines[i].wl_nm - wl_nm) < fabs(best->wl_nm - wl_nm)))
			best = &lines[i];
	return best;
}

double mg_icpphys_fwhm_nm(double wl)
{
	double f = 0.005 + 0.005 * (wl - 200.0) / 250.0;
	return f < 0.005 ? 0.005 : f > 0.010 ? 0.010 : f;
}

double mg_icpphys_conc(const mg_icpphys_solution *s, const char *el)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->el[i], el))
			return s->c[i];
	return 0;
}

double mg_icpphys_tds(const mg_icpphys_solution *s)
{
	double t = 0;
	for (size_t i = 0; i < s->n; i++)
		t += s->c[i];
	return t;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Uniform in [-1, 1] from a seed and a wavelength. */
static double hash_unit(uint64_t seed, double wl)
{
	uint64_t h = mix(seed * 0x9e3779b97f4a7c15ULL + (uint64_t)llround(wl * 1e4));
	return (double)(h >> 11) / (double)(1ULL << 53) * 2.0 - 1.0;
}

void mg_icpphys_axis(const mg_icpphys_conditions *c, double center, double *wl)
{
	/* a fixed sub-pixel offset per window, as on a real detector */
	double off = 0.3 * c->pixel_nm * hash_unit(0x51ed270b, center);
	double half = ((double)c->npix - 1.0) / 2.0;
	for (size_t i = 0; i < c->npix; i++)
		wl[i] = center + ((double)i - half) * c->pixel_nm + off;
}

/* Fraction of a unit-area pseudo-Voigt centred at 0 in [a, b]. */
static double pv_fraction(double a, double b, double fwhm)
{
	double sigma = fwhm / 2.354820045, gamma = fwhm / 2.0;
	double g = 0.5 * (erf(b / (sigma * M_SQRT2)) - erf(a / (sigma * M_SQRT2)));
	double l = (atan(b / gamma) - atan(a / gamma)) / M_PI;
	return MG_ICPPHYS_ETA * l + (1.0 - MG_ICPPHYS_ETA) * g;
}

static double common_drift(const mg_icpphys_conditions *c)
{
	return 1.0 + c->drift_pct_h / 100.0 * c->t_hours + 0.004 * sin(2.0 * M_PI * c->t_hours / 0.8);
}

void mg_icpphys_expected(const mg_icpphys_conditions *c, const mg_icpphys_solution *s, const double *wl,
                         double *emission, double *background)
{
	size_t n = c->npix;
	double lo = wl[0] - 0.5, hi = wl[n - 1] + 0.5;
	double center = 0.5 * (wl[0] + wl[n - 1]);
	double tds = mg_icpphys_tds(s);
	double supp = exp(-tds / MG_ICPPHYS_TDS_SCALE);
	double drift = common_drift(c);
	for (size_t i = 0; i < n; i++)
		emission[i] = 0;
	for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
		const mg_icpphys_line *L = &lines[k];
		if (L->wl_nm < lo || L->wl_nm > hi)
			continue;
		double conc = mg_icpphys_conc(s, L->element);
		if (conc <= 0)
			continue;
		double area = L->sens * conc / (1.0 + conc / MG_ICPPHYS_CSAT) * supp * drift;
		area *= 1.0 + 0.003 * hash_unit(c->seed, L->wl_nm) * c->t_hours;
		if (c->jump_factor != 1.0 && (!c->is_element || strcmp(L->element, c->is_element)))
			area *= c->jump_factor;
		double fwhm = mg_icpphys_fwhm_nm(L->wl_nm);
		for (size_t i = 0; i < n; i++) {
			double a = wl[i] - 0.5 * c->pixel_nm - L->wl_nm, b = wl[i] + 0.5 * c->pixel_nm - L->wl_nm;
			emission[i] += area * pv_fraction(a, b, fwhm) * c->integration_s;
		}
	}
	double base = 60.0 + 0.35 * (center - 190.0);
	if (base < 20)
		base = 20;
	for (size_t i = 0; i < n; i++) {
		double slope = 1.0 + 0.2 * (wl[i] - center) / 0.1;
		background[i] = (base * slope * drift + 0.015 * tds) * c->integration_s;
	}
}

void mg_icpphys_read(const mg_icpphys_conditions *c, const mg_icpphys_solution *s, const double *wl,
                     double flicker_common, gsl_rng *rng, double *counts)
{
	size_t n = c->npix;
	double em[128], bg[128];
	mg_icpphys_expected(c, s, wl, em, bg);
	double f = flicker_common;
	if (c->noise > 0)
		f *= 1.0 + gsl_ran_gaussian(rng, 0.0015 * c->noise);
	for (size_t i = 0; i < n; i++) {
		double mean = em[i] * f + bg[i];
		if (mean < 0)
			mean = 0;
		double x = mean;
		if (c->noise > 0) {
			double shot = mean < 1000 ? (double)gsl_ran_poisson(rng, mean) - mean : gsl_ran_gaussian(rng, sqrt(mean));
			x = mean + c->noise * shot + gsl_ran_gaussian(rng, 4.0 * c->noise);
		}
		counts[i] = x;
	}
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to drivers/sim (and tests): the physics of the simulated ICP-OES —
 * the emission line library, line shapes, background, matrix suppression,
 * drift and noise of the spectral windows around configured lines.
 * See docs/commands/sim.md ("the simulated ICP-OES"). */
#ifndef MG_ICP_PHYSICS_H
#define MG_ICP_PHYSICS_H

#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

#define MG_ICPPHYS_MAX_EL 24
#define MG_ICPPHYS_CSAT 5000.0   /* mg/L: I = S c / (1 + c / CSAT), mild curvature */
#define MG_ICPPHYS_TDS_SCALE 20000.0 /* mg/L: matrix suppression exp(-TDS / scale) */
#define MG_ICPPHYS_ETA 0.3       /* Lorentzian fraction of the pseudo-Voigt profile */

/* One emission line of the simulator's library. */
typedef struct mg_icpphys_line {
	const char *element;
	double wl_nm;
	double sens;   /* counts per second per mg/L (line area, before suppression and drift) */
	int analyte;   /* 1: a line to configure; 0: only a matrix line seen in windows */
} mg_icpphys_line;

const mg_icpphys_line *mg_icpphys_lines(size_t *n);
/* The library line of `element` nearest wl_nm within tol_nm, or NULL. */
const mg_icpphys_line *mg_icpphys_find(const char *element, double wl_nm, double tol_nm);
/* Full width at half maximum at a wavelength (5 pm at 200 nm to 10 pm at 450 nm and above). */
double mg_icpphys_fwhm_nm(double wl_nm);

/* A solution: elements and mg/L (the internal standard included). */
typedef struct mg_icpphys_solution {
	size_t n;
	char el[MG_ICPPHYS_MAX_EL][4];
	double c[MG_ICPPHYS_MAX_EL];
} mg_icpphys_solution;
double mg_icpphys_conc(const mg_icpphys_solution *s, const char *el);
/* Total dissolved solids from the listed elements, mg/L. */
double mg_icpphys_tds(const mg_icpphys_solution *s);

typedef struct mg_icpphys_conditions {
	double t_hours;         /* since the plasma was lit: drift */
	double drift_pct_h;     /* common drift (nebulisation, seen equally by the internal standard) */
	double jump_factor;     /* fault: every line but the internal standard's reads x this (1 = none) */
	const char *is_element; /* the internal standard element */
	uint64_t seed;          /* line-specific drift rates */
	double integration_s;
	double noise;           /* scale of every noise term (0 = noiseless) */
	double pixel_nm;        /* pixel width */
	size_t npix;
} mg_icpphys_conditions;

/* Pixel wavelengths of the window around center_nm. */
void mg_icpphys_axis(const mg_icpphys_conditions *c, double center_nm, double *wl);
/* Expected counts per pixel in one integration, split into emission (lines)
 * and background, without noise. */
void mg_icpphys_expected(const mg_icpphys_conditions *c, const mg_icpphys_solution *s, const double *wl,
                         double *emission, double *background);
/* One replicate reading: emission x flicker (flicker_common drawn once per
 * replicate by the caller and shared by every window: the internal standard
 * sees it too), plus a small window-specific flicker, shot noise (Poisson),
 * read noise. counts receives the window's counts. */
void mg_icpphys_read(const mg_icpphys_conditions *c, const mg_icpphys_solution *s, const double *wl,
                     double flicker_common, gsl_rng *rng, double *counts);

#endif

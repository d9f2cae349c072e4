/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — calibration records and the data they hold.
 *
 * The calibrations the analysis uses and produces, as data: the energy
 * calibration and detector model of the XRF engine, with the JSON object
 * `magassay analyze --json` prints and `--calib FILE` reads.
 *
 * The fits that produce these calibrations live in the analysis (analysis.h,
 * quant.h); this header defines what they produce. */
#ifndef MAGASSAY_CALIB_H
#define MAGASSAY_CALIB_H

#include <stddef.h>

#include "magassay/spectrum.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- energy and resolution */

/* The energy calibration itself is mg_energy_cal (spectrum.h): every spectrum carries one. */

/* Detector response model. FWHM(E) = sqrt(noise² + 2.3548²·fano·0.00385·E). */
typedef struct mg_detector_model {
	double noise_kev;      /* electronic noise, FWHM keV (SDD ≈ 0.06–0.12) */
	double fano;           /* Fano factor with 3.85 eV per e–h pair (≈ 0.11–0.14) */
	double tail_fraction;  /* low-energy exponential tail: area / line area (0 = none) */
	double tail_slope_kev; /* its decay length β, keV */
	double step_height;    /* low-energy shelf height / Gaussian peak height (0 = none) */
	double be_um;          /* Be entrance window, µm (efficiency; 0 = none) */
	double dead_layer_um;  /* Si dead layer, µm */
	double thickness_mm;   /* active Si thickness, mm (0 = ideal detector, efficiency 1) */
	double air_mm;         /* sample → detector path in air, mm (0 = vacuum) */
	double escape_scale;   /* × the Reed–Ware Si escape fractions (MG_AN_ESCAPE): 1 = physics
	                          (the default); < 1 where the processor already removed some
	                          (Bruker); refinable with MG_REFINE_ESCAPE */
} mg_detector_model;

/* A resolution/energy calibration record as JSON: the "calibration" object
 * that `magassay analyze --json` prints ({offset_kev, gain_kev, quad_kev,
 * noise_kev, fano [, tail_fraction, tail_slope_kev, step_height]}), either at
 * the top level or inside an analysis result (first one in a list). */
int mg_analysis_calib_read_file(const char *path, mg_energy_cal *cal, mg_detector_model *det);
/* The same from memory (a record's payload: {offset_kev, gain_kev, ...}); name
 * is used in error details (NULL: "calibration"). */
int mg_analysis_calib_parse(const char *text, size_t len, const char *name, mg_energy_cal *cal,
                            mg_detector_model *det);
int mg_analysis_calib_write_file(const char *path, const mg_energy_cal *cal,
                                 const mg_detector_model *det);

#ifdef __cplusplus
}
#endif
#endif

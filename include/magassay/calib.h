/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — calibration records and the data they hold.
 *
 * A calibration record (mg_calib_record) is a versioned, append-only piece of
 * data: a kind ("energy", "resolution", "quant"), a name, a version, its
 * provenance and its payload (JSON). Records are exported to and imported
 * from JSON files here; they are stored in and loaded from the store by
 * mg_calib_record_store / mg_calib_record_load (store.h).
 *
 * The payloads, as data:
 *  - the energy calibration and detector model of the XRF engine, with the
 *    JSON object `magassay analyze --json` prints and `--calib FILE` reads;
 *  - the quantification calibration: the instrument it was made on, FP
 *    instrument factors, the tube-spectrum tilt, empirical calibration lines
 *    and the standards (compositions and measured intensities) it was fitted
 *    on, with its JSON payload.
 *
 * The fits that produce these calibrations live in the analysis (analysis.h:
 * energy and resolution; quant.h: mg_quant_calibrate); this header defines
 * what they produce, and quant.h uses it.
 *
 * Mass fractions are in wt% in text (compositions, JSON) and as mass
 * fractions (0..1) inside mg_quant_comp. Uncertainties are standard
 * uncertainties (k = 1). */
#ifndef MAGASSAY_CALIB_H
#define MAGASSAY_CALIB_H

#include <stddef.h>

#include "magassay/instrument.h"
#include "magassay/spectrum.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

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
/* The same object as the payload of an "energy" or "resolution" calibration
 * record (malloc'ed JSON text; NULL on no memory or a NULL argument). */
char *mg_calib_energy_payload(const mg_energy_cal *cal, const mg_detector_model *det);

/* ---------------------------------------------------------------- compositions */

#define MG_QUANT_MAX_EL 32
#define MG_QUANT_MAX_ALPHA 4

typedef struct mg_quant_comp {
	size_t n;
	int z[MG_QUANT_MAX_EL];
	double w[MG_QUANT_MAX_EL]; /* mass fraction */
	double u[MG_QUANT_MAX_EL]; /* standard uncertainty of w (mass fraction); 0 = not given */
} mg_quant_comp;

/* Parse "Fe:66,Nd:24.1+-0.2,B:1" (wt%, optional "+-U" or "±U" uncertainty in wt%;
 * separators ',' ';' or blanks; each element once; not normalised).
 * 0 or MG_ERR_FORMAT with the byte offset. */
int mg_quant_comp_parse(const char *spec, mg_quant_comp *out);
/* Mass fraction of z (0 when absent). */
double mg_quant_comp_get(const mg_quant_comp *c, int z);
/* Set (add or replace) z. 0 or MG_ERR_ARG (full, bad z). */
int mg_quant_comp_set(mg_quant_comp *c, int z, double w, double u);
/* "Fe:66.0,Nd:24.1" (wt%) into buf; snprintf-like return. */
int mg_quant_comp_format(const mg_quant_comp *c, char *buf, size_t size);

/* ---------------------------------------------------------------- measured intensities */

/* One measured line family of one element. */
typedef struct mg_quant_line {
	int z;
	char element[4];
	char line[12];      /* the analysis family: "K", "Ka", "Kb", "L", "L1", "L2", "L3", "M" */
	double energy_kev;  /* its main line */
	double area;        /* counts in the full-energy peaks (escape and pile-up excluded) */
	double sigma;       /* 1σ, counts */
	double sigma_bg;    /* 1σ of the area were the element absent: background and overlaps
	                       under the line (the basis of LOD and LOQ), counts */
	int status;         /* mg_family_status of the fit */
} mg_quant_line;

/* The intensities of one spectrum. */
typedef struct mg_quant_meas {
	char name[64];
	double live_time_s;
	double current_ua;  /* tube current; NAN = unknown (then 1: every spectrum at the same current) */
	double chi2_reduced;
	double pileup_loss; /* fraction of the photons lost to pile-up (2 × the pile-up family's
	                       area / all counts): rates are divided by (1 − loss); 0 = none */
	size_t n;
	mg_quant_line lines[MG_QUANT_MAX_EL];
} mg_quant_meas;

/* ---------------------------------------------------------------- standards */

typedef struct mg_quant_standard {
	char name[64];
	mg_quant_comp comp;  /* known composition (pure element: 1), with its uncertainty */
	mg_quant_meas meas;  /* measured on the same instrument under the same conditions */
	char file[256];      /* where its spectrum came from (provenance; may be "") */
	char sha256[65];     /* of that file (may be "") */
} mg_quant_standard;

/* ---------------------------------------------------------------- quantification calibration */

/* One calibration line: w = (b0 + b1·R)·(1 + Σ α_j·w_j), R the rate per µA
 * (counts/s/µA) of the line, w mass fractions (Lachance–Traill with an
 * intercept; no α = a plain calibration line). */
typedef struct mg_quant_empirical_line {
	int z;
	char element[4];
	char line[12];
	double b0, b1;
	size_t nalpha;
	int alpha_z[MG_QUANT_MAX_ALPHA];
	double alpha[MG_QUANT_MAX_ALPHA];
	double cov[(2 + MG_QUANT_MAX_ALPHA) * (2 + MG_QUANT_MAX_ALPHA)]; /* of (b0, b1·…) parameters */
	double s_resid;   /* residual standard deviation of the fit, mass fraction */
	double w_min, w_max; /* calibrated range (the standards' values) */
	size_t nstd;
} mg_quant_empirical_line;

/* A quantification calibration (the payload of a "quant" calibration record;
 * fitted by mg_quant_calibrate, quant.h). */
typedef struct mg_quant_calibration {
	char name[64];
	int version;            /* of the record (0 = not stored) */
	long long id;           /* store id (0 = not stored) */
	mg_instrument_desc instrument;
	char elements[256];     /* the FP element list */
	/* FP instrument factors per shell class (K, L, M): measured/predicted rate, from the standards */
	double g[3], g_u[3];    /* factor and its relative standard uncertainty (0 = not determined) */
	int g_n[3];
	/* the tube-spectrum shape fitted on the standards: beam × (E/10 keV)^tilt */
	double tilt, tilt_u;    /* tilt_u 0: not fitted */
	/* empirical lines */
	size_t nlines;
	mg_quant_empirical_line lines[MG_QUANT_MAX_EL];
	/* range of the standards per element (mass fractions) */
	mg_quant_comp range_lo, range_hi;
	/* the standards themselves (compositions and measured intensities): the FP
	 * instrument factors are re-derived from them for the matrix uncertainty */
	size_t nstd;
	mg_quant_standard *stds; /* owned (mg_quant_calibration_clear) */
} mg_quant_calibration;

/* Free what a calibration owns and zero it. */
void mg_quant_calibration_clear(mg_quant_calibration *c);
/* Deep copy (dst is overwritten, not cleared first). 0 or MG_ERR_NOMEM. */
int mg_quant_calibration_copy(mg_quant_calibration *dst, const mg_quant_calibration *src);

/* The calibration's payload as JSON (malloc'ed) and back (from_json: out is
 * overwritten; clear it after). */
char *mg_quant_calibration_to_json(const mg_quant_calibration *c);
int mg_quant_calibration_from_json(const char *json, size_t len, const char *name, mg_quant_calibration *out);

/* ---------------------------------------------------------------- calibration records */

/* A calibration record: kind "energy", "resolution" or "quant", a name, a
 * version (records are never overwritten: a new one is a new version), its
 * provenance (JSON: standards used with their files and SHA-256, date,
 * operator, software version, instrument) and its payload (JSON). */
typedef struct mg_calib_record {
	char kind[16];
	char name[64];
	int version;             /* 0 = not stored yet */
	long long id;            /* store id (0 = none) */
	char created_at[40];
	char operator_name[64];
	char software_version[32];
	char *provenance_json;   /* owned, may be NULL */
	char *payload_json;      /* owned */
} mg_calib_record;

void mg_calib_record_clear(mg_calib_record *r);

/* Export as a JSON file: {"magassay_calibration": 1, kind, name, version, id,
 * created_at, operator, software_version, provenance, payload} plus, for energy
 * and resolution records, the "calibration" object `magassay analyze --calib`
 * reads. Never overwrites: an existing path is MG_ERR_EXISTS. */
int mg_calib_record_export(const mg_calib_record *r, const char *path);
/* Read an exported file (or any JSON file carrying such an object). */
int mg_calib_record_import(const char *path, mg_calib_record *out);
int mg_calib_record_parse(const char *json, size_t len, const char *name, mg_calib_record *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif

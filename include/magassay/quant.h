/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — XRF quantification: from the analysis engine's family areas to
 * mass fractions with uncertainties, detection limits, flags, totals and a
 * grade; and the quantification calibrations that produce them.
 *
 * Three methods (docs/quantification.md):
 *  - MG_QUANT_KRATIO: k-ratios of the unknown against standards measured under
 *    the same conditions (areas normalised by live time and tube current), one
 *    per line family, then a fundamental-parameter matrix correction iterated
 *    to convergence (w ← w·k/k_calc(w), Criss–Birks).
 *  - MG_QUANT_FP: fundamental parameters (Sherman primary + secondary
 *    fluorescence through xraylib, tube spectrum, geometry, detector efficiency,
 *    atmosphere). Without standards ("standardless") the instrument factor is
 *    unknown and the result is normalised; with one or a few standards the
 *    instrument factor per shell (K, L, M) is fixed and the total is a QC value.
 *  - MG_QUANT_EMPIRICAL: calibration lines with Lachance–Traill influence
 *    coefficients fitted on reference magnets assayed by ICP (type
 *    standardisation), from a quantification calibration.
 *
 * Plan once, run many: mg_quant_new() builds the FP model (tube spectrum,
 * cross sections of every element and line on the beam grid, secondary
 * fluorescence pairs) and analyses the standards once; mg_quant_run() on a
 * measurement is cheap and re-entrant (the object is immutable).
 *
 * The data the quantification works on — compositions, measured intensities,
 * standards and the quantification calibration — are defined in calib.h.
 *
 * Mass fractions are in wt% in results and compositions given as text, as
 * mass fractions (0..1) inside mg_quant_comp. Uncertainties are standard
 * uncertainties (k = 1). */
#ifndef MAGASSAY_QUANT_H
#define MAGASSAY_QUANT_H

#include <stddef.h>

#include "magassay/analysis.h"
#include "magassay/calib.h"
#include "magassay/instrument.h"
#include "magassay/spectrum.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

#define MG_QUANT_MAX_NOTES 12

/* ---------------------------------------------------------------- intensities */

/* Compositions (mg_quant_comp) and measured intensities (mg_quant_line,
 * mg_quant_meas) are defined in calib.h. */

/* Rate per µA and live second of a line, corrected for pile-up losses (NAN if
 * the live time is unknown). */
double mg_quant_line_rate(const mg_quant_meas *m, const mg_quant_line *l);
/* The line of element z with label `line` (NULL = the element's first), or NULL. */
const mg_quant_line *mg_quant_meas_find(const mg_quant_meas *m, int z, const char *line);

/* Intensities from an analysis result: one line per element family (several
 * families of one element, e.g. Ka and Kb requested separately, give several).
 * σ_bg = sqrt(max(σ² − area, continuum under ±1 FWHM of the main line)), the
 * continuum read from r->background[nchan] (nchan 0: σ only); the pile-up loss
 * from the pile-up family and r->model[nchan]. live_time_s NAN: the result's.
 * name may be NULL. 0 or MG_ERR_ARG. */
int mg_quant_meas_from_result(const mg_analysis_result *r, size_t nchan, double live_time_s,
                              double current_ua, const char *name, mg_quant_meas *out);

/* Analyse a spectrum with cfg (nchan and calibration taken from the spectrum
 * when cfg's do not fit it), refining `refine` (MG_REFINE_* bits, 0 = none) and
 * fill *out (live time from the spectrum; current from the spectrum when known,
 * else current_ua). For a standard, set cfg->matrix to its composition first
 * (mg_quant_analyzer_run with `known` does that, with cached plans). */
int mg_quant_measure_spectrum(const mg_analysis_config *cfg, const mg_spectrum *s, unsigned refine,
                              double current_ua, mg_quant_meas *out);

/* ---------------------------------------------------------------- standards */

/* A standard (mg_quant_standard: composition and intensities) is defined in calib.h. */

typedef struct mg_quant_kratio {
	int z;
	char element[4];
	char line[12];
	double k, sigma;     /* (A/t/I)unknown / (A/t/I)standard and its counting σ */
	char standard[64];   /* the standard used */
	double w_std;        /* mass fraction of the element in it */
} mg_quant_kratio;

/* k-ratios of every line of `unk` that a standard containing the element
 * measured too (the standard with the highest mass fraction of the element is
 * used). Writes up to max, returns the number found or a negative error. */
int mg_quant_kratios(const mg_quant_meas *unk, const mg_quant_standard *stds, size_t nstd,
                     mg_quant_kratio *out, size_t max);

/* A standards table (CSV) as `magassay calibrate quant --standards FILE.csv`
 * reads it: a header "file,Nd,Pr,Dy,...[,u_Nd,...][,name]" (element columns in
 * wt%, u_<El> their standard uncertainties in wt%, name optional), one row per
 * standard; '#' comment lines; empty cells = element not assayed. */
typedef struct mg_quant_std_row {
	char file[256];
	char name[64];
	mg_quant_comp comp;
} mg_quant_std_row;
/* Parse; *rows malloc'ed (free()), *n rows. 0 or MG_ERR_FORMAT with the line. */
int mg_quant_standards_csv_parse(const char *text, size_t len, const char *name, mg_quant_std_row **rows,
                                 size_t *n);

/* ---------------------------------------------------------------- FP model */

typedef struct mg_fp_model mg_fp_model;

enum {
	MG_FP_NO_SECONDARY = 1u << 0, /* primary fluorescence only */
};

/* Build the FP model for an instrument and every element that may occur
 * ("Fe,Co,Ni,Cu,Nd,Pr,Dy,Tb,B": analytes, matrix and standards): the tube
 * beam (Ebel, window, filter, tube path), the detector efficiency (window,
 * dead layer, active thickness of the detector material; escape excluded),
 * the atmosphere path to the detector, cross sections on the beam grid and the
 * secondary-fluorescence pairs. 0 or a negative error. */
int mg_fp_model_new(const mg_instrument_desc *ins, const char *elements, unsigned flags, mg_fp_model **out);
void mg_fp_model_free(mg_fp_model *m);

/* Predicted full-energy count rate (counts/s per µA at the detector, escape
 * excluded) of the family `line` of element z in a thick homogeneous sample of
 * composition comp (normalised internally; elements outside the model's list
 * are an error): primary and secondary parts (either pointer may be NULL).
 * 0, MG_ERR_ARG (unknown element or family), MG_ERR_NOT_FOUND (not excited). */
int mg_fp_intensity(const mg_fp_model *m, const mg_quant_comp *comp, int z, const char *line,
                    double *primary, double *secondary);

/* Detector efficiency of the model's detector at e_kev (window, dead layer,
 * full-energy absorption in the active layer; atmosphere not included). */
double mg_fp_detector_efficiency(const mg_fp_model *m, double e_kev);

/* ---------------------------------------------------------------- options and results */

typedef enum mg_quant_method {
	MG_QUANT_FP = 0,
	MG_QUANT_KRATIO = 1,
	MG_QUANT_EMPIRICAL = 2,
} mg_quant_method;

enum {
	MG_QUANT_NO_SECONDARY = 1u << 0, /* FP without secondary fluorescence (for comparisons) */
	MG_QUANT_NO_MATRIX_U = 1u << 1,  /* skip the matrix-uncertainty perturbations (faster) */
};

typedef struct mg_grade_table mg_grade_table;

typedef struct mg_quant_options {
	mg_quant_method method;
	int normalise;           /* -1 auto (standardless FP: yes, otherwise no), 0 no, 1 yes */
	mg_quant_comp fixed;     /* elements XRF does not measure (default B 1.00 ± 0.15 wt%) */
	char fixed_source[16];   /* how they are known: "nominal" (default) or "icp" */
	char balance[4];         /* element taken by difference to 100 % ("" = none) */
	double total_lo_pct, total_hi_pct; /* QC window of the total (98, 102) */
	double coating_ratio;    /* coating suspected when Ni+Cu line intensity > this × the
	                            substrate's (Fe K) (0.5), or */
	double coating_wt_pct;   /* Ni + Cu above this wt% (5) */
	double lod_k, loq_k;     /* LOD = lod_k·σ_B, LOQ = loq_k·σ_B (3, 10) */
	int max_iter;            /* 60 */
	double tol;              /* convergence on every mass fraction (1e-6) */
	/* matrix uncertainty: sizes of the FP-model perturbations (uncertainty.c) */
	double u_sf_rel;         /* relative uncertainty of the secondary fluorescence (0.08) */
	double u_tube_tilt;      /* tilt exponent of the tube spectrum shape (0.15) */
	double u_mu_rel;         /* absorption of the major element above its edge (0.03) */
	double u_fp_data_rel;    /* standardless: relative sensitivity of L and M against K
	                            lines (fluorescence yields, Coster–Kronig) (0.05) */
	unsigned flags;          /* MG_QUANT_* */
	const mg_grade_table *grades; /* optional grade table (borrowed) */
} mg_quant_options;

void mg_quant_options_default(mg_quant_options *o);

/* Per-element flags. */
enum {
	MG_QE_BELOW_LOD = 1u << 0,      /* not detected: value < LOD */
	MG_QE_BELOW_LOQ = 1u << 1,      /* detected, below LOQ */
	MG_QE_OUTSIDE_RANGE = 1u << 2,  /* outside the calibrated range (empirical calibration or standards) */
	MG_QE_NOMINAL = 1u << 3,        /* not measured: a nominal value */
	MG_QE_ICP = 1u << 4,            /* not measured: from ICP */
	MG_QE_DIFFERENCE = 1u << 5,     /* by difference to 100 % */
	MG_QE_POOR_FIT = 1u << 6,       /* its line family fitted poorly */
	MG_QE_COATING = 1u << 7,        /* a coating element (Ni, Cu, Zn on a coated magnet) */
	MG_QE_NO_STANDARD = 1u << 8,    /* k-ratio method: no standard for it (FP with the instrument factor) */
};

/* Sample flags. */
enum {
	MG_QS_COATING = 1u << 0,        /* coating suspected (Ni/Cu dominate): the result is not the bulk */
	MG_QS_TOTAL_LOW = 1u << 1,      /* total below total_lo_pct */
	MG_QS_TOTAL_HIGH = 1u << 2,     /* total above total_hi_pct */
	MG_QS_NOT_CONVERGED = 1u << 3,
	MG_QS_NORMALISED = 1u << 4,     /* results scaled to a total of 100 % */
	MG_QS_OUTSIDE_RANGE = 1u << 5,  /* some element outside the calibrated range */
	MG_QS_POOR_FIT = 1u << 6,       /* reduced χ² of the spectrum fit poor (> 5) */
};

typedef struct mg_quant_element {
	int z;
	char element[4];
	char line[12];         /* the family used ("" for fixed elements) */
	double k, k_sigma;     /* k-ratio (MG_QUANT_KRATIO) or NAN */
	double wt_pct;         /* the value, never clipped (may be negative) */
	double sigma;          /* combined standard uncertainty, wt% */
	double u_counting;     /* components, wt% */
	double u_calibration;
	double u_matrix;
	double lod_wt_pct, loq_wt_pct; /* NAN for fixed elements */
	unsigned flags;        /* MG_QE_* */
	char source[12];       /* "xrf", "nominal", "icp", "difference" */
} mg_quant_element;

typedef struct mg_quant_sum {
	double wt_pct, sigma;
} mg_quant_sum;

typedef struct mg_quant_result {
	mg_quant_method method;
	char method_detail[48];     /* "fp-standardless", "fp-1-standard", "kratio", "empirical" */
	size_t n;
	mg_quant_element el[MG_QUANT_MAX_EL];
	mg_quant_sum total;         /* sum of everything reported, before normalisation */
	mg_quant_sum tree;          /* total rare-earth elements (Sc, Y, La–Lu) */
	mg_quant_sum ndpr;          /* Nd + Pr */
	mg_quant_sum dytb;          /* Dy + Tb */
	char grade[32];             /* "" when no table or no grade matches */
	char grade_description[96];
	unsigned flags;             /* MG_QS_* */
	int iterations;
	int converged;
	char boron[160];            /* how boron (invisible to XRF) was handled */
	long long calibration_id;   /* store id of the quantification calibration (0 = none) */
	char calibration[96];       /* "name v3" or "" */
	size_t nnotes;
	char notes[MG_QUANT_MAX_NOTES][200];
} mg_quant_result;

/* Names: "fp", "kratio", "empirical"; flag names for JSON ("below-lod", ...). */
const char *mg_quant_method_name(mg_quant_method m);
int mg_quant_method_parse(const char *s, mg_quant_method *m);
/* Write the names of the set flags, comma-separated, into buf. */
int mg_quant_element_flags_str(unsigned flags, char *buf, size_t size);
int mg_quant_sample_flags_str(unsigned flags, char *buf, size_t size);

/* The element of a result, or NULL. */
const mg_quant_element *mg_quant_result_find(const mg_quant_result *r, int z);

/* The result as a JSON object (malloc'ed string, free()): method, composition
 * [{element, line, wt_pct, sigma, u_counting, u_calibration, u_matrix,
 * lod_wt_pct, loq_wt_pct, flags [..], source}], kratios [{element, line, k,
 * sigma, standard}], totals {total, tree, nd_pr, dy_tb}, grade, flags, boron,
 * calibration_id, calibration, iterations, notes. NULL on no memory. */
char *mg_quant_result_json(const mg_quant_result *r);

/* ---------------------------------------------------------------- calibration */

/* The quantification calibration (mg_quant_calibration, its empirical lines,
 * clear/copy and JSON payload) is defined in calib.h; here, the fit. */

/* Fit a calibration on standards (reference magnets assayed by ICP, or any
 * standards with known composition): FP instrument factors per shell class
 * (weighted mean of measured/predicted rate over the standards, with their
 * scatter), and for every element measured in at least 3 standards a
 * calibration line, with Lachance–Traill coefficients for the influencing
 * elements named in `influences` ("Nd:Fe;Dy:Fe+Nd"; NULL = none; each α needs
 * one more standard). 0 or a negative error. */
int mg_quant_calibrate(const mg_instrument_desc *ins, const char *elements, const mg_quant_options *o,
                       const mg_quant_standard *stds, size_t nstd, const char *influences,
                       mg_quant_calibration *out);

/* ---------------------------------------------------------------- the quantification */

typedef struct mg_quant mg_quant;

/* Prepare a quantification: the FP model for `ins` (NULL: the calibration's) and `elements` (the
 * standards' and fixed elements are added), the standards (k-ratio method,
 * and FP instrument factors when no calibration gives them), the calibration
 * (empirical method; FP factors). stds/cal may be NULL. Everything is copied.
 * 0 or a negative error (MG_ERR_ARG: the method lacks what it needs). */
int mg_quant_new(const mg_instrument_desc *ins, const char *elements, const mg_quant_options *o,
                 const mg_quant_standard *stds, size_t nstd, const mg_quant_calibration *cal,
                 mg_quant **out);
void mg_quant_free(mg_quant *q);
const mg_fp_model *mg_quant_fp(const mg_quant *q);

/* Quantify one measurement. Re-entrant. kratios (may be NULL) receives the
 * k-ratios (k-ratio method), *nk their number. 0 or a negative error. */
int mg_quant_run(const mg_quant *q, const mg_quant_meas *unk, mg_quant_result *res,
                 mg_quant_kratio *kratios, size_t max_k, size_t *nk);

/* ---------------------------------------------------------------- spectrum to composition */

/* Fit and quantify with the matrix fed back: fit with cfg's matrix, quantify,
 * fit again with the quantified composition as the engine's matrix (rounded
 * to 0.5 wt% above 2 wt%, 0.1 below), quantify again — the engine's line ratios
 * and its split of major elements depend on the matrix it is told. An element
 * of 3–6 wt% whose main line lies within 150 eV of a main line of an element
 * ten times more abundant (Dy, Tb on Fe Kα; Co on Fe Kβ) is told as 2.9 wt%, so
 * it keeps fixed line ratios (see analyzer.c). Plans are cached per matrix.
 * Not thread-safe: one analyzer per thread (q may be shared). */
typedef struct mg_quant_analyzer mg_quant_analyzer;

enum {
	MG_QA_NO_FEEDBACK = 1u << 0, /* one fit with cfg's matrix only */
};

/* q may be NULL for an analyzer that only measures standards (known composition).
 * cfg: nchan, calibration and detector as for the spectra to come (copied). */
int mg_quant_analyzer_new(const mg_quant *q, const mg_analysis_config *cfg, unsigned flags,
                          mg_quant_analyzer **out);
void mg_quant_analyzer_free(mg_quant_analyzer *a);
/* Use another quantification (same instrument and spectra: the plan cache is kept). */
void mg_quant_analyzer_set_quant(mg_quant_analyzer *a, const mg_quant *q);

/* One spectrum: counts[nchan], live time, tube current (NAN = unknown), name.
 * known != NULL: a standard of that composition — fitted with it as the
 * matrix, intensities in *meas, no quantification. Otherwise meas (may be
 * NULL) gets the intensities of the final fit and res the result (k-ratios as
 * mg_quant_run). refine: MG_REFINE_* bits refined on this spectrum (0 = the
 * fast path with cached plans). 0 or a negative error. */
int mg_quant_analyzer_run(mg_quant_analyzer *a, const double *counts, size_t nchan, double live_s,
                          double current_ua, const char *name, const mg_quant_comp *known, unsigned refine,
                          mg_quant_meas *meas, mg_quant_result *res, mg_quant_kratio *kr, size_t maxk,
                          size_t *nk);

/* Analysis plans shared by the analyzers of several threads: each analyzer
 * keeps its own contexts and results, the plans (immutable) are built once
 * for all. Thread-safe. capacity: plans kept when unused (1..4096). */
typedef struct mg_plan_cache mg_plan_cache;
int mg_plan_cache_new(size_t capacity, mg_plan_cache **out);
/* After every analyzer using it is freed. */
void mg_plan_cache_free(mg_plan_cache *c);
/* Plans built and plans found in the cache so far. */
void mg_plan_cache_stats(mg_plan_cache *c, unsigned long *built, unsigned long *hits);
/* An analyzer whose fast-path plans come from (and go back to) cache. */
int mg_quant_analyzer_new_shared(const mg_quant *q, const mg_analysis_config *cfg, unsigned flags,
                                 mg_plan_cache *cache, mg_quant_analyzer **out);

/* The spectrum fit behind the last mg_quant_analyzer_run (the final fit: with
 * the quantified matrix when the feedback refitted), or NULL when it failed.
 * Owned by the analyzer; valid until its next run or its release. */
const mg_analysis_result *mg_quant_analyzer_last_fit(const mg_quant_analyzer *a);

/* ---------------------------------------------------------------- grades */

/* A grade table (examples/grades.ini): one section per grade, in order, the
 * first whose every condition holds wins:
 *   [N]
 *   description = standard grades, no heavy rare earths
 *   dy_tb = 0 .. 0.5          ; wt%, inclusive; one side may be empty ("3 ..")
 *   nd_pr = 26 .. 34
 * Quantities: tree, nd_pr, dy_tb, total, or any element symbol. */
int mg_grade_table_parse(const char *text, size_t len, const char *name, mg_grade_table **out);
int mg_grade_table_read_file(const char *path, mg_grade_table **out);
void mg_grade_table_free(mg_grade_table *t);
size_t mg_grade_table_count(const mg_grade_table *t);

/* Totals (TREE, Nd+Pr, Dy+Tb, total) of a result, with their σ. */
void mg_quant_totals(mg_quant_result *r);
/* The first grade of the table whose conditions the result meets: writes
 * r->grade/grade_description and returns 1, or 0 when none matches (or the
 * sample is flagged coated: never classified). */
int mg_grade_classify(const mg_grade_table *t, mg_quant_result *r);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif

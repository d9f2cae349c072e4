/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — the XRF analysis engine: plan once, execute many.
 *
 * An analysis plan is built once from (channel count, energy calibration,
 * detector model, element list, excitation, options). It holds the line
 * table (xraylib), the response of every line family (all lines of the
 * family with fixed relative intensities, Si escape peaks included), the
 * smooth-continuum basis, the FFTW plans and kernels and the sizes of every
 * workspace. A plan is immutable after mg_analysis_plan_new() and may be
 * shared by any number of threads.
 *
 * Executing a plan on a spectrum (mg_analysis_execute) is the fast path: a
 * weighted non-negative linear least-squares fit of the family areas with
 * calibration and resolution fixed. It allocates nothing: all scratch space
 * lives in a small per-thread context (mg_analysis_ctx, one per thread), and
 * the output goes into a result made for the plan (mg_analysis_result_new).
 *
 * When calibration or resolution must be refined, mg_analysis_refine() runs a
 * nonlinear fit (GSL multifit_nlinear; areas solved linearly inside every
 * iteration) and returns the refined calibration and detector model, from
 * which the caller builds a new plan (mg_analysis_plan_new with the refined
 * config). mg_analysis_auto_cal() finds an energy calibration from scratch
 * by peak search matched to the known lines of the elements and the tube.
 *
 * Conventions: energies keV, angles degrees (from the sample surface),
 * lengths as named. Areas are counts in the family's full-energy response
 * (Gaussian + tail + step of every line of the family), escape peaks and
 * pile-up excluded. Every double that may be unknown holds NAN. */
#ifndef MAGASSAY_ANALYSIS_H
#define MAGASSAY_ANALYSIS_H

#include <stddef.h>

#include "magassay/calib.h"
#include "magassay/spectrum.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

#define MG_ANALYSIS_MAX_FAMILIES 96
#define MG_ANALYSIS_MAX_WARNINGS 16
#define MG_ANALYSIS_ELEMENTS_LEN 256

/* ---------------------------------------------------------------- configuration */

/* The detector response model (mg_detector_model) is a calibration: calib.h. */

/* What excites the sample: an X-ray tube, or a monochromatic beam. */
typedef struct mg_excitation {
	double mono_kev;       /* > 0: monochromatic beam of this energy (tube fields ignored) */
	char anode[4];         /* tube anode symbol, "Rh" */
	double kv;             /* tube voltage, kV */
	double tube_be_um;     /* tube window, µm */
	char filter[4];        /* primary filter element, "" = none */
	double filter_um;
	double incidence_deg;  /* ψ1, beam to sample surface */
	double takeoff_deg;    /* ψ2, sample surface to detector */
	double scatter_deg;    /* scattering angle for the Compton shift; 0 = ψ1 + ψ2 */
} mg_excitation;

/* How the continuum under the peaks is handled. */
typedef enum mg_background_mode {
	MG_BG_CONTINUUM = 0, /* smooth basis (cubic B-splines × the matrix's 1/μ(E) shape,
	                        detector-smeared) fitted together with the peaks: the default;
	                        does not clip dense line clusters */
	MG_BG_SNIP = 1,      /* SNIP (LLS transform, decreasing window) subtracted before the fit */
	MG_BG_STRIP = 2,     /* iterative strip (PyMca's default "strip") subtracted before the fit */
	MG_BG_NONE = 3,
} mg_background_mode;

/* Option flags. */
enum {
	MG_AN_ESCAPE = 1u << 0,      /* Si escape peaks in every line family */
	MG_AN_PILEUP = 1u << 1,      /* a pile-up family: self-convolution of the spectrum, free scale */
	MG_AN_SCATTER = 1u << 2,     /* Rayleigh and Compton families of the tube lines / beam */
	MG_AN_MATRIX = 1u << 3,      /* correct line ratios for absorption in `matrix` */
	MG_AN_EDGE_STEPS = 1u << 4,  /* free smeared steps at strong matrix absorption edges */
	MG_AN_WARNINGS = 1u << 5,    /* search the residual for unexplained peaks */
	MG_AN_FFT_MEASURE = 1u << 6, /* FFTW_MEASURE planning (use with saved wisdom) */
	MG_AN_MODEL_WEIGHTS = 1u << 7, /* weights from a first fit's model (2 passes) instead of
	                                  from the smoothed data */
	MG_AN_PLAIN_WEIGHTS = 1u << 8, /* weights 1/max(y,1) exactly as PyMca (fitweight = 1) */
	MG_AN_FREE_MAJOR = 1u << 9,  /* major matrix elements (>= 3 wt% in `matrix`) get free Kα/Kβ
	                                and free L1/L2/L3 intensities, each family still reported as
	                                one K or L: their data fix the ratios better than any model
	                                (secondary excitation Fe K → Nd/Pr L3, absorption edges, air
	                                path, efficiency); minor elements keep fixed ratios */
};

typedef struct mg_analysis_config {
	size_t nchan;              /* channels of the spectra this plan accepts */
	mg_energy_cal cal;         /* must be valid */
	mg_detector_model det;
	mg_excitation exc;
	/* Elements and families: "Fe,Co,Nd,Pr,Dy,Tb" (families chosen from the
	 * excitation and the window), or explicit: "Cr,Fe:Ka+Kb,W:L1+L2+L3,Pb:L+M".
	 * Families: K, Ka, Kb, L, L1, L2, L3, M. */
	char elements[MG_ANALYSIS_ELEMENTS_LEN];
	/* Matrix composition for absorption-corrected line ratios and the
	 * continuum shape, "Fe:66,Nd:24,Pr:6,Co:2,Dy:1,B:1" (wt%, normalised). */
	char matrix[MG_ANALYSIS_ELEMENTS_LEN];
	double emin_kev, emax_kev; /* fit window */
	mg_background_mode background;
	double knot_kev;           /* continuum B-spline knot spacing (MG_BG_CONTINUUM) */
	int snip_width;            /* SNIP: largest window, channels (0 = 2 × FWHM at window centre) */
	int snip_lls;              /* SNIP: apply the LLS transform */
	int strip_iterations;      /* STRIP: iterations (PyMca 20000) */
	int strip_width;           /* STRIP: half width, channels (PyMca 1) */
	int smooth_width;          /* SNIP/STRIP pre-smoothing: Savitzky–Golay points (0 = none) */
	double compton_fwhm_kev;   /* extra Gaussian FWHM of the Compton peak (Doppler) */
	/* Empirical low-energy satellite of Kβ for Z 20–30 (radiative-Auger shoulder, not in
	 * xraylib): a Gaussian at E(Kβ1,3) − shift with this fraction of the Kβ intensity.
	 * 0 = off (the default, as in PyMca); real high-count spectra show ≈ 0.04 at 0.17 keV. */
	double kb_sat_fraction;
	double kb_sat_shift_kev;
	/* Relative model error: a second pass adds (model_error·model)² to every channel's
	 * variance, so the σ, the detection limits and the warnings allow for line shapes a
	 * model never matches exactly next to very strong peaks. 0 = off. */
	double model_error;
	double warn_sigma;         /* residual significance for an unexplained-peak warning */
	double dl_sigma;           /* detection limit = dl_sigma × σ(area) + 2.71 counts */
	double poor_chi2;          /* local reduced χ² above which a family is a "poor fit" */
	unsigned flags;            /* MG_AN_* */
} mg_analysis_config;

/* Defaults for NdFeB magnet scrap on an SDD with a tube (the engine's main
 * use): elements Fe,Co,Nd,Pr,Dy,Tb; matrix Nd2Fe14B-like; Rh 40 kV; window
 * 3 keV .. 0.95·kV (emax_kev 0 = that; both capped at the axis); continuum
 * background; escape, pile-up, scatter, matrix, free major ratios, warnings
 * on; detector noise 0.10 keV, Fano 0.114, tail 0.01/0.3 keV, step 1e-4, Be
 * 12.5 µm, 0.5 mm Si, 10 mm air. nchan and cal must still be set (or taken
 * from a spectrum with mg_analysis_config_from_spectrum). */
void mg_analysis_config_default(mg_analysis_config *cfg);

/* Fill nchan, cal and (when the spectrum knows them) the tube anode and kV
 * from a spectrum. MG_ERR_ARG if the spectrum has no calibration. */
int mg_analysis_config_from_spectrum(mg_analysis_config *cfg, const mg_spectrum *s);

/* Fill the excitation (anode, kV, tube window, filter, angles) and detector
 * (Be window, dead layer, thickness, air path; noise and Fano when given) of an
 * analysis configuration from an instrument description (magassay/instrument.h).
 * Other fields are kept. */
struct mg_instrument_desc;
void mg_instrument_desc_to_analysis(const struct mg_instrument_desc *d, mg_analysis_config *cfg);

/* ---------------------------------------------------------------- plan */

typedef struct mg_analysis_plan mg_analysis_plan;
typedef struct mg_analysis_ctx mg_analysis_ctx;

/* Build a plan (the config is copied). 0 and *out, or a negative error with
 * a detail (MG_ERR_ARG: bad config or element list; MG_ERR_UNSUPPORTED: no
 * family in the window). Free with mg_analysis_plan_free. */
int mg_analysis_plan_new(const mg_analysis_config *cfg, mg_analysis_plan **out);
void mg_analysis_plan_free(mg_analysis_plan *plan);
/* The configuration the plan was built from (owned by the plan). */
const mg_analysis_config *mg_analysis_plan_config(const mg_analysis_plan *plan);
/* Number of fitted families (elements, scatter, pile-up). */
size_t mg_analysis_plan_nfamilies(const mg_analysis_plan *plan);

/* A per-thread scratch context for one plan (or any plan of the same or a
 * smaller size). NULL on no memory. */
mg_analysis_ctx *mg_analysis_ctx_new(const mg_analysis_plan *plan);
void mg_analysis_ctx_free(mg_analysis_ctx *ctx);

/* ---------------------------------------------------------------- results */

typedef enum mg_family_kind {
	MG_FAMILY_ELEMENT = 0,
	MG_FAMILY_RAYLEIGH = 1, /* elastic scatter of a tube line or of the beam */
	MG_FAMILY_COMPTON = 2,  /* inelastic scatter */
	MG_FAMILY_PILEUP = 3,   /* sum peaks */
} mg_family_kind;

typedef enum mg_family_status {
	MG_FAMILY_OK = 0,         /* fitted, above its detection limit */
	MG_FAMILY_BELOW_DL = 1,   /* fitted, below its detection limit (area still reported) */
	MG_FAMILY_POOR_FIT = 2,   /* the residual around its lines is poor (area less reliable) */
	MG_FAMILY_NOT_FITTED = 3, /* no data (zero counts in its channels) */
} mg_family_status;

typedef struct mg_family_result {
	mg_family_kind kind;
	int z;                 /* element (0 for the beam / pile-up) */
	char element[4];       /* "Fe"; the anode symbol or "" for scatter; "" for pile-up */
	char family[12];       /* "K", "Ka", "Kb", "L", "L1", "L2", "L3", "M", "Rayleigh",
	                          "Compton", "sum" */
	double energy_kev;     /* the family's strongest line */
	double area;           /* counts (see the header comment) */
	double sigma;          /* 1σ counting uncertainty from the weighted covariance,
	                          × sqrt(local χ²_red) where that exceeds 1 */
	double cps;            /* area / live time (NAN when the live time is unknown) */
	double dl;             /* detection limit, counts */
	double chi2_local;     /* reduced χ² over the family's main channels */
	mg_family_status status;
} mg_family_result;

typedef struct mg_analysis_warning {
	double energy_kev;     /* 0 for warnings not tied to an energy */
	double significance;   /* σ of the residual peak */
	char text[160];        /* "a peak at 8.05 keV not explained: Cu?" */
} mg_analysis_warning;

typedef struct mg_analysis_result {
	size_t nfamilies;
	mg_family_result *families; /* nfamilies, in plan order */
	mg_energy_cal cal;          /* the calibration used */
	double noise_kev, fano;     /* the resolution used */
	double chi2_reduced;        /* Σ (y − m)²/max(y,1) / (n − p) over the window */
	size_t npoints;             /* channels in the window */
	size_t nparams;             /* free linear parameters (+ the refined nonlinear ones after
	                               mg_analysis_run with refinement) */
	double live_time_s;
	size_t nwarnings;
	mg_analysis_warning warnings[MG_ANALYSIS_MAX_WARNINGS];
	/* Everything needed to redraw the fit (plots): the model and its parts. */
	size_t ncoef;
	double *coef;               /* coefficients of every column of the design */
	double *model;              /* nchan: fitted model (0 outside the window) */
	double *background;         /* nchan: continuum (or the subtracted background) */
} mg_analysis_result;

/* A result sized for the plan. Free with mg_analysis_result_free. */
mg_analysis_result *mg_analysis_result_new(const mg_analysis_plan *plan);
void mg_analysis_result_free(mg_analysis_result *res);

/* ---------------------------------------------------------------- execution */

/* The fast path: fit the family areas of one spectrum (counts[nchan], nchan
 * equal to the plan's) with the plan's calibration and resolution.
 * live_time_s may be NAN (cps unknown). Allocates nothing; re-entrant with one
 * ctx per thread. 0, MG_ERR_ARG (wrong size, negative or non-finite counts),
 * or MG_ERR_INTERNAL (singular design: a bug in the plan). Family problems are
 * statuses in the result, not errors. */
int mg_analysis_execute(const mg_analysis_plan *plan, mg_analysis_ctx *ctx, const double *counts,
                        size_t nchan, double live_time_s, mg_analysis_result *res);

/* Which nonlinear parameters mg_analysis_refine fits. */
enum {
	MG_REFINE_OFFSET = 1u << 0,
	MG_REFINE_GAIN = 1u << 1,
	MG_REFINE_QUAD = 1u << 2,
	MG_REFINE_NOISE = 1u << 3,
	MG_REFINE_FANO = 1u << 4,
	MG_REFINE_TAIL = 1u << 5, /* tail fraction and slope */
	MG_REFINE_STEP = 1u << 6,
	MG_REFINE_COMPTON = 1u << 7, /* scattering angle (Compton shift) and Compton broadening */
	MG_REFINE_ESCAPE = 1u << 8,  /* the escape scale */
	MG_REFINE_DEFAULT = MG_REFINE_OFFSET | MG_REFINE_GAIN | MG_REFINE_NOISE | MG_REFINE_FANO,
};

typedef struct mg_analysis_refinement {
	mg_energy_cal cal;
	mg_detector_model det;
	double sigma_offset_kev, sigma_gain_kev, sigma_noise_kev, sigma_fano;
	double scatter_deg;      /* refined scattering angle (MG_REFINE_COMPTON), else the config's */
	double compton_fwhm_kev; /* refined Compton broadening, else the config's */
	double chi2_reduced; /* after refinement */
	int iterations;
	int converged;       /* 1 when GSL reported convergence */
} mg_analysis_refinement;

/* Refine calibration and resolution (the `what` bits) of the plan on one
 * spectrum by Levenberg–Marquardt (GSL multifit_nlinear), the areas and
 * continuum solved by weighted NNLS inside every evaluation (variable
 * projection); calibration and resolution first with the line shape fixed,
 * then everything asked; weak priors keep the shape parameters near the
 * configured values where the model cannot describe a spectrum. Not the fast
 * path: the first call with a given parameter set makes its GSL workspace in
 * ctx (kept for the next). The plan itself is unchanged: build a new plan from
 * the returned calibration to use it. */
int mg_analysis_refine(const mg_analysis_plan *plan, mg_analysis_ctx *ctx, const double *counts,
                       size_t nchan, unsigned what, mg_analysis_refinement *out);

/* Convenience for one spectrum (the CLI's path): plan from cfg, optional
 * refinement (what = 0: none), new plan from the refined values, execute.
 * *plan_out (may be NULL) receives the final plan (caller frees). */
int mg_analysis_run(const mg_analysis_config *cfg, const double *counts, size_t nchan,
                    double live_time_s, unsigned what, mg_analysis_result **res_out,
                    mg_analysis_plan **plan_out);

/* ---------------------------------------------------------------- energy calibration */

/* Find the energy calibration of a spectrum from scratch: peak search (smoothed
 * second difference), matched to the strong lines of cfg->elements, the tube
 * lines (Rayleigh) and a zero-energy peak if present; offset, gain (and quad
 * if `quadratic` and enough peaks) by weighted least squares. cfg->cal is
 * ignored except as a hint when valid and `use_hint`. 0, or MG_ERR_NOT_FOUND
 * (fewer than 3 peaks matched) with a detail. *npeaks_used may be NULL. */
int mg_analysis_auto_cal(const mg_analysis_config *cfg, const double *counts, size_t nchan,
                         int use_hint, int quadratic, mg_energy_cal *out, size_t *npeaks_used);

/* ---------------------------------------------------------------- peaks and filters */

typedef struct mg_peak {
	double channel;      /* centroid, fractional channel */
	double height;       /* net counts at the maximum (background removed) */
	double area;         /* net area estimate, counts */
	double significance; /* −S/σ(S) of the smoothed second difference */
	double fwhm_ch;      /* width estimate, channels */
} mg_peak;

/* Mariscotti peak search: second difference smoothed by an FFT Gaussian of
 * `fwhm_ch` (the expected FWHM in channels), significance threshold `k`
 * (3–5). Writes up to `max` peaks sorted by significance; returns the number
 * found (may exceed max) or a negative error. Allocates its scratch. */
int mg_peak_search(const double *counts, size_t nchan, double fwhm_ch, double k, mg_peak *out,
                   size_t max);

/* SNIP background (Ryan 1988, Morháč 1997): optional LLS transform,
 * decreasing window from `width` to 1. bg[n] may alias y. 0 or MG_ERR_ARG/NOMEM. */
int mg_snip_background(const double *y, size_t n, int width, int lls, double *bg);

/* FFTW wisdom: import at start-up, export after planning with
 * MG_AN_FFT_MEASURE. Thread-safe with respect to plan creation. */
int mg_analysis_wisdom_import(const char *path);
int mg_analysis_wisdom_export(const char *path);

/* ---------------------------------------------------------------- names and output */

const char *mg_family_status_name(mg_family_status s); /* "ok", "below-dl", "poor-fit", "not-fitted" */
/* The fit as a compact JSON object (malloc'ed text, NULL on no memory):
 * calibration {offset_kev, gain_kev, quad_kev, noise_kev, fano}, chi2_reduced,
 * live_time_s, families [{element, family, area, sigma, cps, dl, status,
 * energy_kev}], warnings [text] — the analysis part of a stored result. */
char *mg_analysis_result_json(const mg_analysis_result *r, double live_time_s);
/* Parse an element list (as in config.elements) for validity only: 0 or
 * MG_ERR_ARG with a detail naming the offending item. */
int mg_analysis_elements_check(const char *elements);

/* One family's part of the fitted model, channel by channel (out: nchan
 * values, the plan's; 0 outside the fit window): what a figure draws on the
 * background (report.h: mg_report_plot_fit_png). The pile-up family gives
 * zeros (its column is built per spectrum). MG_ERR_ARG for a family index out
 * of range or a result of another plan. */
int mg_analysis_family_curve(const mg_analysis_plan *plan, const mg_analysis_result *res, size_t family,
                             double *out, size_t nchan);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif

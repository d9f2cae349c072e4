/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — ICP-OES analysis, run sequences and QC.
 *
 * From the spectral windows an ICP-OES returns (icp.h) to certified mass
 * fractions, in the order a lab works:
 *
 *   line fit     per line and replicate: a Gaussian or pseudo-Voigt profile
 *                fitted in the window with a linear or quadratic background
 *                (fitted, or from off-peak points): the net line intensity
 *                and its uncertainty                        (mg_icp_fit_line)
 *   int. std     net / (IS net / IS net in the calibration blank)
 *   replicates   mean, SD, RSD
 *   curve        per line from the calibration blank and standards: linear,
 *                weighted 1/x or 1/x², quadratic; r, back-calculated
 *                residuals; inverse prediction with uncertainty; LOD/LOQ
 *                from the blank replicates (3σ / 10σ)
 *   IEC          inter-element corrections, C = C_app − Σ k_j C_j
 *   solid        mass fraction from digest mass, volume and dilution
 *   QC           the EPA 6010D / 200.7 style checks, limits from a profile
 *                file (never from code); a failed CCV flags every sample
 *                since the last passing CCV for re-run
 *
 * Three text files drive a run, each parsed strictly from memory (fuzzed):
 * the method (lines, internal standard, IEC table, digest defaults and the
 * solutions: standards, checks, spikes, CRMs), the QC profile (limits) and
 * the sequence (the worklist). docs/icp.md describes all three formats.
 *
 * The evaluation (mg_icp_eval) takes the readings of a run item by item and
 * evaluates QC as the run goes, reporting through an event callback. Where
 * the readings come from (an ICP-OES, a vendor CSV) and where the results go
 * (the store) is the sequence layer's business: sequence.h.
 *
 * Units: wavelengths nm; solution concentrations mg/L; solid mass fractions
 * wt% (g/100 g); digest mass g, volume mL; intensities counts. Unknown
 * doubles are NAN. Errors follow error.h (negative enum mg_err, detail in
 * mg_error_detail()); the library never prints. */
#ifndef MAGASSAY_ICP_ANALYSIS_H
#define MAGASSAY_ICP_ANALYSIS_H

#include <stddef.h>

#include "magassay/icp.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

#define MG_ICP_MAX_ANALYTES 24     /* analytes in a method */
#define MG_ICP_MAX_ALT_LINES 3     /* extra (confirmation) lines per analyte */
#define MG_ICP_MAX_NEIGHBOURS 4    /* other lines fitted in one window */
#define MG_ICP_MAX_OFFPEAK 4       /* off-peak background points per line */
#define MG_ICP_MAX_IEC 6           /* inter-element correction terms per line */
#define MG_ICP_MAX_SOLUTIONS 32    /* standards, checks, spikes and CRMs in a method */
#define MG_ICP_MAX_CAL_POINTS 16   /* blank + standards in one curve */
#define MG_ICP_NAME_SIZE 33        /* solution names: 1..32 bytes */
#define MG_ICP_LABEL_SIZE 65       /* labels and sample ids: 1..64 bytes */

/* ================================================================ line fit */

typedef enum mg_icp_shape {
	MG_ICP_GAUSSIAN = 0,
	MG_ICP_PSEUDO_VOIGT = 1, /* η·Lorentzian + (1−η)·Gaussian, same FWHM */
} mg_icp_shape;

typedef enum mg_icp_background {
	MG_ICP_BG_LINEAR = 1,    /* a straight line fitted with the peak */
	MG_ICP_BG_QUADRATIC = 2, /* a parabola fitted with the peak */
	MG_ICP_BG_OFFPEAK = 3,   /* fitted only to off-peak points (and the peak
	                            region): the pixels between them, where other
	                            lines sit, are left out. 1 point: constant, 2:
	                            linear, 3 or more: linear, or quadratic if
	                            offpeak_order is 2 */
} mg_icp_background;

typedef struct mg_icp_fit_opts {
	mg_icp_shape shape;
	mg_icp_background background;
	double half_width_nm;   /* fit the pixels within the line ± this (0: the whole window);
	                           with off-peak points: the peak region */
	double shift_max_nm;    /* the fitted centre may move this far from the expected one */
	double fwhm_nm;         /* start value (0: estimated), or the fixed width (fix_width) */
	double eta;             /* pseudo-Voigt Lorentz fraction: start (NAN: 0.3) or fixed */
	int fix_width;          /* width (and η) fixed at fwhm_nm / eta: only the area, the
	                           centre and the background are fitted */
	double centre_nm;       /* the expected centre (NAN: the line's wavelength) */
	int fix_centre;         /* the centre stays at centre_nm */
	double centre_free_snr; /* > 0: the centre is fixed first and freed only if the net
	                           stands out by this many standard uncertainties (weak lines
	                           and blanks keep the reference position) */
	size_t noffpeak;
	double offpeak_nm[MG_ICP_MAX_OFFPEAK]; /* off-peak points, offsets from the line (nm) */
	double offpeak_half_nm; /* each point uses the pixels within ± this (0: nearest pixel) */
	int offpeak_order;      /* 1 (default) or 2 */
	size_t nneighbours;
	double neighbour_nm[MG_ICP_MAX_NEIGHBOURS]; /* known lines in the window, fitted with the
	                                               same width (their areas are not reported) */
	int auto_neighbours;    /* also look for unlisted lines in the residual (more than
	                           1.5 FWHM from the analyte line) and fit them */
} mg_icp_fit_opts;

/* Pseudo-Voigt, linear background, whole window, shift 0.01 nm, centre freed
 * at 30 σ, auto neighbours on. */
void mg_icp_fit_opts_init(mg_icp_fit_opts *o);

typedef struct mg_icp_linefit {
	int status;            /* MG_OK, or why there is no net (MG_ERR_FORMAT: too few pixels,
	                          MG_ERR_UNSUPPORTED: the line is not in the window, ...) */
	double net;            /* net line intensity: the area of the fitted line in counts (the line summed over pixels of the window's spacing)
	                          (may be negative for a blank) */
	double net_u;          /* its standard uncertainty (× √χ²ν when χ²ν > 1) */
	double centre_nm, fwhm_nm, eta;
	double background;     /* fitted background under the centre, counts per pixel */
	double chi2_red;
	size_t npix;           /* pixels used */
	size_t nneighbours;    /* other lines fitted (listed + found) */
	int centre_fitted;     /* the centre was free in the final fit */
	int iterations;
} mg_icp_linefit;

/* Fit the line at line_nm in a window. out is always filled; the return value
 * is out->status. Never allocates beyond the fit workspace. */
int mg_icp_fit_line(const mg_icp_window *w, double line_nm, const mg_icp_fit_opts *o, mg_icp_linefit *out);

/* The normalised profile (area 1 over wavelength, nm⁻¹) at x nm from the centre. */
double mg_icp_shape_value(mg_icp_shape p, double x_nm, double fwhm_nm, double eta);

/* ================================================================ replicates */

typedef struct mg_icp_stats {
	size_t n;              /* finite values used (NAN values are skipped) */
	double mean;
	double sd;             /* sample standard deviation (n − 1); NAN when n < 2 */
	double rsd_pct;        /* 100 sd / |mean|; NAN when sd is NAN or mean is 0 */
} mg_icp_stats;

int mg_icp_stats_compute(const double *v, size_t n, mg_icp_stats *out);

/* ================================================================ internal standard */

/* Correct the nrep replicate nets of one line for the internal standard:
 * corrected[i] = net[i] · is_ref / is_net[i]. is_ref is the mean IS net of the
 * calibration blank. recovery_pct (may be NULL) receives the mean IS recovery,
 * 100 · mean(is_net) / is_ref. MG_ERR_ARG when an IS net is not positive. */
int mg_icp_intstd_correct(const double *net, const double *is_net, size_t nrep, double is_ref,
                          double *corrected, double *recovery_pct);

/* ================================================================ curves */

typedef enum mg_icp_curve_kind {
	MG_ICP_CURVE_LINEAR = 0,      /* y = a + b x, ordinary least squares */
	MG_ICP_CURVE_WEIGHTED_1X = 1, /* weights 1/x (the blank weighted as the lowest standard) */
	MG_ICP_CURVE_WEIGHTED_1X2 = 2,/* weights 1/x² (idem) */
	MG_ICP_CURVE_QUADRATIC = 3,   /* y = a + b x + c x², ordinary least squares */
} mg_icp_curve_kind;

typedef struct mg_icp_curve {
	mg_icp_curve_kind kind;
	size_t n;
	double x[MG_ICP_MAX_CAL_POINTS];   /* concentrations, mg/L */
	double y[MG_ICP_MAX_CAL_POINTS];   /* responses */
	double w[MG_ICP_MAX_CAL_POINTS];   /* weights used */
	double coef[3];                     /* a, b, c (c = 0 unless quadratic) */
	double cov[3][3];                   /* covariance of the coefficients (residual-scaled) */
	double r;                           /* correlation coefficient, √(1 − SSres/SStot) (weighted) */
	double s_yx;                        /* residual standard deviation (of unit weight) */
	int dof;                            /* n − parameters */
	double back_calc[MG_ICP_MAX_CAL_POINTS]; /* x back-calculated from y */
	double resid_pct[MG_ICP_MAX_CAL_POINTS]; /* 100 (back − x)/x; NAN where x = 0 */
	double lod, loq;                    /* mg/L; NAN until mg_icp_curve_limits() */
	double blank_sd;                    /* response SD of the blank replicates */
} mg_icp_curve;

/* Fit n points (n ≥ 2; ≥ 3 for quadratic) with at least 2 distinct x. */
int mg_icp_curve_fit(mg_icp_curve_kind kind, const double *x, const double *y, size_t n, mg_icp_curve *out);
/* The response at x. */
double mg_icp_curve_eval(const mg_icp_curve *c, double x);
/* Inverse prediction: the concentration x for response y, and its standard
 * uncertainty from u_y (the uncertainty of y, e.g. s_yx/√m for a mean of m
 * readings) and from the coefficient covariance:
 *   u_x² = (u_y² + gᵀ·cov·g) / (dy/dx)²,  g = (1, x, x²).
 * For a straight line this is the textbook
 *   s_x0 = s/b · √(1/m + 1/n + (y0 − ȳ)²/(b² Σ(x − x̄)²)).
 * A quadratic takes the root on the rising branch nearest the data. u_x may
 * be NULL. MG_ERR_ARG when the curve cannot be inverted at y (flat, or no
 * real root). */
int mg_icp_curve_invert(const mg_icp_curve *c, double y, double u_y, double *x, double *u_x);
/* LOD = k_lod · SD(blank responses) / slope at zero, LOQ = k_loq · the same
 * (3 and 10 in EPA practice); stored in c->lod, c->loq, c->blank_sd. Needs
 * n ≥ 2 blank readings. */
int mg_icp_curve_limits(mg_icp_curve *c, const double *blank_y, size_t n, double k_lod, double k_loq);

/* ================================================================ IEC, solid */

typedef struct mg_icp_iec_term {
	char element[4];       /* the interferent ("Fe"), an analyte of the method */
	double k;              /* apparent analyte mg/L per mg/L of interferent */
	double u_k;            /* standard uncertainty of k (0 if unknown) */
} mg_icp_iec_term;

/* C = C_app − Σ k_j·C_j; u² = u_app² + Σ (k_j u_j)² + (C_j u_kj)².
 * c_int / u_int hold the interferent concentrations in term order. */
int mg_icp_iec_apply(double c_app, double u_app, const mg_icp_iec_term *t, size_t nterms, const double *c_int,
                     const double *u_int, double *c, double *u);
/* The factor from a single-element interferent solution: k = apparent analyte
 * concentration / interferent concentration. */
double mg_icp_iec_factor(double apparent_analyte, double interferent_conc);

typedef struct mg_icp_digest {
	double mass_g, u_mass_g;          /* sample mass digested */
	double volume_ml, u_volume_ml;    /* made up to */
	double dilution, u_dilution_rel;  /* further dilution factor (≥ 1) and its relative uncertainty */
} mg_icp_digest;

/* Mass fraction in the solid, wt% = C·V·DF / (m · 10⁴), with the relative
 * uncertainties of C, V, DF and m added in quadrature. u_w may be NULL. */
int mg_icp_solid(double c_mg_l, double u_c, const mg_icp_digest *d, double *w_pct, double *u_w_pct);
/* The solution concentration a mass fraction gives in that digest (mg/L). */
double mg_icp_solution_conc(double w_pct, const mg_icp_digest *d);

/* ================================================================ QC formulas */

/* 100 · measured / truth */
double mg_icp_recovery_pct(double measured, double truth);
/* 100 · (spiked − unspiked) / added */
double mg_icp_spike_recovery_pct(double spiked, double unspiked, double added);
/* 100 · |a − b| / ((a + b)/2) */
double mg_icp_rpd_pct(double a, double b);

/* ================================================================ method */

typedef enum mg_icp_solution_kind {
	MG_ICP_SOL_STANDARD = 1, /* calibration standard: mg/L */
	MG_ICP_SOL_CHECK = 2,    /* ICV, CCV, LLOQ check, ...: true values, mg/L */
	MG_ICP_SOL_SPIKE = 3,    /* spike: the concentration added to the measured solution, mg/L */
	MG_ICP_SOL_CRM = 4,      /* certified reference material: wt% in the solid, ± U */
} mg_icp_solution_kind;

typedef struct mg_icp_solution {
	char name[MG_ICP_NAME_SIZE];
	mg_icp_solution_kind kind;
	double value[MG_ICP_MAX_ANALYTES]; /* per analyte index; NAN = not in this solution */
	double u[MG_ICP_MAX_ANALYTES];     /* CRM: certified uncertainty (NAN if none) */
	long src_line;
} mg_icp_solution;

typedef struct mg_icp_analyte {
	char element[4];
	mg_icp_line line;                   /* the reporting line */
	size_t nalt;
	mg_icp_line alt[MG_ICP_MAX_ALT_LINES]; /* also measured and reported (confirmation) */
	mg_icp_fit_opts fit;
	mg_icp_curve_kind curve;
	double lloq;                        /* lower limit of quantitation, mg/L in solution
	                                       (NAN: the LOQ computed from the blank) */
	int report;                         /* 0: measured for corrections only (a monitor) */
	int in_total;                       /* counted in the total (default: reported analytes) */
	size_t niec;
	mg_icp_iec_term iec[MG_ICP_MAX_IEC];
	char interference_note[96];         /* a known overlap on an alternative line, for the report */
	long src_line;
} mg_icp_analyte;

typedef struct mg_icp_method {
	char name[MG_ICP_LABEL_SIZE];       /* an id (mg_id_validate): names the calibration */
	char description[128];
	size_t nmatrix;
	char matrix[8][4];                  /* major matrix elements ("Fe", "Nd") */
	int replicates;
	double integration_s;
	int has_is;
	mg_icp_line is_line;                /* internal standard line, is_internal_std = 1 */
	mg_icp_fit_opts is_fit;
	size_t nanalytes;
	mg_icp_analyte analyte[MG_ICP_MAX_ANALYTES];
	mg_icp_digest digest;               /* defaults for samples */
	double total_other_pct;             /* wt% of what is not measured, added to the total */
	size_t nsolutions;
	mg_icp_solution solution[MG_ICP_MAX_SOLUTIONS];
} mg_icp_method;

/* Parse a method file (docs/icp.md) from memory. *out is malloc'ed: free it
 * with mg_icp_method_free(). A malformed file is MG_ERR_FORMAT with "line N:
 * ..."; so is a reporting line with a known unresolved overlap from a matrix
 * element that has no IEC term for it (B 249.773 in an Fe matrix: use
 * B 208.957 or 182.577). */
int mg_icp_method_parse(const char *text, size_t len, mg_icp_method **out);
int mg_icp_method_load(const char *path, mg_icp_method **out);
void mg_icp_method_free(mg_icp_method *m);
/* Analyte index of an element symbol, or -1. */
int mg_icp_method_analyte(const mg_icp_method *m, const char *element);
/* A solution by name (and kind, 0 = any), or NULL. */
const mg_icp_solution *mg_icp_method_solution(const mg_icp_method *m, const char *name, int kind);
/* The lines to configure on the instrument, in a fixed order: each analyte's
 * reporting line, then its alternative lines, then the internal standard.
 * Returns the count (≤ cap) or MG_ERR_ARG when cap is too small. */
int mg_icp_method_lines(const mg_icp_method *m, mg_icp_line *lines, size_t cap);

/* A known spectral overlap of a line (from docs/icp.md, domain notes §5), or
 * NULL: e.g. "Fe 249.782" for B 249.773. */
const char *mg_icp_known_overlap(const char *element, double wavelength_nm, char *interferent_out);

/* ================================================================ QC profile */

typedef struct mg_icp_limits {
	double lo, hi;         /* inclusive; NAN = no limit on that side; both NAN = not checked */
} mg_icp_limits;

enum {
	MG_ICP_RERUN_CCV = 1u << 0, /* a failed CCV flags the samples since the last passing CCV */
	MG_ICP_RERUN_CCB = 1u << 1, /* the same for CCBs */
};

typedef struct mg_icp_qc_profile {
	char name[MG_ICP_LABEL_SIZE];
	double cal_r_min;            /* calibration correlation coefficient, e.g. 0.998 */
	double cal_resid_max_pct;    /* |back-calculated residual| of the standards (NAN: not checked) */
	double cal_resid_low_max_pct;/* the same for the lowest standard, near the LLOQ (NAN: as above) */
	int cal_min_standards;       /* non-blank standards needed (sequence validation) */
	mg_icp_limits icv, ccv;      /* recovery %, e.g. 90–110 */
	double blank_lloq_factor;    /* ICB/CCB/method blank: |C| < factor × LLOQ (e.g. 1) */
	mg_icp_limits lloq_check;    /* recovery %, e.g. 70–130 */
	double dup_rpd_max;          /* duplicate RPD %, e.g. 20 */
	double dup_min_lloq_factor;  /* RPD only judged when both results exceed this × LLOQ (e.g. 5) */
	mg_icp_limits spike;         /* recovery %, e.g. 75–125 */
	double spike_max_ratio;      /* not judged when the unspiked sample exceeds this × the spike (e.g. 4) */
	mg_icp_limits crm;           /* recovery % (NAN: within the certified U instead) */
	mg_icp_limits is_recovery;   /* IS % of the calibration blank, e.g. 80–120 */
	mg_icp_limits total;         /* sum of the mass fractions, wt%, e.g. 98–102 */
	int ccv_every;               /* at most this many samples between CCVs (e.g. 10) */
	unsigned rerun_on;           /* MG_ICP_RERUN_* */
	double rsd_max_pct;          /* replicate RSD above this flags a result (NAN: off) */
	double range_max_pct;        /* above this % of the top standard a result is over range */
} mg_icp_qc_profile;

/* Parse a QC profile (docs/icp.md). Every limit comes from the file; a key
 * left out means "not checked" (NAN). *out malloc'ed: mg_icp_qc_free(). */
int mg_icp_qc_parse(const char *text, size_t len, mg_icp_qc_profile **out);
int mg_icp_qc_load(const char *path, mg_icp_qc_profile **out);
void mg_icp_qc_free(mg_icp_qc_profile *q);

typedef enum mg_icp_check_type {
	MG_ICP_CHECK_CALIBRATION = 0, /* r of a curve (and back-calculated residuals) */
	MG_ICP_CHECK_ICV,
	MG_ICP_CHECK_ICB,
	MG_ICP_CHECK_LLOQ,
	MG_ICP_CHECK_CCV,
	MG_ICP_CHECK_CCB,
	MG_ICP_CHECK_METHOD_BLANK,
	MG_ICP_CHECK_DUPLICATE,
	MG_ICP_CHECK_SPIKE,
	MG_ICP_CHECK_CRM,
	MG_ICP_CHECK_INTERNAL_STD,
	MG_ICP_CHECK_TOTAL,
	MG_ICP_CHECK_COUNT_
} mg_icp_check_type;

typedef enum mg_icp_outcome {
	MG_ICP_PASS = 0,
	MG_ICP_FAIL = 1,
	MG_ICP_NA = 2,        /* not judged (below the level where the rule applies, no limit) */
} mg_icp_outcome;

/* "ICV", "CCB", "duplicate", ... and "pass", "fail", "n/a". */
const char *mg_icp_check_name(mg_icp_check_type t);
const char *mg_icp_outcome_name(mg_icp_outcome o);
/* Judge v against limits (inclusive); NA when v is NAN or there is no limit. */
mg_icp_outcome mg_icp_judge(double v, mg_icp_limits lim);

typedef struct mg_icp_check {
	mg_icp_check_type type;
	mg_icp_outcome outcome;
	size_t item;                 /* sequence item index (calibration: the last standard) */
	int position;
	char label[MG_ICP_LABEL_SIZE];
	char element[4];             /* "" for item-wide checks (internal standard, total) */
	char line[24];
	double value;                /* recovery %, RPD %, mg/L, r, IS %, wt% */
	double lo, hi;               /* the limits applied (NAN: none on that side) */
	char unit[8];                /* "%", "mg/L", "r", "wt%" */
	double measured, expected;   /* what the value was made of (NAN when not applicable) */
	char note[128];
} mg_icp_check;

/* Samples flagged by bracket checks (CCV, CCB). One tracker per check type.
 * Per analyte: a failed check flags every sample since the last passing one;
 * samples measured after a failed check are flagged too when the next check
 * is judged (they were run on an out-of-control instrument); at the end of a
 * run the samples after the last check are unbracketed. */
typedef enum mg_icp_flag_reason {
	MG_ICP_FLAG_CHECK_FAILED = 1,   /* since the last passing check, closed by a failing one */
	MG_ICP_FLAG_AFTER_FAILED = 2,   /* measured after a failing check */
	MG_ICP_FLAG_UNBRACKETED = 3,    /* no closing check (end of the run, or the run stopped) */
} mg_icp_flag_reason;

typedef struct mg_icp_bracket {
	size_t nanalytes;
	size_t nsamples, cap;
	size_t *samples;                 /* item indexes, in run order */
	size_t start[MG_ICP_MAX_ANALYTES];       /* first sample since the last pass */
	size_t fail_from[MG_ICP_MAX_ANALYTES];   /* first sample after the last failure, or (size_t)-1 */
	size_t last_check;                       /* samples before the last check of this type */
} mg_icp_bracket;

typedef void (*mg_icp_flag_cb)(size_t item, size_t analyte, mg_icp_flag_reason why, size_t check_item,
                               void *userdata);

void mg_icp_bracket_init(mg_icp_bracket *b, size_t nanalytes);
void mg_icp_bracket_clear(mg_icp_bracket *b);
int mg_icp_bracket_add_sample(mg_icp_bracket *b, size_t item);
/* A check was judged: failed[a] non-zero for each analyte that failed, NA
 * analytes (judged[a] == 0) leave that analyte's bracket open. */
void mg_icp_bracket_check(mg_icp_bracket *b, size_t check_item, const int *judged, const int *failed,
                          mg_icp_flag_cb cb, void *userdata);
/* The run ended (or stopped): flag the samples after the last check
 * (unbracketed), and those after a failed check that no later check judged. */
void mg_icp_bracket_end(mg_icp_bracket *b, mg_icp_flag_cb cb, void *userdata);

/* ================================================================ sequence */

typedef enum mg_icp_item_type {
	MG_ICP_ITEM_CAL_BLANK = 0,
	MG_ICP_ITEM_CAL_STD,
	MG_ICP_ITEM_ICV,
	MG_ICP_ITEM_ICB,
	MG_ICP_ITEM_LLOQ,
	MG_ICP_ITEM_SAMPLE,
	MG_ICP_ITEM_DUPLICATE,
	MG_ICP_ITEM_SPIKE,
	MG_ICP_ITEM_CRM,
	MG_ICP_ITEM_METHOD_BLANK,
	MG_ICP_ITEM_CCV,
	MG_ICP_ITEM_CCB,
	MG_ICP_ITEM_COUNT_
} mg_icp_item_type;

/* "cal-blank", "cal-std", "icv", ... (the sequence file's words). */
const char *mg_icp_item_type_name(mg_icp_item_type t);
/* Samples in the QC sense: what CCVs bracket and what has a digest. */
int mg_icp_item_is_sample(mg_icp_item_type t);

typedef struct mg_icp_item {
	mg_icp_item_type type;
	int position;                      /* autosampler position, 1..9999 */
	char label[MG_ICP_LABEL_SIZE];     /* the sample id for samples; a label for QC solutions */
	char solution[MG_ICP_NAME_SIZE];   /* standard / check / spike / CRM in the method ("" = default) */
	char of[MG_ICP_LABEL_SIZE];        /* duplicate, spike: the sample it is made from */
	double mass_g, volume_ml, dilution;/* NAN: the method's digest defaults (spike, duplicate: the parent's) */
	char notes[128];
	long line;                         /* line in the sequence file */
	size_t parent;                     /* index of the `of` sample ((size_t)-1 if none) */
} mg_icp_item;

typedef struct mg_icp_sequence {
	char batch[MG_ICP_LABEL_SIZE];     /* the lot: batch id in the store */
	char operator_name[MG_ICP_LABEL_SIZE];
	char method[256];                  /* method file, relative to the sequence file ("" if not given) */
	char qc[256];                      /* QC profile file, idem */
	char description[128];
	size_t nitems;
	mg_icp_item *items;
} mg_icp_sequence;

/* Parse a sequence file (docs/icp.md) from memory: syntax only, strict, the
 * first error with its line number (MG_ERR_FORMAT). *out: mg_icp_sequence_free(). */
int mg_icp_sequence_parse(const char *text, size_t len, mg_icp_sequence **out);
int mg_icp_sequence_load(const char *path, mg_icp_sequence **out);
void mg_icp_sequence_free(mg_icp_sequence *s);

typedef struct mg_icp_problem {
	long line;                         /* in the sequence file (0: the file as a whole) */
	char message[200];
} mg_icp_problem;

typedef struct mg_icp_problems {
	size_t count;                      /* problems found (may exceed the ones kept) */
	mg_icp_problem item[64];
} mg_icp_problems;

/* Check the structure of a parsed sequence: calibration first (a blank and
 * at least cal_min_standards standards), ICV right after it, then ICB, the
 * LLOQ check before the first sample, a CCV followed by a CCB after at most
 * ccv_every samples and at the end, duplicates and spikes naming an earlier
 * sample, unique valid sample ids, one solution per position, and (with a
 * method) every solution named existing with the right kind. Every problem
 * is listed with its line. Returns the number of problems (0: fine); with
 * problems the detail names the first. m and q may be NULL (their checks
 * are skipped). It also resolves each dup/spike row's `parent` (the items
 * array is the sequence's own). */
int mg_icp_sequence_validate(const mg_icp_sequence *s, const mg_icp_method *m, const mg_icp_qc_profile *q,
                             mg_icp_problems *out);
/* The digest of an item: its own values, else its parent's, else the method's. */
void mg_icp_item_digest(const mg_icp_sequence *s, size_t item, const mg_icp_method *m, mg_icp_digest *out);

/* ================================================================ vendor CSV */

/* One row of an exported result table. */
typedef struct mg_icp_csv_row {
	char label[MG_ICP_LABEL_SIZE];
	char element[4];
	double wavelength_nm;              /* NAN when the export names only the element */
	int replicate;                     /* 1.. ; 0 when the row is the mean */
	double intensity;                  /* net intensity, counts (NAN if absent) */
	double conc;                       /* mg/L in solution (NAN if absent) */
	long line;                         /* line in the CSV file */
} mg_icp_csv_row;

typedef struct mg_icp_csv {
	size_t nrows;
	mg_icp_csv_row *rows;
	int has_intensity, has_conc;
	char source[64];                   /* "generic", or the vendor layout recognised */
} mg_icp_csv;

/* Parse a vendor CSV export (columns documented in docs/icp.md; names matched
 * case-insensitively with the usual vendor aliases; ',' ';' or TAB
 * separated; quotes allowed; µg/L and g/L converted to mg/L). Strict: a row
 * with a bad number is MG_ERR_FORMAT with its line. *out: mg_icp_csv_free(). */
int mg_icp_csv_parse(const char *text, size_t len, mg_icp_csv **out);
int mg_icp_csv_load(const char *path, mg_icp_csv **out);
void mg_icp_csv_free(mg_icp_csv *c);

/* ================================================================ the evaluation */

/* Flags on a result (per analyte). */
enum {
	MG_ICP_RF_BELOW_LOD = 1u << 0,
	MG_ICP_RF_BELOW_LOQ = 1u << 1,
	MG_ICP_RF_OVER_RANGE = 1u << 2,      /* above range_max_pct of the top standard */
	MG_ICP_RF_RSD = 1u << 3,             /* replicate RSD above rsd_max_pct */
	MG_ICP_RF_RERUN_CCV = 1u << 4,       /* a failed CCV bracket: re-run */
	MG_ICP_RF_RERUN_CCB = 1u << 5,       /* a failed CCB bracket: re-run */
	MG_ICP_RF_UNBRACKETED = 1u << 6,     /* no closing CCV (the run ended or stopped) */
	MG_ICP_RF_IS_FAIL = 1u << 7,         /* internal standard out of limits */
	MG_ICP_RF_CAL_FAIL = 1u << 8,        /* the line's calibration failed r */
	MG_ICP_RF_ICV_FAIL = 1u << 9,        /* the ICV failed for this analyte */
	MG_ICP_RF_FIT_FAIL = 1u << 10,       /* no net intensity (line fit failed) */
	MG_ICP_RF_INTERFERED = 1u << 11,     /* alternative line with a known overlap */
};

/* Names of the set flags, comma separated, into buf. */
const char *mg_icp_flags_text(unsigned flags, char *buf, size_t cap);
/* The name of one flag bit ("below_lod", "rerun_ccv", ...), or NULL. */
const char *mg_icp_flag_name(unsigned bit);

/* One line's value for one measured item. */
typedef struct mg_icp_value {
	double net;                 /* mean net intensity (IS corrected), counts */
	double net_rsd_pct;
	double conc, u_conc;        /* mg/L in the measured solution (IEC applied), standard uncertainty */
	double sd, rsd_pct;         /* of the replicate concentrations */
	double w_pct, u_w_pct;      /* wt% in the solid (samples, duplicates, spikes, CRMs) */
	unsigned flags;             /* MG_ICP_RF_* */
} mg_icp_value;

typedef struct mg_icp_item_result {
	size_t item;
	int measured;               /* 0: not reached (the run stopped) */
	int status;                 /* MG_OK, or the error measuring it */
	size_t nreplicates;
	double is_recovery_pct;     /* NAN without an internal standard */
	mg_icp_value line[MG_ICP_MAX_LINES]; /* by configured line (mg_icp_method_lines order) */
	double net_rep[MG_ICP_MAX_LINES][MG_ICP_MAX_REPLICATES]; /* net intensity of every replicate
	                                                            before the IS correction (NAN: none) */
	double total_pct;           /* samples and CRMs: sum of in_total analytes + total_other_pct */
	/* where the measurement and its result were recorded (sequence.h: the
	 * store), noted by whoever recorded them; "" and 0 when not recorded */
	char uuid[37];              /* the measurement's UUID */
	long long measurement_id, result_id;
	int result_version;
	char start_time[40];        /* from the readings */
} mg_icp_item_result;

typedef enum mg_icp_event_kind {
	MG_ICP_EV_MEASURING = 1,    /* about to measure an item */
	MG_ICP_EV_MEASURED,         /* an item was measured and evaluated (res set) */
	MG_ICP_EV_CALIBRATED,       /* curves fitted (after the last standard) */
	MG_ICP_EV_CHECK,            /* a QC check was judged (check set) */
	MG_ICP_EV_FLAGGED,          /* a sample was flagged for re-run (flag_item, analyte, reason) */
	MG_ICP_EV_ERROR,            /* the run stopped on an error (error, message) */
	MG_ICP_EV_STORED,           /* a result was recorded (sequence.h: written to the store) */
} mg_icp_event_kind;

typedef struct mg_icp_event {
	mg_icp_event_kind kind;
	size_t item;                /* the item concerned (index in the sequence) */
	const mg_icp_item *it;
	const mg_icp_item_result *res;
	const mg_icp_check *check;
	size_t flag_item;           /* FLAGGED: the sample flagged; item = the check that flagged it */
	size_t analyte;
	mg_icp_flag_reason reason;
	int error;
	const char *message;
} mg_icp_event;

/* Return non-zero to stop the run (it then returns MG_ERR_INTERRUPTED). */
typedef int (*mg_icp_event_cb)(const mg_icp_event *ev, void *userdata);

/* The evaluation of one run of a validated sequence, in memory: the readings
 * of each item go in, in sequence order; line fits, the calibration
 * (reference line shapes, curves, LOD/LOQ), values, flags and QC checks come
 * out as the run goes. Order of work:
 *  1. calibration items are kept until the last standard; then the reference
 *     shape of every line (centre, FWHM, η) is fitted freely on the standard
 *     that has most of the analyte (the IS on the calibration blank), and
 *     every reading is fitted with that shape — the same estimator for
 *     standards, blanks and samples;
 *  2. curves per line from the IS-corrected mean responses; LOD/LOQ from the
 *     calibration blank's replicates; the calibration is judged (r,
 *     residuals);
 *  3. every later item: fits, IS correction (recovery checked), inverse
 *     prediction per replicate, IEC, solid mass fractions, the QC checks of
 *     its type; CCVs and CCBs close brackets: a failure flags every sample
 *     since the last passing check (mg_icp_bracket).
 * It neither measures nor stores: the sequence layer (sequence.h) drives an
 * instrument or reads a vendor CSV, hands the readings over and records what
 * the evaluation reports final (mg_icp_recorder). The sequence, method and
 * QC profile are borrowed: they must outlive the evaluation. */
typedef struct mg_icp_eval mg_icp_eval;

/* Fails with MG_ERR_FORMAT (and the first problem in the detail) if the
 * sequence does not validate; problems (may be NULL) receives them all. */
int mg_icp_eval_new(const mg_icp_sequence *s, const mg_icp_method *m, const mg_icp_qc_profile *q,
                    mg_icp_problems *problems, mg_icp_eval **out);
void mg_icp_eval_free(mg_icp_eval *e);
/* Events MEASURED, CALIBRATED, CHECK and FLAGGED. A callback asking to stop
 * makes the call in progress return MG_ERR_INTERRUPTED (not once
 * mg_icp_eval_finish() has begun: what is left is evaluated). */
void mg_icp_eval_set_events(mg_icp_eval *e, mg_icp_event_cb cb, void *userdata);

/* Told when something can no longer change, to record it: the calibration
 * (after the last standard, before its CALIBRATED event), and each measured
 * item's result, once (QC items as soon as they are evaluated, samples when
 * their closing CCV or CCB has been judged, everything left at the end). A
 * negative return stops the evaluation with that error. Either may be NULL. */
typedef struct mg_icp_recorder {
	void *ctx;
	int (*calibration)(void *ctx, mg_icp_eval *e);
	int (*result)(void *ctx, mg_icp_eval *e, size_t item);
} mg_icp_recorder;
void mg_icp_eval_set_recorder(mg_icp_eval *e, const mg_icp_recorder *rec); /* copied; NULL: none */

/* The readings of an item, in two steps so that they can be recorded in
 * between: accept matches the measured lines to the configured ones
 * (MG_ERR_PROTOCOL when a line is missing or the sizes are out of range,
 * also the item's status) and counts the item as measured; item then
 * evaluates it (a calibration item is kept until the last one, which
 * calibrates). m is borrowed; NULL takes the item's rows of the vendor CSV
 * given to mg_icp_eval_csv(). Items go in sequence order. */
int mg_icp_eval_accept(mg_icp_eval *e, size_t item, const mg_icp_measurement *m);
int mg_icp_eval_item(mg_icp_eval *e, size_t item, const mg_icp_measurement *m);
/* An item that could not be measured: rc is its status. */
void mg_icp_eval_item_failed(mg_icp_eval *e, size_t item, int rc);
/* The readings of every item from a vendor CSV (borrowed: it must outlive
 * the evaluation): rows are matched to items by label, repeated labels (CCV,
 * CCB) in order of appearance, and to lines by element and wavelength. With
 * intensities the analysis runs as for an instrument (curves, IS, IEC); with
 * concentrations only the vendor's values are taken (IEC and curves are the
 * vendor's). A sequence item with no rows is MG_ERR_FORMAT naming it. */
int mg_icp_eval_csv(mg_icp_eval *e, const mg_icp_csv *csv);
/* The end of the run, complete or not: a calibration still pending is done,
 * the samples after the last check are flagged unbracketed, and every
 * measured result not yet final is handed to the recorder. The first
 * recorder (or calibration) error, else MG_OK. */
int mg_icp_eval_finish(mg_icp_eval *e);
/* Where an item was recorded (shown in its result): the measurement, then
 * its result. */
void mg_icp_eval_note_measurement(mg_icp_eval *e, size_t item, const char *uuid, long long measurement_id);
void mg_icp_eval_note_result(mg_icp_eval *e, size_t item, long long result_id, int version);

/* ---- what the evaluation found (valid until mg_icp_eval_free) ---- */
size_t mg_icp_eval_nlines(const mg_icp_eval *e);
/* The configured lines, in mg_icp_method_lines() order: each analyte's
 * reporting line (line a for analyte a), then the alternative lines, then
 * the internal standard. */
const mg_icp_line *mg_icp_eval_line(const mg_icp_eval *e, size_t i);
/* The analyte a configured line belongs to (-1 for the internal standard). */
int mg_icp_eval_line_analyte(const mg_icp_eval *e, size_t i);
typedef enum mg_icp_line_role {
	MG_ICP_ROLE_REPORT = 0,      /* an analyte's reporting line */
	MG_ICP_ROLE_ALTERNATIVE,     /* an analyte's confirmation line */
	MG_ICP_ROLE_INTERNAL_STD,
} mg_icp_line_role;
mg_icp_line_role mg_icp_eval_line_role(const mg_icp_eval *e, size_t i);
/* The internal standard's line index (-1: none) and its reference net
 * intensity, the mean of the calibration blank (NAN until calibrated or
 * without a signal). ref may be NULL. */
int mg_icp_eval_internal_standard(const mg_icp_eval *e, double *ref);
/* The shape a line is fitted with: 0 none, 1 fitted on a standard, 2
 * borrowed from the other lines; centre, FWHM (nm) and η. */
int mg_icp_eval_shape(const mg_icp_eval *e, size_t line, double *centre_nm, double *fwhm_nm, double *eta);
/* 1 once the calibration is done (curves fitted or refused). */
int mg_icp_eval_calibrated(const mg_icp_eval *e);
/* 1 when the readings are a vendor's concentrations (no curves). */
int mg_icp_eval_vendor_concentrations(const mg_icp_eval *e);
/* The curve of a configured line, or NULL before calibration or when it
 * could not be fitted (then curve_error says why; "" otherwise). */
const mg_icp_curve *mg_icp_eval_curve(const mg_icp_eval *e, size_t line);
const char *mg_icp_eval_curve_error(const mg_icp_eval *e, size_t line);
size_t mg_icp_eval_nchecks(const mg_icp_eval *e);
const mg_icp_check *mg_icp_eval_check(const mg_icp_eval *e, size_t i);
/* Number of QC checks with outcome o. */
size_t mg_icp_eval_count(const mg_icp_eval *e, mg_icp_outcome o);
const mg_icp_item_result *mg_icp_eval_result(const mg_icp_eval *e, size_t item);
/* The CSV rows an item was read from (indexes into the CSV's rows, in file
 * order): their count, and *rows. 0 without a CSV. */
size_t mg_icp_eval_csv_rows(const mg_icp_eval *e, size_t item, const size_t **rows);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif

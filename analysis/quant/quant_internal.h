/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private declarations shared by the quantification sources (analysis/quant/). */
#ifndef MAGASSAY_QUANT_INTERNAL_H
#define MAGASSAY_QUANT_INTERNAL_H

#include <stddef.h>

#include "elements.h"
#include "magassay/instrument.h"
#include "magassay/quant.h"
#include "magassay/xray.h"

struct mg_quant;

#define QDOM "quant"

/* Element symbol <-> Z (1..98), case-insensitive parse of a view (−1 if
 * unknown): the suite's one table (core/elements.h). */
static inline int q_symbol_z(const char *s, size_t n)
{
	return mg_element_z(s, n);
}
static inline const char *q_z_symbol(int z)
{
	return mg_element_symbol(z);
}

/* Rate per µA and live second of one count of a measurement (kratio.c). */
double q_rate_per_count(const mg_quant_meas *m);

/* ---- FP model internals (fp.c) -------------------------------------------- */

/* Knobs for the matrix-uncertainty perturbations (uncertainty.c). */
typedef struct q_fp_knobs {
	double sf_scale;    /* × secondary fluorescence (1) */
	double tilt;        /* beam flux × (E / 10 keV)^tilt (0) */
	int mu_z;           /* element whose absorption above its main edge is scaled (0 = none) */
	double mu_scale;    /* that scale (1) */
} q_fp_knobs;

extern const q_fp_knobs q_fp_knobs_none;

/* Rate (counts/s per µA, full-energy, escape excluded) of every family
 * requested in fam[] (indices from q_fp_family) for composition w[] over the
 * model's element table (mg_fp_model_elements order). out_p/out_s: primary
 * and secondary parts (out_s may be NULL). Scratch from the model's
 * per-call arrays: re-entrant (allocates). */
int q_fp_eval(const mg_fp_model *m, const double *w, const q_fp_knobs *k, const int *fam, size_t nfam,
              double *out_p, double *out_s);
/* Index of the family (element z, label "K", "Ka", "Kb", "L", "L1", "L2", "L3",
 * "La", "Lb", "M") in the model, or a negative error. */
int q_fp_family(const mg_fp_model *m, int z, const char *label);
/* Index of element z in the model's table, or -1. */
int q_fp_element_index(const mg_fp_model *m, int z);
size_t q_fp_nelements(const mg_fp_model *m);
int q_fp_element_z(const mg_fp_model *m, size_t i);
/* Shell class of a family label: 0 = K, 1 = L, 2 = M (for instrument factors). */
int q_family_class(const char *label);

/* ---- the solver (matrix.c) ------------------------------------------------- */

/* One analyte of a solve. */
typedef struct q_analyte {
	int z;
	int el;           /* index in the FP element table */
	int fam;          /* FP family index */
	double target;    /* measured quantity: k-ratio, or rate per µA */
	double scale;     /* predicted = scale × FP rate(w) (1/N_std for k-ratios, G for FP) */
} q_analyte;

typedef struct q_solve {
	const mg_fp_model *fp;
	q_fp_knobs knobs;
	size_t na;
	q_analyte a[MG_QUANT_MAX_EL];
	/* fixed elements (not measured): mass fractions by FP element index */
	size_t nfixed;
	int fixed_el[MG_QUANT_MAX_EL];
	double fixed_w[MG_QUANT_MAX_EL];
	int balance_el;   /* element by difference, -1 = none */
	int normalise;    /* scale the analytes so that the total is 1 */
	int max_iter;
	double tol;
	/* out */
	double w[MG_QUANT_MAX_EL * 2]; /* by FP element index */
	double rate[MG_QUANT_MAX_EL];  /* FP rate of each analyte at the solution */
	double sum_raw;   /* Σ analytes + fixed before normalisation */
	double norm;      /* the normalisation factor applied to the analytes (1 = none) */
	int iterations;
	int converged;
} q_solve;

/* Criss–Birks style iteration w ← w·target/predicted(w) (damped when it
 * oscillates). 0 or a negative error (the FP evaluation failed). */
int q_solve_run(q_solve *s);

/* ---- the quantification object (quant.c) and one run (run.c, instrument_factors.c) */

struct mg_quant {
	mg_instrument_desc ins;
	mg_quant_options o;
	mg_fp_model *fp;
	char elements[512];
	mg_quant_standard *stds; /* k-ratio standards (copy) */
	size_t nstd;
	int has_cal;
	mg_quant_calibration cal; /* deep copy */
	const mg_quant_standard *gstd; /* the standards fixing the FP instrument factors */
	size_t ngstd;
	double g[3], g_u[3];     /* nominal instrument factors per shell class (0 = none) */
	int g_n[3];
	q_fp_knobs base;         /* the calibrated FP model: tube tilt (sf 1, no μ change) */
	double tilt_u;           /* uncertainty of the tilt (0: not fitted, the options' size is used) */
	double *std_rate;        /* nominal FP rate of every standard's every line: [nstd][MG_QUANT_MAX_EL] */
};

typedef struct q_an {
	int z, el, fam, cls;
	const mg_quant_line *line;   /* in the unknown */
	double c;                    /* target = c × area */
	const mg_quant_standard *std;/* k-ratio: its standard */
	const mg_quant_line *sline;  /* the standard's line */
	size_t sidx, slidx;          /* indices (std_rate cache) */
	double std_meas;             /* standard's measured rate per µA */
	double wstd, uwstd;          /* the element in the standard */
	int no_std;                  /* k-ratio method, no standard: FP with G */
	const mg_quant_empirical_line *emp; /* empirical method: its calibration line */
	double R;                    /* the unknown's rate per µA */
} q_an;

typedef struct q_run {
	const struct mg_quant *q;
	const mg_quant_meas *unk;
	unsigned flags;              /* MG_QUANT_* of the options and of the call */
	mg_quant_method method;
	int standardless;
	size_t na;
	q_an a[MG_QUANT_MAX_EL];
	q_solve s;                   /* the nominal solve */
	double w[MG_QUANT_MAX_EL * 2]; /* final mass fractions by FP element index */
	double sens[MG_QUANT_MAX_EL];  /* d(area)/d(w), counts per mass fraction */
	double u_count[MG_QUANT_MAX_EL], u_cal[MG_QUANT_MAX_EL], u_mat[MG_QUANT_MAX_EL];
	double lod[MG_QUANT_MAX_EL], loq[MG_QUANT_MAX_EL];
	double u_fixed[MG_QUANT_MAX_EL]; /* of the fixed elements (by fixed index) */
	double u_balance;
	int mu_z;                    /* the major element (absorption knob) */
} q_run;

/* mg_quant_run with extra MG_QUANT_* flags for this call (the analyzer's
 * first pass skips the matrix uncertainty) and, when start is not NULL, the
 * iterations starting from that composition (the analyzer's second pass
 * starts where the first ended: the same answer in fewer iterations). */
int q_quant_run(const struct mg_quant *q, const mg_quant_meas *unk, mg_quant_result *res, mg_quant_kratio *kratios,
                size_t max_k, size_t *nk, unsigned extra_flags, const mg_quant_comp *start);

/* Set up a solve for the run with the given knobs and fixed-element values
 * (fixed_w NULL = the options' values): targets and scales per method
 * (standards' FP rates recomputed under the knobs). */
int q_run_setup(q_run *r, const q_fp_knobs *k, const double *fixed_w, q_solve *s);
/* The FP instrument calibration from standards under knobs k: factors G per
 * shell class (measured/predicted rate) with their relative uncertainty and,
 * when fit_tilt and the standards give at least 3 lines of 2 elements, the
 * tube-spectrum tilt t (beam × (E/10 keV)^t, one G for every class). */
typedef struct q_ifac {
	double g[3], gu[3];
	int gn[3];
	double tilt, tilt_u;
	int tilt_fitted;
} q_ifac;
int q_instrument_factors(const mg_fp_model *fp, const q_fp_knobs *k, const mg_quant_standard *s, size_t n,
                         int fit_tilt, q_ifac *out);
/* Composition of a standard as FP-table mass fractions (normalised). */
int q_comp_to_w(const mg_fp_model *fp, const mg_quant_comp *c, double *w);

/* Empirical method (empirical.c): override the calibrated analytes' w in r->w
 * (iterating the influence terms). */
int q_empirical_apply(q_run *r);
/* Its uncertainty: calibration (b0, b1) and matrix (α) parts, and the sensitivity. */
void q_empirical_uncertainty(const q_run *r, size_t k, double *u_cal, double *u_mat, double *sens);

/* uncertainty.c: counting, calibration, matrix components and LOD/LOQ. */
int q_uncertainty(q_run *r);
/* flags.c: per-element and sample flags, coating, total, boron note. */
void q_flags(const q_run *r, mg_quant_result *res);
void q_note(mg_quant_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* plan_cache.c: a plan for cfg from the shared cache (counted: give it back). */
int q_plan_cache_acquire(mg_plan_cache *c, const mg_analysis_config *cfg, const mg_analysis_plan **out);
void q_plan_cache_release(mg_plan_cache *c, const mg_analysis_plan *plan);

#endif

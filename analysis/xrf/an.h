/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to analysis/: the plan, the per-thread context and the helpers the
 * source files share. Not installed. */
#ifndef MAGASSAY_ANALYSIS_AN_H
#define MAGASSAY_ANALYSIS_AN_H

#include <fftw3.h>
#include <stddef.h>

#include "magassay/analysis.h"
#include "magassay/xray.h"

#define AN_DOM "analysis"
#define AN_FWHM_PER_SIGMA 2.3548200450309493
#define AN_EPS_SI 0.00385   /* keV per electron–hole pair, the PyMca/xmimsim convention */
#define AN_SI_KA_KEV 1.7398 /* Si Kα: escape peaks sit this far below their line */
#define AN_MAX_RANGES 6     /* main-channel ranges per family (local χ²) */
#define AN_MAX_NL 12        /* nonlinear parameters of the refinement */
#define AN_MAX_SCLINES 64   /* lines of one scatter family */

/* ---------------------------------------------------------------- lines (lines.c) */

typedef struct an_line {
	double e;       /* keV */
	double e0;      /* scatter lines: the energy before scattering */
	double rate;    /* relative intensity in its family (the family sums to 1) */
	double esc_a;   /* Si Kα escape counts per full-energy count (0 without escape) */
	double esc_b;   /* Si Kβ escape, likewise */
	int iupac;      /* xraylib line macro (0 for scatter lines of a mono beam) */
} an_line;

/* A unit = one column of the design: all lines of one family, or of one L
 * sub-shell when a major element's L family has free sub-shell intensities.
 * Units are grouped into the reported families (an_group). */
typedef struct an_family {
	mg_family_kind kind;
	size_t group;          /* reported family */
	int z;
	char element[4];
	char family[12];
	size_t line0, nlines;  /* into plan->lines */
	double extra_sigma;    /* added Gaussian σ (Compton broadening), keV */
	double e_main;         /* strongest line */
} an_family;

typedef struct an_group {
	size_t u0, nu;         /* its units [u0, u0 + nu) (contiguous) */
	mg_family_kind kind;
	int z;
	char element[4];
	char family[12];
	double e_main;
} an_group;

#define AN_MAX_UNITS (3 * MG_ANALYSIS_MAX_FAMILIES)

/* Strong lines of every element for naming residual peaks. */
typedef struct an_cand {
	double e;
	float weight;   /* rough relative strength for ranking */
	unsigned char z;
	char name[6];   /* "Ka", "Kb", "La", "Lb", "Lg", "Ma" */
} an_cand;

/* Parsed matrix composition. */
typedef struct an_matrix {
	int n;
	int z[32];
	double w[32];
} an_matrix;

int an_matrix_parse(const char *spec, an_matrix *m);
/* Detection efficiency of the configured detector (window, dead layer, air
 * path, active Si; thickness 0 = ideal): the physics layer's. */
static inline double an_det_efficiency(const mg_detector_model *d, double e)
{
	return mg_xrf_sensor_efficiency(MG_XRF_SENSOR_SI, d->be_um, d->dead_layer_um, d->thickness_mm,
	                                d->air_mm, e);
}
double an_scatter_angle_deg(const mg_excitation *exc);

/* Build the units, groups and line table from cfg (allocates). */
int an_lines_build(const mg_analysis_config *cfg, an_family **fam, size_t *nfam, an_group **groups,
                   size_t *ngroup, an_line **lines, size_t *nlines);
/* Atomic numbers of an element list (families ignored); count or < 0. */
int an_elements_z(const char *spec, int *z, int max);
/* The naming table (allocates). */
int an_cands_build(an_cand **out, size_t *n, double emin, double emax);

/* ---------------------------------------------------------------- response (response.c) */

typedef struct an_shape {
	double noise, fano;   /* FWHM model */
	double tail_f, tail_b, step_h;
	double esc;           /* escape scale */
} an_shape;

static inline double an_sigma(const an_shape *s, double e)
{
	double v = s->noise * s->noise + AN_FWHM_PER_SIGMA * AN_FWHM_PER_SIGMA * s->fano * AN_EPS_SI *
	                                         (e > 0 ? e : 0.0);
	return __builtin_sqrt(v) / AN_FWHM_PER_SIGMA;
}

/* Channel-edge energies of the window: edges[k] = E(w0 + k − ½), k = 0..n. */
void an_edges(const mg_energy_cal *cal, size_t w0, size_t n, double *edges);
/* Add `area` × the response of one peak (Gaussian + tail + step, or Gaussian
 * only when plain) to col[0..n), tracking the touched range. */
void an_add_peak(const an_shape *s, double e, double area, double extra_sigma, int plain,
                 const double *edges, size_t n, double *col, size_t *lo, size_t *hi);
/* Render one family (all its lines, escape peaks) with unit total area into
 * col[0..n) (zeroed first). */
void an_render_family(const an_family *f, const an_line *lines, const an_shape *s, int escape,
                      const double *edges, size_t n, double *col, size_t *lo, size_t *hi);

/* ---------------------------------------------------------------- filters (filter.c) */

/* An FFT convolution engine for real signals of length <= nmax, zero padded
 * to nfft. Plans are made once (under a process-wide lock) and executed with
 * the new-array interface on per-thread buffers. */
typedef struct an_fft {
	size_t nfft;
	fftw_plan r2c, c2r;
} an_fft;

int an_fft_init(an_fft *f, size_t nmin, int measure);
void an_fft_destroy(an_fft *f);
/* Kernels are stored as their transforms (nfft/2+1 complex, allocated). A
 * kernel k[j] for j = −h..h, given as a function sample array of 2h+1. */
fftw_complex *an_kernel_transform(const an_fft *f, const double *k, size_t h);
/* Gaussian (σ in channels) of derivative order 0/1/2, unit area for order 0. */
fftw_complex *an_kernel_gauss(const an_fft *f, double sigma, int deriv, int squared);
/* Savitzky–Golay (2m+1 points, polynomial order `order`, derivative `deriv`). */
fftw_complex *an_kernel_savgol(const an_fft *f, int m, int order, int deriv);
/* Top-hat (filter-fit, Schamber): +1/(2a+1) centre, −1/(2·(b)) side lobes, zero sum. */
fftw_complex *an_kernel_tophat(const an_fft *f, int centre_half, int side);
/* out[0..n) = (in ⊛ kernel)[0..n); in is mirrored at the ends to reduce edge
 * effects when `mirror`. tmp: nfft doubles, spec: nfft/2+1 complex (aligned,
 * from fftw_malloc). out may alias in. */
void an_fft_convolve(const an_fft *f, const fftw_complex *kernel, const double *in, size_t n,
                     int mirror, double *out, double *tmp, fftw_complex *spec);
/* Plain linear autoconvolution of in[0..n) into out[0..2n−1) (needs nfft >= 2n). */
void an_fft_autoconv(const an_fft *f, const double *in, size_t n, double *out, double *tmp,
                     fftw_complex *spec);
void an_fft_lock(void);
void an_fft_unlock(void);

/* ---------------------------------------------------------------- background (background.c) */

int an_snip(const double *y, size_t n, int width, int lls, double *bg, double *tmp);
void an_strip(const double *y, size_t n, int iterations, int width, double *bg, double *tmp);
/* Cubic B-spline basis on [emin, emax] with knot spacing `knot`; returns the
 * number of basis functions (fills *nb) and evaluates basis j at energy e. */
size_t an_bspline_count(double emin, double emax, double knot);
double an_bspline(double emin, double emax, size_t nb, size_t j, double e);
/* The continuum shape factor ε(E)·T(E)/μ_matrix(E) (1/… omitted without a
 * matrix), detector-smeared, sampled at channel centres: shape[n]. */
void an_continuum_shape(const mg_analysis_config *cfg, const an_matrix *m, const an_shape *s,
                        const double *edges, size_t n, double *shape);
/* Absorption edges of the matrix inside (emin, emax) with a relative jump of
 * μ above `minjump`; writes up to max energies, returns the count. */
size_t an_matrix_edges(const an_matrix *m, double emin, double emax, double minjump, double *out,
                       size_t max);

/* ---------------------------------------------------------------- linear fit (fit_linear.c) */

typedef struct an_nnls_ws {
	size_t pmax;
	double *g;     /* p×p normal matrix (scaled) */
	double *b;     /* p */
	double *x, *s, *wgrad, *scale, *chol, *tmp; /* p, p, p, p, p×p, p */
	unsigned char *passive, *active;
	unsigned char *warm;   /* the last fit's passive set (warm start) */
	size_t np_warm;
	size_t *idx;
} an_nnls_ws;

int an_nnls_ws_init(an_nnls_ws *ws, size_t pmax);
void an_nnls_ws_destroy(an_nnls_ws *ws);

/* The design: p dense columns of length n (cols[j][i]), each nonzero only
 * on [lo[j], hi[j]). */
typedef struct an_design {
	size_t n, p;
	double **cols;
	size_t *lo, *hi;
	unsigned char *nonneg; /* 1: coefficient >= 0 */
} an_design;

/* Weighted NNLS: minimise Σ w_i (y_i − Σ_j a_ij c_j)² with c_j >= 0 where
 * nonneg[j]. coef[p]; cov (p×p, may be NULL) gets (AᵀWA)⁻¹ over every
 * column that has data (zero rows/cols for empty columns). Allocation-free. */
int an_linfit(const an_design *d, const double *y, const double *w, an_nnls_ws *ws, double *coef,
              double *cov);

/* ---------------------------------------------------------------- peak search (peaksearch.c) */

/* Second-difference significance z[n] from a kernel pair (−d2 Gaussian and
 * its square), using the given FFT engine and scratch. */
void an_second_diff(const an_fft *f, const fftw_complex *k2, const fftw_complex *k2sq,
                    const double *y, size_t n, double *z, double *s, double *tmp,
                    fftw_complex *spec);
/* Local maxima of z above k with centroid refinement; returns count (<= max). */
size_t an_find_peaks(const double *y, const double *z, const double *s, size_t n, double fwhm_ch,
                     double k, mg_peak *out, size_t max);

/* ---------------------------------------------------------------- the plan (plan.c) */

enum { AN_COL_FAMILY = 0, AN_COL_CONTINUUM = 1, AN_COL_EDGE = 2, AN_COL_PILEUP = 3 };

typedef struct an_range {
	size_t a, b; /* window channel indices [a, b) */
} an_range;

struct mg_analysis_plan {
	mg_analysis_config cfg;
	an_matrix matrix;
	an_shape shape;
	size_t w0, n;          /* window: channels [w0, w0 + n) */
	double *edges;         /* n + 1 */
	double *ecent;         /* n: channel-centre energies */
	size_t nfam;           /* units = family columns, incl. the pile-up one (the last) */
	an_family *fam;
	size_t ngroup;         /* reported families */
	an_group *groups;
	size_t nlines;
	an_line *lines;
	int pileup_col;        /* column of the pile-up family, −1 if none */
	size_t ncont, nedge;   /* continuum and edge columns (after the families) */
	double edge_e[16];
	an_design design;      /* every column (the pile-up one is a zero placeholder here) */
	double *colbuf;        /* p × n */
	double *widebuf;       /* nfam × n: every unit rendered √2 × wider (the width test) */
	unsigned char *coltype;
	size_t nranges[MG_ANALYSIS_MAX_FAMILIES];
	an_range ranges[MG_ANALYSIS_MAX_FAMILIES][AN_MAX_RANGES];
	double *cont_shape;    /* n: continuum shape factor */
	/* FFT engines and kernels */
	an_fft fw;             /* window-length convolutions */
	fftw_complex *k_smooth;   /* weights: light Gaussian smoothing */
	fftw_complex *k_match;    /* residual matched filter g */
	fftw_complex *k_match2;   /* g² */
	fftw_complex *k_sg;       /* SNIP/STRIP pre-smoothing (NULL if none) */
	an_fft fp;             /* pile-up autoconvolution (2·nchan) */
	size_t pile_from;      /* first channel used in the autoconvolution */
	double pile_shift;     /* fractional channel shift of the sum (offset/gain) */
	/* residual naming */
	an_cand *cands;
	size_t ncands;
	double fwhm_mid_ch;    /* FWHM in channels at the window centre */
	int snip_width;
};

struct mg_analysis_ctx {
	size_t n, p, nchan, nfft_w, nfft_p;
	double *y, *w, *m, *bg, *yfit;      /* n */
	double *t1, *t2;                     /* n scratch */
	double *ftmp;                        /* max(nfft) real, fftw_malloc */
	fftw_complex *fspec;                 /* max(nfft)/2+1, fftw_malloc */
	double *pile;                        /* 2·nchan */
	double *pilein;                      /* nchan: the spectrum without its pile-up */
	an_design d;                         /* the plan's columns + this spectrum's pile-up column */
	double *pilecol;                     /* n */
	double *coef, *cov;                  /* p, p×p */
	an_nnls_ws ws;
	/* refinement */
	void *nl_ws[AN_MAX_NL + 1];          /* gsl_multifit_nlinear_workspace * per parameter count */
	size_t nl_rows[AN_MAX_NL + 1];       /* its number of residuals */
	double *edges;                       /* n + 1 trial edges */
	double *nlbuf;                       /* p × n trial columns */
	an_design nld;                       /* design over nlbuf */
	double *fcache;                      /* n + priors: residuals at xcache */
	double xcache[AN_MAX_NL];
	int fcache_ok;
	an_line sclines[AN_MAX_SCLINES];     /* trial Compton lines */
};

/* Continuum and edge columns for the given channel edges (plan or trial). */
void an_render_static(const mg_analysis_plan *p, const double *edges, double **cols, size_t *lo,
                      size_t *hi);
/* The normalised autoconvolution of the spectrum into c->pile, and the pile-up
 * column from it for a channel shift (offset/gain). */
void an_pileup_autoconv(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *counts);
void an_pileup_fill(const mg_analysis_plan *p, const mg_analysis_ctx *c, double shift, double *col);
/* fit_nonlinear.c: free the GSL workspace held by a context. */
void an_nl_free(mg_analysis_ctx *c);
/* Build the pile-up column of the spectrum into the ctx design. */
void an_pileup_column(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *counts,
                      double shift);
/* The fast path's linear fit with the plan's columns (c->d, its pile-up column
 * built from `counts`), iterating the pile-up column when pile-up is strong.
 * c->y, c->yfit, c->w must be ready. cov may be NULL. */
int an_pileup_settle(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *counts,
                     double *cov);
/* Weights from the data (smoothed unless plain). */
void an_weights(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *y);
/* Prepare y (background-subtracted for SNIP/STRIP) into c->yfit and c->bg. */
void an_prepare_data(const mg_analysis_plan *p, mg_analysis_ctx *c);
/* Model from coefficients into c->m (window). */
void an_model(const an_design *d, const double *coef, double *m);

/* result.c */
void an_result_fill(const mg_analysis_plan *p, mg_analysis_ctx *c, const double *counts,
                    double live, mg_analysis_result *res);
void an_residual_warnings(const mg_analysis_plan *p, mg_analysis_ctx *c, mg_analysis_result *res);
void an_add_warning(mg_analysis_result *res, double e, double sig, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif

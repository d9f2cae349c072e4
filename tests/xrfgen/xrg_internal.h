/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xrfgen internals shared by its files (not for the tests that use it). */
#ifndef MG_TEST_XRG_INTERNAL_H
#define MG_TEST_XRG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "xrfgen.h"

#define XRG_MAXZ 100
#define XRG_FINE_BIN 0.025   /* beam grid of the primary fluorescence, keV */
#define XRG_COARSE_BIN 0.1   /* beam grid of the secondary fluorescence */
#define XRG_SCATTER_BIN 0.02 /* beam grid of the scattered continuum (= its histogram) */

/* One line of an element in the C line data (xraylib, perturbed). */
typedef struct xrg_eline {
	int line;       /* xraylib IUPAC code */
	int shell;      /* 0 K, 1 L1, 2 L2, 3 L3 */
	double e;
	double rel;     /* share of its family at 1.3 × the family's top edge */
	double *q_fine; /* production cross section on the fine beam (cm²/g) */
	double *q_coarse;
} xrg_eline;

/* The perturbation of an element's data (mode PERTURBED; identity otherwise). */
typedef struct xrg_pert {
	int on;
	double omega[4]; /* factors on the yields of K, L1, L2, L3 */
	double ck0[4];   /* xraylib's f12, f13, f'13, f23 */
	double ck[4];    /* perturbed */
	double rnorm[4]; /* Σ p / Σ p·a over each shell: renormalises the perturbed rates */
} xrg_pert;

typedef struct xrg_elem {
	int z;
	xrg_pert pert;
	size_t n;
	xrg_eline *l;
} xrg_elem;

/* A line table fisx computed for one sample. */
typedef struct xrg_fxtab {
	char key[512];  /* the sample, canonically */
	size_t n;
	xrg_line *l;    /* rates per second as the beam gives them, Ω/4π not applied */
} xrg_fxtab;

typedef struct xrg_beamgrid {
	size_t n;
	double *e, *f; /* energy, photons/s in the bin (anode lines: in the line) */
	int *line;     /* 1 for an anode line */
} xrg_beamgrid;

struct xrg_gen {
	xrg_config c;
	double omega_4pi;       /* detector Ω/4π */
	xrg_beamgrid fine, coarse, scat;
	xrg_elem *el[XRG_MAXZ + 1];   /* lazily built */
	double *jprof[XRG_MAXZ + 1];  /* Compton profiles on the p_z grid, lazily */
	size_t nfx, capfx;
	xrg_fxtab *fx;
	int fisx_skip;          /* fisx found absent once: skip at once after */
};

/* Record why (printf-like) and return code. */
int xrg_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sample helpers. */
double xrg_layer_mu(const xrg_layer *L, double e);     /* cm²/g */
double xrg_layer_rho_t(const xrg_layer *L);            /* g/cm², INFINITY for the substrate */
/* exp(−Σ_{j<k} μ_j(e)·ρt_j / sin_angle): attenuation by the layers above layer k. */
double xrg_above(const xrg_sample *s, int k, double e, double sin_angle);
/* A canonical text of the sample (the fisx table key). */
void xrg_sample_key(const xrg_sample *s, char *buf, size_t size);

/* Line data (xrg_data.c). */
int xrg_shell_of_line(int line);
const char *xrg_line_label(int line);
/* The element's lines with their cross sections on the gen's grids (built once). NULL on no memory. */
const xrg_elem *xrg_element(xrg_gen *g, int z);
void xrg_elements_free(xrg_gen *g);

/* Tube (xrg_tube.c): fill a beam grid of bin width `bin`. 0 or XRG_ERROR. */
int xrg_beam_make(const xrg_config *c, double bin, xrg_beamgrid *b);
void xrg_beam_free(xrg_beamgrid *b);

/* Emission (xrg_emission.c, C modes; xrg_fisx.c, fisx mode). */
int xrg_emission_c(xrg_gen *g, const xrg_sample *s, xrg_line **out, size_t *n);
int xrg_emission_fisx(xrg_gen *g, const xrg_sample *s, xrg_line **out, size_t *n);
int xrg_fisx_prepare(xrg_gen *g, const xrg_sample *s, size_t n);
void xrg_fisx_free(xrg_gen *g);

/* Scatter (xrg_scatter.c): add the detected Rayleigh + Compton photons/s
 * (after efficiency) of the sample onto hist[nh] of width hbin from 0 keV. */
int xrg_scatter(xrg_gen *g, const xrg_sample *s, double *hist, size_t nh, double hbin);
void xrg_profiles_free(xrg_gen *g);

/* Detector (xrg_detector.c): add the response to `rate` detected photons/s
 * of energy e (escape included unless switched off) onto y[nchan]. */
void xrg_response(const xrg_gen *g, double e, double rate, double *y);

#endif

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private to physics/: constants and the helpers its files share. Not
 * installed; other layers use magassay/xray.h. */
#ifndef MAGASSAY_PHYSICS_INTERNAL_H
#define MAGASSAY_PHYSICS_INTERNAL_H

#include <stddef.h>

#include "magassay/xray.h"

#define XR_DOM "xray"
#define XR_RHO_BE 1.848                     /* g/cm³ */
#define XR_RHO_SI 2.33
#define XR_FWHM_PER_SIGMA 2.3548200450309493
#define XR_EPS_SI 0.00385                   /* keV per electron–hole pair (PyMca/xmimsim convention) */
#define XR_BEAM_EMIN_KEV 1.0                /* below this the tube window has removed everything */

/* ---------------------------------------------------------------- tube.c */

/* Ebel quantities that depend only on the anode and the voltage. */
typedef struct xr_ebel {
	int z;
	double e0;        /* kV */
	double j;         /* mean ionisation potential, keV */
	double eta;       /* backscatter coefficient */
	double rhozm;     /* maximum depth of ionisation, g/cm² */
	double x;         /* continuum exponent */
	double sin_ratio; /* sin α / sin ε */
	int filter_z;     /* 0 = none */
	double filter_gcm2;
	double window_gcm2;
	double kconst;
} xr_ebel;

/* Check the tube and fill e. 0 or MG_ERR_ARG with a detail. */
int xr_ebel_init(const mg_xrf_tube *t, xr_ebel *e);
/* Continuum after window and filter, photons/(s·sr·mA·keV); 0 outside (0, kV). */
double xr_ebel_continuum(const xr_ebel *e, double energy);
/* The anode lines (mg_xrf_tube_lines without the checks). */
int xr_ebel_lines(const xr_ebel *e, mg_xrf_tube_line *out, size_t max);

/* ---------------------------------------------------------------- beam.c */

/* An empty beam with room for cap entries. NULL on no memory. */
mg_xrf_beam *xr_beam_alloc(size_t cap);

/* ---------------------------------------------------------------- detector.c */

/* exp(−Σ μρt) of the Be window, the sensor's dead layer and the engine's air
 * path (thicknesses > 0 only): the entrance of mg_xrf_sensor_efficiency. */
double xr_entrance(enum mg_xrf_sensor s, double be_um, double dead_layer_um, double air_mm, double e);

/* ---------------------------------------------------------------- composition.c */

/* A layer fit for mg_xrf_sample_emission (`what` "coating"/"substrate" and
 * its index name it in the detail). 0 or MG_ERR_ARG. */
int xr_layer_check(const mg_xrf_layer *l, const char *what, int idx, int substrate);

/* ---------------------------------------------------------------- emission.c, secondary.c */

/* One fluorescence line of a layer while the emission is computed. */
typedef struct xr_wline {
	int layer, el, z, line, shell;
	double e;        /* line energy */
	double edge;     /* absorption edge of its shell */
	double mu;       /* μ of its layer at e */
	double *q;       /* Q(E_b), cm²/g, per beam entry */
	double *fq;      /* flux·A_in·Q per beam entry (secondary sources only) */
	double *g;       /* ln(1 + a/μ)/a per beam entry (sources in thick layers) */
	double strength; /* rough emission strength (source pruning) */
	double p, s;     /* internal primary/secondary (before A_out, Ω, air) */
} xr_wline;

/* One layer of the sample while the emission is computed. */
typedef struct xr_layer_ctx {
	const mg_xrf_layer *l;
	double d;     /* g/cm², INFINITY = thick */
	double *mu;   /* μ at beam energies */
	double *ain;  /* beam transmission through the layers above */
} xr_layer_ctx;

/* Secondary fluorescence (w->s) of the K and L lines inside each layer, all
 * lines of all elements of the same layer as sources (fills the sources' fq
 * and g, which the caller frees). 0 or MG_ERR_NOMEM. */
int xr_secondary(xr_wline *wl, size_t nwl, const xr_layer_ctx *lay, const mg_xrf_beam *beam,
                 double sin1, double sin2);

#endif

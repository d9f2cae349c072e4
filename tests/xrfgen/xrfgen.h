/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xrfgen — a test-side ED-XRF spectrum generator with OTHER physics than the
 * suite's, so that an analysis test passing is not a proof by symmetry.
 *
 * It lives in the tests on purpose and never includes or links the suite's
 * forward model (drivers/sim) or the analysis internals: only xraylib, GSL and
 * (mode XRG_DATA_FISX) PyMca's fisx through tests/xrfgen/fisx_lines.py. It
 * grew from tests/quant/ndfeb_gen.h (which stays as it is for
 * test_quant_ndfeb); every physics choice can be switched.
 *
 * What it does differently from the suite, and why
 * ------------------------------------------------
 * The suite (drivers/sim, analysis/, analysis/quant/) models the tube with
 * Ebel's formulas, the sample with xraylib's cross sections and the closed
 * logarithmic secondary-fluorescence formula, the detector with Reed & Ware
 * escape and a Gaussian-convolved Hypermet tail and step. An analysis that is
 * only tested on spectra of that same model checks that it inverts itself.
 * Here:
 *
 *  - LINE DATA (xrg_config.data), the part that decides the line ratios
 *    inside a family, which is what the fit of overlapped L lines rests on:
 *      XRG_DATA_XRAYLIB   xraylib's CS_FluorLine_Kissel_Cascade and line
 *                         energies (the suite's data, other model around it);
 *      XRG_DATA_PERTURBED the same, with every line's radiative rate, every
 *                         shell's fluorescence yield and every Coster–Kronig
 *                         factor (f12, f13, f'13, f23) multiplied by its own
 *                         factor drawn uniformly within ±perturb (10 %) from
 *                         `seed` (a hash of seed, element and item: the same
 *                         element gets the same factors in every sample, so
 *                         standards and unknowns agree). Radiative rates are
 *                         renormalised within their shell (they are branching
 *                         fractions; the yield carries the shell total), so
 *                         ratios inside a shell move by up to ±10 %, and the
 *                         L3/L2/L1 balance moves with the yields and CK factors.
 *                         Implemented as xraylib's cross section × the ratio of
 *                         the perturbed to the unperturbed vacancy model
 *                         V_L1 = σ1, V_L2 = σ2 + f12·V_L1,
 *                         V_L3 = σ3 + (f13 + f'13)·V_L1 + f23·V_L2 (xraylib's
 *                         partial photo-ionisation σ), so perturb = 0 gives
 *                         mode XRAYLIB exactly;
 *      XRG_DATA_FISX      PyMca's fisx (EPDL97 cross sections, PyMca's shell
 *                         constants and rates, its own line energies, its own
 *                         primary and de Boer secondary fluorescence including
 *                         the coherently scattered beam as a source): the
 *                         tube beam is handed to fisx_lines.py (run with
 *                         /usr/bin/python3), which returns every line of every
 *                         element with its energy and rate. Another data
 *                         library: L-line ratios differ from xraylib's by
 *                         several per cent. Absent fisx: XRG_SKIP.
 *  - TUBE (xrg_tube.model): XRG_TUBE_KRAMERS, Kramers' law with exponent
 *    x = 1.15 (Ebel's x for Rh at 40 kV is 0.98) and a Kanaya–Okayama depth
 *    of generation for the anode self-absorption, fixed anode-line intensities
 *    (ndfeb_gen.h's tube); XRG_TUBE_DEPTH, a depth-resolved thick target:
 *    Kramers' thin-target emission (x = 1) integrated along the electron path
 *    with Thomson–Whiddington slowing down (T² = E0² − c·ρs, c from the
 *    Kanaya–Okayama range), each depth's photons absorbed on their own way
 *    out at the anode take-off angle, and the anode K and L lines from a Bethe
 *    ionisation cross section integrated along the same path (so the
 *    line-to-continuum ratio is computed, not chosen). Either with any kV,
 *    tube window and an optional primary filter.
 *  - SAMPLE: thick substrate plus up to three finite layers on top (a Ni–Cu–Ni
 *    plating: xrg_sample_coat). Primary fluorescence on a 25 eV beam grid
 *    that ignores absorption edges; secondary fluorescence inside each layer
 *    by numerical integration of the emission direction (24-node
 *    Gauss–Legendre over u = t²) on a 0.1 keV beam grid, from every source
 *    line ≥ 1 % of its family, instead of the closed logarithmic form; a
 *    finite layer's secondary scaled by its primary's finite/thick ratio;
 *    no interlayer secondary (for Ni–Cu–Ni on NdFeB only Cu Kβ → Ni K, < 1 %).
 *    fisx mode: fisx's own primary, intra- and interlayer secondary.
 *  - CONTINUUM: Rayleigh and Compton scatter of the whole tube spectrum (20 eV
 *    bins and the anode lines) computed with the sample's own attenuation at
 *    the incident and the scattered energy, so the scattered background shows
 *    the sample's absorption edges (Fe K, Nd/Pr/Dy/Tb L); the Compton line of
 *    every bin Doppler-broadened with xraylib's atomic Compton profiles J(p_z)
 *    (impulse approximation), not a Gaussian.
 *  - DETECTOR: its own efficiency (Be 14 µm where the instrument file says
 *    12.5, dead layer, active Si, air path); resolution with its own noise and
 *    Fano; line shape = Gaussian sampled at channel centres + two
 *    sharp-edged exponential tails + a flat shelf (the engine fits a
 *    Gaussian-convolved Hypermet tail and step); Si Kα AND Kβ escape from a
 *    numerical depth × direction integral for normal incidence on a detector
 *    of finite thickness (the suite uses Reed & Ware's closed form, Kα only);
 *    pile-up as the self-convolution of the whole detected spectrum × τ
 *    (0.5 µs), parents losing what they give; no dead-time distortion.
 *  - CALIBRATION: offset, gain and a quadratic term set per generator
 *    (xrg_set_calibration): a gain drift of the unknowns against the standards
 *    is a second call.
 * Cross sections for attenuation, efficiency and scatter are xraylib's in
 * every mode (they are not what decides the ratios inside a family).
 *
 * Units: keV, g/cm³, µm, degrees from the sample surface, photons/s. Not
 * thread-safe (one generator per thread). */
#ifndef MG_TEST_XRFGEN_H
#define MG_TEST_XRFGEN_H

#include <stddef.h>

#define XRG_MAXEL 16
#define XRG_MAXLAYERS 4

/* Return codes: 0 OK, XRG_ERROR with xrg_error() saying why, XRG_SKIP when
 * a needed optional component (fisx) is absent, xrg_error() saying which. */
enum { XRG_ERROR = -1, XRG_SKIP = -77 };

typedef enum xrg_data {
	XRG_DATA_XRAYLIB = 0,
	XRG_DATA_PERTURBED = 1,
	XRG_DATA_FISX = 2,
} xrg_data;

typedef enum xrg_tube_model {
	XRG_TUBE_KRAMERS = 0,
	XRG_TUBE_DEPTH = 1,
} xrg_tube_model;

/* Physics switches (xrg_config.flags), all off by default. */
enum {
	XRG_NO_SECONDARY = 1u << 0, /* primary fluorescence only (C modes; fisx: secondary = 0) */
	XRG_NO_SCATTER = 1u << 1,   /* no Rayleigh/Compton continuum */
	XRG_NO_DOPPLER = 1u << 2,   /* Compton lines not broadened */
	XRG_NO_ESCAPE = 1u << 3,
	XRG_NO_PILEUP = 1u << 4,
};

typedef struct xrg_tube {
	xrg_tube_model model;
	int anode_z;          /* 45 (Rh) */
	double kv;            /* 40 */
	double current_ua;    /* 20 */
	double window_be_um;  /* 125 */
	int filter_z;         /* primary filter element, 0 = none */
	double filter_um;
	double beam_sr;       /* solid angle of the beam on the sample (2.5e-3) */
	double air_mm;        /* tube window -> sample, air (10) */
	double takeoff_deg;   /* X-ray take-off from the anode surface (15) */
	double kramers_x;     /* Kramers: exponent (1.15) */
	double kramers_lines[4]; /* Kramers: anode Kα1, Kα2, Kβ1, Lα photons/(s·sr·mA) */
} xrg_tube;

typedef struct xrg_detector {
	double area_mm2, dist_mm; /* 25, 20: Ω/4π = ½(1 − d/√(d² + r²)) */
	double air_mm;            /* sample -> detector, air (20) */
	double be_um;             /* 14 */
	double dead_um;           /* 0.1 */
	double si_mm;             /* 0.5 */
	double noise_kev, fano;   /* 0.085, 0.118: FWHM² = noise² + 2.3548²·fano·0.00385·E */
	double t1, b1, t2, b2;    /* tails: fractions of the line and decay lengths (keV):
	                             0.015/0.08 and 0.008/0.9 */
	double shelf;             /* flat shelf down to 0 keV: fraction per keV of line energy (1.5e-4) */
	double escape_scale;      /* × the computed escape probability (1) */
	double pileup_us;         /* pulse-pair resolving time (0.5) */
} xrg_detector;

typedef struct xrg_config {
	xrg_data data;
	unsigned long seed;       /* XRG_DATA_PERTURBED: which draw (1) */
	double perturb;           /* XRG_DATA_PERTURBED: half-width of the factors (0.10) */
	char python[256];         /* XRG_DATA_FISX: interpreter (XRG_PYTHON, /usr/bin/python3) */
	char fisx_script[512];    /* XRG_DATA_FISX: fisx_lines.py (XRG_FISX_SCRIPT) */
	xrg_tube tube;
	double psi1, psi2;        /* incidence and take-off, from the surface (45, 45) */
	xrg_detector det;
	int nchan;                /* 2048 */
	double offset, gain, quad; /* E(k) = offset + gain·k + quad·k², keV (0, 0.02, 0) */
	unsigned flags;           /* XRG_NO_* */
} xrg_config;

void xrg_config_default(xrg_config *c);
const char *xrg_data_name(xrg_data d); /* "xraylib", "perturbed", "fisx" */
const char *xrg_tube_name(xrg_tube_model m); /* "kramers", "depth" */

/* ---------------------------------------------------------------- samples */

typedef struct xrg_layer {
	int n;
	int z[XRG_MAXEL];
	double w[XRG_MAXEL];  /* mass fractions (sum 1) */
	double density;       /* g/cm³ */
	double thickness_um;  /* 0 = infinitely thick (the substrate, the last layer) */
} xrg_layer;

typedef struct xrg_sample {
	char name[64];
	int nlayers;          /* layer[0] faces the beam; layer[nlayers-1] is the substrate */
	xrg_layer layer[XRG_MAXLAYERS];
} xrg_sample;

/* A sintered NdFeB magnet: Nd, Pr, Dy, Tb, Co as given (wt%), B 1.0, Al 0.3,
 * Cu 0.15, Ga 0.1, O 0.1, Fe the rest; 7.5 g/cm³. */
void xrg_sample_magnet(xrg_sample *s, const char *name, double nd, double pr, double dy, double tb, double co);
/* A pure element (metal standard), its own density. */
void xrg_sample_pure(xrg_sample *s, int z);
/* Put a layer of element z (um thick, its own density) on top. 0 or XRG_ERROR (full). */
int xrg_sample_coat(xrg_sample *s, int z, double um);
/* wt% of z in the substrate. */
double xrg_sample_wt(const xrg_sample *s, int z);

/* ---------------------------------------------------------------- the generator */

typedef struct xrg_gen xrg_gen;

/* 0, XRG_ERROR, or XRG_SKIP (fisx mode without a working fisx). */
int xrg_new(const xrg_config *c, xrg_gen **out);
void xrg_free(xrg_gen *g);
/* Why the last call failed or skipped (a static buffer). */
const char *xrg_error(void);
const xrg_config *xrg_get_config(const xrg_gen *g);
/* The detector calibration of the next spectra (a gain drift). */
void xrg_set_calibration(xrg_gen *g, double offset, double gain, double quad);

/* fisx mode: compute the line tables of these samples in one run of Python
 * (one start-up for all); later calls for other samples run it again. Other
 * modes: nothing. 0, XRG_ERROR or XRG_SKIP. */
int xrg_prepare(xrg_gen *g, const xrg_sample *s, size_t n);

/* One emission line of a sample. */
typedef struct xrg_line {
	int z;
	int shell;            /* 0 K, 1 L1, 2 L2, 3 L3 */
	char label[8];        /* IUPAC: "KL3", "L3M5" */
	double e;             /* keV */
	double primary, secondary; /* photons/s leaving the sample towards the detector
	                              window (Ω/4π and upper layers included; efficiency
	                              and air not) */
	int layer;
} xrg_line;

/* Every K and L line above 0.9 keV of every element of the sample (*out
 * malloc'ed, free()). 0, XRG_ERROR or XRG_SKIP. */
int xrg_lines(xrg_gen *g, const xrg_sample *s, xrg_line **out, size_t *n);

/* The true content of a spectrum, in the engine's terms: per element and K or
 * L family, the full-energy counts of all its lines (Gaussian, tails and shelf
 * included; escape and pile-up excluded; the pile-up loss applied). */
typedef struct xrg_truth {
	size_t n;
	struct {
		int z;
		char fam;     /* 'K' or 'L' */
		double area;  /* counts */
	} f[2 * XRG_MAXEL * XRG_MAXLAYERS];
	double total_cps;   /* detected rate over the whole spectrum */
	double pileup_loss; /* fraction of the counts lost to pile-up */
	double scatter_cps; /* of which Rayleigh + Compton */
} xrg_truth;

/* Expected counts (means) mean[nchan] of the sample measured for live_s
 * seconds; truth (may be NULL) gets the true family areas. 0, XRG_ERROR or
 * XRG_SKIP. */
int xrg_expected(xrg_gen *g, const xrg_sample *s, double live_s, double *mean, xrg_truth *truth);
/* The true area of (z, 'K'|'L') in a truth, 0 when absent. */
double xrg_truth_area(const xrg_truth *t, int z, char fam);

/* Poisson draws of mean[n] into out[n] (out may alias mean). */
void xrg_poisson(unsigned long seed, const double *mean, double *out, size_t n);

/* ---------------------------------------------------------------- pieces (for the self-tests) */

/* Line production cross section (cm²/g) of xraylib line `line` of z at e, in
 * the generator's data (XRAYLIB or PERTURBED; fisx mode: xraylib's). */
double xrg_line_q(xrg_gen *g, int z, int line, double e);
/* Perturbation factor of an item: kind 0 = fluorescence yield of shell
 * `index`, 1 = radiative rate of line `index`, 2 = Coster–Kronig factor
 * `index` (FL12_TRANS ...). 1 outside mode PERTURBED. */
double xrg_perturb_factor(const xrg_gen *g, int z, int kind, int index);
/* Detector: full-energy efficiency (window, dead layer, active Si, air) and
 * the escape probabilities (Si Kα, Kβ) of a photon of energy e. */
double xrg_efficiency(const xrg_gen *g, double e);
void xrg_escape(const xrg_gen *g, double e, double *p_ka, double *p_kb);
/* The beam on the sample: photons/s in [e − bin/2, e + bin/2) for every bin
 * of width `bin` from 1 keV to kV, then the anode lines (flag 1). Returns the
 * count, fills up to max. */
size_t xrg_beam(const xrg_gen *g, double bin, double *e, double *n, int *line, size_t max);

#endif

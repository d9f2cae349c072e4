/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — physics engine of the simulated ED-XRF spectrometer.
 *
 * Tube (Ebel continuum + anode lines) → sample (Sherman primary fluorescence,
 * secondary fluorescence, Rayleigh/Compton scatter, coating layers) → SDD
 * (efficiency, Gaussian + tail + step, Si escape) → pulse processor (pile-up,
 * dead time, fast/slow counters, live time) → Poisson counts.
 * docs/simulator-physics.md gives the equations and the numbers checked.
 *
 * Units everywhere: energy keV, length as named in the field (µm, mm),
 * density g/cm³, angles in degrees, time s (dead times µs), current µA.
 * "Per µA" rates scale linearly with the tube current (before dead time).
 *
 * Threads: every function here is re-entrant. A model is read-only after
 * mg_xrfsim_model_new(); mg_xrfsim_acquire() may run on one model from
 * several threads with one RNG and one counter set per thread. Changing a
 * model (mg_xrfsim_model_set_current, mg_xrfsim_model_update) must not run
 * concurrently with readers of that model. xraylib 4 keeps no mutable global
 * state (compiled-in tables, per-call error objects); FFTW planning is
 * serialised internally by one mutex (FFTW's own rule: only fftw_execute is
 * thread-safe), so other FFTW users in the process should not plan
 * concurrently with mg_xrfsim_model_new/update/free. */
#ifndef MAGASSAY_XRFSIM_H
#define MAGASSAY_XRFSIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MG_XRF_MAX_ELEMENTS 24 /* elements per layer */
#define MG_XRF_MAX_COATINGS 4  /* coating layers above the substrate */
#define MG_XRF_MIN_CHANNELS 256
#define MG_XRF_MAX_CHANNELS 8192

/* ---------------------------------------------------------------- config */

enum mg_xrf_atmosphere {
	MG_XRF_VACUUM = 0,
	MG_XRF_AIR = 1,    /* dry air, 1.205e-3 g/cm³ */
	MG_XRF_HELIUM = 2, /* He, 1.66e-4 g/cm³ */
};

enum mg_xrf_deadtime_model {
	MG_XRF_PARALYSABLE = 0,    /* slow channel with pile-up rejection: m = f·exp(−f·τ) */
	MG_XRF_NONPARALYSABLE = 1, /* m = f/(1 + f·τ) */
};

/* X-ray tube, reflection (side/end-window thick-anode) geometry, Ebel model. */
typedef struct mg_xrf_tube {
	char anode[4];             /* anode element symbol: "Rh", "W", "Ag", "Mo", "Cu", ... */
	double kv;                 /* tube voltage, kV (= highest photon energy, keV); Ebel valid 5..50 */
	double current_ua;         /* emission current, µA: a pure scale of every rate */
	double be_window_um;       /* tube Be exit window, µm (0 = none) */
	char filter[4];            /* primary-beam filter element symbol, "" = none */
	double filter_um;          /* filter thickness, µm */
	double electron_angle_deg; /* α: electron incidence, from the anode surface (90 = normal) */
	double takeoff_angle_deg;  /* ε: X-ray take-off, from the anode surface */
	double line_constant;      /* Ebel K-line constant C; 0 = 6e13 (PyMca). xmimsim uses 5e13 */
} mg_xrf_tube;

/* Sample geometry: coplanar, tube and detector on opposite sides of the normal,
 * scattering angle θ = ψ1 + ψ2. */
typedef struct mg_xrf_geometry {
	double incidence_deg;   /* ψ1: primary beam to sample surface, degrees (0 < ψ1 <= 90) */
	double takeoff_deg;     /* ψ2: sample surface to detector axis, degrees (0 < ψ2 <= 90) */
	double beam_sr;         /* solid angle of the tube emission that irradiates the sample, sr */
	double det_area_mm2;    /* detector active area, mm² */
	double det_distance_mm; /* sample to detector distance, mm (solid angle of a disc on axis) */
	enum mg_xrf_atmosphere atmosphere;
	double tube_path_mm;    /* tube window → sample path through the atmosphere, mm */
	double det_path_mm;     /* sample → detector window path through the atmosphere, mm */
} mg_xrf_geometry;

/* Silicon drift detector and its pulse processor (DP5-like). */
typedef struct mg_xrf_detector {
	double be_um;          /* Be entrance window, µm */
	double dead_layer_um;  /* Si dead layer, µm */
	double thickness_mm;   /* active Si thickness, mm */
	double noise_fwhm_kev; /* electronic noise, FWHM keV */
	double fano;           /* Fano factor, with 3.85 eV per electron–hole pair */
	double tail_fraction;  /* area of the low-energy exponential tail / peak area (0..0.5) */
	double tail_slope_kev; /* decay length β of that tail, keV (> 0) */
	double step_height;    /* height of the low-energy shelf / Gaussian peak height (0..0.01) */
	double lld_kev;        /* lower level discriminator: events below are not counted at all */
	double dead_time_us;   /* slow-channel dead time per event, µs (≈ peaking + flat top) */
	double pileup_us;      /* fast-channel pulse-pair resolving time, µs: closer pulses sum */
	enum mg_xrf_deadtime_model deadtime_model;
} mg_xrf_detector;

/* The simulator's "true" energy calibration: channel k (0..nchan-1) is the bin
 * centred on offset_kev + gain_kev·k, width gain_kev. */
typedef struct mg_xrf_axis {
	int nchan;         /* MG_XRF_MIN_CHANNELS..MG_XRF_MAX_CHANNELS */
	double offset_kev; /* energy of the centre of channel 0, keV */
	double gain_kev;   /* keV per channel (> 0) */
} mg_xrf_axis;

/* One homogeneous layer: elements by Z with mass fractions. */
typedef struct mg_xrf_layer {
	int nel;                        /* number of elements, 1..MG_XRF_MAX_ELEMENTS */
	int z[MG_XRF_MAX_ELEMENTS];     /* atomic numbers, distinct, 1..94 */
	double w[MG_XRF_MAX_ELEMENTS];  /* mass fractions (normalised to 1 by the builders) */
	double density;                 /* g/cm³ */
	double thickness_um;            /* µm; <= 0 = infinitely thick (substrate only) */
} mg_xrf_layer;

/* A flat sample: optional coatings on a substrate. Plain value type. */
typedef struct mg_xrf_sample {
	char name[32];
	mg_xrf_layer substrate;
	int ncoat;                               /* 0..MG_XRF_MAX_COATINGS */
	mg_xrf_layer coat[MG_XRF_MAX_COATINGS]; /* coat[0] = outermost (faces tube and detector) */
} mg_xrf_sample;

/* Model switches (mg_xrfsim_config.flags), for tests and what-if studies. */
enum {
	MG_XRFSIM_NO_SECONDARY = 1 << 0, /* no secondary fluorescence */
	MG_XRFSIM_NO_SCATTER = 1 << 1,   /* no Rayleigh/Compton scatter of the tube spectrum */
	MG_XRFSIM_NO_ESCAPE = 1 << 2,    /* no Si escape peaks */
	MG_XRFSIM_NO_PILEUP = 1 << 3,    /* no sum peaks (dead time still applies) */
	MG_XRFSIM_NO_TAIL = 1 << 4,      /* pure Gaussian peaks (no tail, no step) */
};

/* Everything one simulated measurement depends on. Plain value type. */
typedef struct mg_xrfsim_config {
	mg_xrf_tube tube;
	mg_xrf_geometry geom;
	mg_xrf_detector det;
	mg_xrf_axis axis;
	mg_xrf_sample sample;
	double beam_bin_kev; /* width of the tube-continuum bins, keV; 0 = 0.05 */
	unsigned flags;      /* MG_XRFSIM_NO_* */
} mg_xrfsim_config;

/* Fill a typical DP5 + 25 mm² SDD + 40 kV Rh tube set-up on the "ndfeb" sample:
 * Rh 40 kV 20 µA, Be 125 µm, α 75° / ε 15°; ψ1 = ψ2 = 45°, beam 2.5e-3 sr,
 * 25 mm² at 20 mm in air (10 mm tube path, 20 mm detector path); Be 12.5 µm,
 * dead layer 0.1 µm, 0.5 mm Si, noise 0.08 keV, Fano 0.114, tail 0.02 / 0.5 keV,
 * step 2e-4, LLD 0.3 keV, dead time 5 µs paralysable, pile-up 0.25 µs;
 * 2048 channels, 0.02 keV/ch, offset 0. */
void mg_xrfsim_config_default(mg_xrfsim_config *cfg);

/* ---------------------------------------------------------------- samples */

/* Library names (NULL-terminated, static): "ndfeb", "ndfeb-dy", "ndfeb-tb",
 * "ndfeb-nicuni", "fe", "cu", "blank". */
const char *const *mg_xrfsim_sample_names(void);

/* A library sample by name (case-insensitive), or, if `name` contains ':', a
 * user composition parsed by mg_xrfsim_sample_parse(). Fills *out.
 * 0, MG_ERR_NOT_FOUND (unknown name), MG_ERR_FORMAT, MG_ERR_ARG. */
int mg_xrfsim_sample_lookup(const char *name, mg_xrf_sample *out);

/* Parse "Nd:24,Pr:6,Fe:66,Co:2,Dy:1,B:1[,density=7.5][,thickness=50]":
 * element symbol ':' wt% (','/';'/blank separated, each element once);
 * density in g/cm³ (default: mass-weighted harmonic mean of the solid
 * elements' densities), thickness in µm (default: infinitely thick).
 * Fractions are normalised to 1; a sum outside 100 ± 0.5 is logged as a warning.
 * 0 or MG_ERR_FORMAT (detail gives the byte offset), MG_ERR_ARG. */
int mg_xrfsim_sample_parse(const char *spec, mg_xrf_sample *out);

/* Fill a layer from a composition "Ni:100,density=8.9[,thickness=10]" (same
 * syntax; density estimated if absent, thickness 0 if absent).
 * 0 or MG_ERR_FORMAT / MG_ERR_ARG. */
int mg_xrf_layer_parse(const char *spec, mg_xrf_layer *out);

/* ---------------------------------------------------------------- tube */

typedef struct mg_xrf_tube_line {
	int line;          /* xraylib IUPAC line macro (negative, e.g. KL3_LINE = -3) */
	double energy_kev;
	double intensity;  /* photons/(s·sr·mA), after the tube window and filter */
} mg_xrf_tube_line;

/* Ebel continuum at e_kev after window and filter, photons/(s·sr·mA·keV);
 * 0 outside (0, kV) and for an invalid tube (unknown anode: see
 * mg_xrf_tube_lines or mg_xrf_beam_new for the error code). */
double mg_xrf_tube_continuum(const mg_xrf_tube *tube, double e_kev);

/* Ebel K and L anode lines (excited ones with a radiative rate > 0), after
 * window and filter. Writes up to `max` entries; returns the number of lines
 * (may exceed max: call again with a bigger array) or a negative error code. */
int mg_xrf_tube_lines(const mg_xrf_tube *tube, mg_xrf_tube_line *out, size_t max);

/* The discretised primary beam on the sample: continuum bins of width bin_kev
 * from 1 keV to kV (flux = N(E)·ΔE at the bin centre) followed by the anode
 * lines (width 0), each × 1e-3 mA/µA × beam_sr × the tube→sample path
 * transmission: photons/s striking the sample per µA. */
typedef struct mg_xrf_beam {
	size_t n;
	double *energy_kev;
	double *flux;      /* photons/s per µA */
	double *width_kev; /* bin width, 0 for anode lines */
	size_t ncont;      /* entries [0, ncont) are continuum bins, the rest lines */
} mg_xrf_beam;

/* New beam (caller frees with mg_xrf_beam_free). 0 or negative error. */
int mg_xrf_beam_new(const mg_xrf_tube *tube, const mg_xrf_geometry *geom, double bin_kev,
                    mg_xrf_beam **out);
void mg_xrf_beam_free(mg_xrf_beam *beam);

/* Transmission of `path_mm` of the given atmosphere at e_kev (1 for vacuum). */
double mg_xrf_atmosphere_transmission(enum mg_xrf_atmosphere atm, double path_mm, double e_kev);

/* ---------------------------------------------------------------- sample physics */

/* One fluorescence line of one element of one layer. Rates per µA. */
typedef struct mg_xrf_line {
	int z;
	int line;          /* xraylib IUPAC macro */
	int layer;         /* 0..ncoat-1 = coatings (0 outermost), ncoat = substrate */
	double energy_kev;
	double primary;    /* photons/s at the detector window, primary fluorescence */
	double secondary;  /* photons/s at the detector window, secondary fluorescence */
	double detected;   /* counts/s recorded before dead time: efficiency × (primary + secondary),
	                      full-energy peak plus its escape peaks (filled by the model) */
} mg_xrf_line;

/* Scattered tube radiation arriving at the detector window. */
typedef struct mg_xrf_peak {
	double energy_kev;
	double rate;            /* photons/s at the detector window (per µA in a model) */
	double extra_sigma_kev; /* Gaussian broadening added to the detector's (Compton, bin width) */
} mg_xrf_peak;

typedef struct mg_xrf_emission {
	size_t nlines;
	mg_xrf_line *lines;
	size_t npeaks;
	mg_xrf_peak *scatter; /* Rayleigh and Compton, one of each per beam entry (layers merged) */
	double rayleigh;      /* totals at the window, photons/s per µA */
	double compton;
} mg_xrf_emission;

/* Sherman primary + secondary fluorescence and scatter of `beam` by `sample`
 * in `geom` (Ω_d/4π and the sample→detector path included). flags: the
 * MG_XRFSIM_NO_SECONDARY / NO_SCATTER bits. Caller frees with mg_xrf_emission_free. */
int mg_xrf_sample_emission(const mg_xrf_sample *sample, const mg_xrf_geometry *geom,
                           const mg_xrf_beam *beam, unsigned flags, mg_xrf_emission **out);
void mg_xrf_emission_free(mg_xrf_emission *em);

/* Secondary/primary ratio S/P for one analyte line (z, IUPAC line) in a thick
 * homogeneous layer excited by monochromatic e0_kev, all lines of all elements
 * of the layer as sources (reference §2.2). 0 if the line is not excited. */
double mg_xrf_secondary_ratio(const mg_xrf_layer *layer, int z, int line, double e0_kev,
                              double psi1_deg, double psi2_deg);

/* de Boer's L(μ1, μ2) for a layer of mass thickness d (g/cm², INFINITY = thick),
 * μ's in cm²/g: L(a,b) + L(b,a) = ∫∫ exp(−a z − b z′)·E1(μj |z − z′|) dz dz′ over
 * [0,d]². Only that sum is meaningful (for very thin layers each call returns
 * half of it). Exposed for tests. */
double mg_xrf_deboer_l(double mu1, double mu2, double muj, double d);

/* Name of an IUPAC line macro, "KL3", "L3M5" (static string), "?" if unknown. */
const char *mg_xrf_line_name(int line);

/* Solid angle fraction Ω_d/4π of the detector seen from the sample. */
double mg_xrf_geometry_solid_fraction(const mg_xrf_geometry *geom);

/* ---------------------------------------------------------------- detector */

/* Detection efficiency at e_kev: Be window × dead layer × photo-absorption in
 * the active thickness (escape events included: they are detected). */
double mg_xrf_detector_efficiency(const mg_xrf_detector *det, double e_kev);
/* FWHM in keV: sqrt(noise² + 2.3548²·Fano·0.00385·E). */
double mg_xrf_detector_fwhm(const mg_xrf_detector *det, double e_kev);
/* Si Kα escape probability per photon entering the active layer (Reed &
 * Ware, thick detector, normal incidence); *kb (may be NULL) gets the Si Kβ
 * one. 0 below the Si K edge. */
double mg_xrf_escape_fraction(double e_kev, double *kb);

/* Detected spectrum of peaks arriving at the detector window: efficiency,
 * escape peaks (the parent loses them), Gaussian + tail + step integrated over
 * each channel. rate_ch[nchan] is overwritten (counts/s per channel);
 * *rate_above (may be NULL) gets the detected rate above the last channel.
 * Events below det->lld_kev are dropped. flags: NO_ESCAPE, NO_TAIL.
 * 0 or negative error. */
int mg_xrf_detector_response(const mg_xrf_detector *det, const mg_xrf_axis *axis,
                             const mg_xrf_peak *peaks, size_t npeaks, unsigned flags,
                             double *rate_ch, double *rate_above);

/* ---------------------------------------------------------------- model */

typedef struct mg_xrfsim_model mg_xrfsim_model;

/* Build the expected spectrum for `cfg` (copied): 0 and *out, or a negative
 * error (bad config: MG_ERR_ARG with a detail). Free with mg_xrfsim_model_free. */
int mg_xrfsim_model_new(const mg_xrfsim_config *cfg, mg_xrfsim_model **out);
void mg_xrfsim_model_free(mg_xrfsim_model *m);

/* Bring the model to `cfg`. If only tube.current_ua differs this is an O(nchan)
 * rescale; otherwise a full rebuild (the FFT plan is kept if nchan is unchanged).
 * On failure the model is left as it was. */
int mg_xrfsim_model_update(mg_xrfsim_model *m, const mg_xrfsim_config *cfg);
/* Change the tube current only (cheap). 0 or MG_ERR_ARG. */
int mg_xrfsim_model_set_current(mg_xrfsim_model *m, double current_ua);

/* The configuration the model was built for (owned by the model). */
const mg_xrfsim_config *mg_xrfsim_model_config(const mg_xrfsim_model *m);

/* Rates at the model's current tube current, per second of real time. */
typedef struct mg_xrfsim_rates {
	double input;         /* true input rate n: photons/s detected above the LLD (ICR) */
	double fast;          /* fast-channel events/s: n·exp(−n·τ_pileup) */
	double slow;          /* events/s recorded in the spectrum (OCR × live fraction) */
	double live_fraction; /* accumulation (live) time / real time */
	double dead_fraction; /* 1 − slow/fast, as a DP5 reports it */
	double pileup;        /* recorded piled-up events/s (part of slow) */
	double above;         /* accepted events/s above the last channel (not in slow) */
} mg_xrfsim_rates;
void mg_xrfsim_model_rates(const mg_xrfsim_model *m, mg_xrfsim_rates *out);

enum mg_xrfsim_spectrum {
	MG_XRFSIM_DETECTED = 0, /* counts/s per channel before pile-up and dead time */
	MG_XRFSIM_RECORDED = 1, /* mean counts per second of real time per channel: what acquire draws */
	MG_XRFSIM_PILEUP = 2,   /* the piled-up part of RECORDED */
};
/* A spectrum of the model (owned by the model, valid until it changes); *n = nchan. */
const double *mg_xrfsim_model_spectrum(const mg_xrfsim_model *m, enum mg_xrfsim_spectrum which,
                                       size_t *n);

/* The fluorescence lines (rates per µA), owned by the model; *n gets the count. */
const mg_xrf_line *mg_xrfsim_model_lines(const mg_xrfsim_model *m, size_t *n);
/* Sum of `detected` (per µA) over the lines of element z whose IUPAC macro lies
 * between line_a and line_b inclusive, in either order (e.g. KL1_LINE, KP5_LINE =
 * the K family; L3M4_LINE, L3M5_LINE = Lα). Convenience for tests and docs. */
double mg_xrfsim_model_line_sum(const mg_xrfsim_model *m, int z, int line_a, int line_b);

/* ---------------------------------------------------------------- acquisition */

typedef struct mg_xrfsim_rng mg_xrfsim_rng;
/* A random stream (Mersenne twister); same seed, same sequence of calls →
 * same counts. Free with mg_xrfsim_rng_free. NULL on no memory. */
mg_xrfsim_rng *mg_xrfsim_rng_new(uint64_t seed);
void mg_xrfsim_rng_free(mg_xrfsim_rng *rng);

/* The DP5-style counters of one acquisition. Zero it to start. */
typedef struct mg_xrfsim_counters {
	double real_s;    /* real time elapsed */
	double live_s;    /* accumulation (live) time */
	uint64_t fast;    /* fast-channel events (≥ slow) */
	uint64_t slow;    /* events added to the spectrum */
} mg_xrfsim_counters;

/* Advance by dt_real_s (>= 0) of real time: draw Poisson counts for every
 * channel and add them to counts[nchan] (saturating at UINT32_MAX), update the
 * counters. nchan must equal the model's. 0 or MG_ERR_ARG. */
int mg_xrfsim_acquire(const mg_xrfsim_model *m, mg_xrfsim_counters *c, double dt_real_s,
                      mg_xrfsim_rng *rng, uint32_t *counts, size_t nchan);
/* The same with a double array. */
int mg_xrfsim_acquire_f64(const mg_xrfsim_model *m, mg_xrfsim_counters *c, double dt_real_s,
                          mg_xrfsim_rng *rng, double *counts, size_t nchan);

/* Real time needed to accumulate live_s of live time (exact: live time is
 * deterministic), or INFINITY if the live fraction is 0. */
double mg_xrfsim_real_for_live(const mg_xrfsim_model *m, double live_s);
/* Expected real time to record `slow_counts` events in the spectrum (the
 * caller stops at the first step reaching the preset), INFINITY if no rate. */
double mg_xrfsim_real_for_counts(const mg_xrfsim_model *m, double slow_counts);

#ifdef __cplusplus
}
#endif
#endif

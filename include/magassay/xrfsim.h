/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — the simulated ED-XRF spectrometer.
 *
 * Tube (Ebel continuum + anode lines) → sample (Sherman primary fluorescence,
 * secondary fluorescence, Rayleigh/Compton scatter, coating layers) → SDD
 * (efficiency, Gaussian + tail + step, Si escape) → pulse processor (pile-up,
 * dead time, fast/slow counters, live time) → Poisson counts. The physics up
 * to the detector is the physics layer's (magassay/xray.h, included); this
 * header is the simulator: its configuration, the library of samples, the
 * model (spectrum assembly, pile-up, pulse processor) and the acquisition.
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

#include "magassay/xray.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

#define MG_XRF_MIN_CHANNELS 256 /* the simulator's axis: MG_XRF_MIN_CHANNELS..MG_XRF_MAX_CHANNELS */

/* ---------------------------------------------------------------- config */

/* Model switches (mg_xrfsim_config.flags), for tests and what-if studies. */
enum {
	MG_XRFSIM_NO_SECONDARY = MG_XRF_NO_SECONDARY, /* no secondary fluorescence */
	MG_XRFSIM_NO_SCATTER = MG_XRF_NO_SCATTER,     /* no Rayleigh/Compton scatter of the tube spectrum */
	MG_XRFSIM_NO_ESCAPE = MG_XRF_NO_ESCAPE,       /* no Si escape peaks */
	MG_XRFSIM_NO_PILEUP = 1 << 3,                 /* no sum peaks (dead time still applies) */
	MG_XRFSIM_NO_TAIL = MG_XRF_NO_TAIL,           /* pure Gaussian peaks (no tail, no step) */
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

/* A sample of one layer from "Nd:24,Pr:6,Fe:66,Co:2,Dy:1,B:1[,density=7.5][,thickness=50]"
 * (mg_xrf_layer_parse's syntax; thickness default: infinitely thick), named "custom".
 * 0 or MG_ERR_FORMAT (detail gives the byte offset), MG_ERR_ARG. */
int mg_xrfsim_sample_parse(const char *spec, mg_xrf_sample *out);

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

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif

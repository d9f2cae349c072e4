/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — the X-ray physics of the suite (layer `physics`, sources in physics/).
 *
 * What the simulated spectrometer (drivers/sim, magassay/xrfsim.h) and the
 * analysis (analysis/xrf, analysis/quant) both need, in one place: line
 * names and shells and the xraylib data behind them (element symbols are
 * core's: core/elements.h); tube spectra (Ebel; the analysis engine's simple
 * Kramers beam) and the beam on the sample; atmosphere; detector efficiency,
 * resolution, Si escape and the channel-integrated line shape; Sherman
 * primary fluorescence, scatter, secondary fluorescence (de Boer);
 * fluorescence cross-section tables; the instrument description
 * (magassay/instrument.h).
 * docs/simulator-physics.md gives the equations and the numbers checked.
 *
 * Units everywhere: energy keV, length as named in the field (µm, mm),
 * density g/cm³, angles in degrees from the sample surface, current µA.
 * Lines and shells are numbered as in xraylib: IUPAC line macros
 * (<xraylib-lines.h>: KL3_LINE = −3 ...) and shells (<xraylib-shells.h>:
 * K_SHELL = 0 ...); only physics/ calls xraylib itself.
 *
 * Threads: every function here is re-entrant. xraylib 4 keeps no mutable
 * global state; the fluorescence table cache is guarded by its own mutex. */
#ifndef MAGASSAY_XRAY_H
#define MAGASSAY_XRAY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

#define MG_XRF_MAX_ELEMENTS 24 /* elements per layer */
#define MG_XRF_MAX_COATINGS 4  /* coating layers above the substrate */
#define MG_XRF_MAX_CHANNELS 8192

/* Model switches of mg_xrf_sample_emission and mg_xrf_detector_response (the
 * simulator's MG_XRFSIM_NO_* flags have the same values). */
enum {
	MG_XRF_NO_SECONDARY = 1 << 0, /* no secondary fluorescence */
	MG_XRF_NO_SCATTER = 1 << 1,   /* no Rayleigh/Compton scatter of the tube spectrum */
	MG_XRF_NO_ESCAPE = 1 << 2,    /* no Si escape peaks */
	MG_XRF_NO_TAIL = 1 << 4,      /* pure Gaussian peaks (no tail, no step) */
};

/* ---------------------------------------------------------------- lines */

/* xraylib's Siegbahn line groups (xraylib.h KA_LINE ...: intensity-weighted
 * mean energies), for mg_xrf_line_energy without including xraylib.h. */
enum { MG_XRF_KA_GROUP = 0, MG_XRF_KB_GROUP = 1, MG_XRF_LA_GROUP = 2, MG_XRF_LB_GROUP = 3 };

/* Name of an IUPAC line macro, "KL3", "L3M5" (static string), "?" if unknown. */
const char *mg_xrf_line_name(int line);
/* The shell (K_SHELL .. M5_SHELL) whose vacancy an IUPAC line (−1 .. −219) fills. */
int mg_xrf_line_shell(int line);

/* xraylib's data, 0 where it has none (never an error). */
double mg_xrf_line_energy(int z, int line);    /* keV */
double mg_xrf_edge_energy(int z, int shell);   /* keV */
double mg_xrf_radrate(int z, int line);        /* radiative rate of the line in its shell */
double mg_xrf_fluor_yield(int z, int shell);
double mg_xrf_element_density(int z);          /* g/cm³ */
double mg_xrf_mu(int z, double e_kev);         /* total mass attenuation, cm²/g */
double mg_xrf_mu_photo(int z, double e_kev);   /* photo-absorption, cm²/g */
/* Production cross section of one line (Kissel photo-ionisation, cascades and
 * Coster–Kronig transfers included), cm²/g; 0 below the shell's edge. */
double mg_xrf_fluor_cs(int z, int line, double e_kev);
/* Compton-scattered energy of e_kev photons at theta_rad. */
double mg_xrf_compton_energy(double e_kev, double theta_rad);
/* Σ w_i·μ_i(E) of a mixture (mass fractions w, not renormalised), cm²/g. */
double mg_xrf_mix_mu(int n, const int *z, const double *w, double e_kev);

/* ---------------------------------------------------------------- fluorescence tables */

/* Production cross sections (mg_xrf_fluor_cs) of line (z, line) at every
 * energy e[0..n) above `above_kev` into out[n]: 0 at and below it, and where
 * xraylib gives nothing positive and finite. */
void mg_xrf_fluor_table(int z, int line, double above_kev, const double *e, size_t n, double *out);
/* The same from a process-wide cache keyed by (z, line, the grid): the tables
 * do not depend on the sample, so plans that differ only by their matrix
 * reuse them. `grid` = mg_xrf_grid_hash(e, n); `above_kev` must be the same
 * for a given (z, line) (callers pass the line energy or its edge, which give
 * the same table). Bounded: past its size, tables are computed and not kept. */
void mg_xrf_fluor_table_cached(int z, int line, double above_kev, const double *e, size_t n,
                               unsigned long long grid, double *out);
/* Fingerprint of an energy grid (FNV-1a over its bytes and size). */
unsigned long long mg_xrf_grid_hash(const double *e, size_t n);

/* ---------------------------------------------------------------- plain types */

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

/* Silicon drift detector and its pulse processor (DP5-like). The physics
 * here uses the sensor and line-shape fields and the LLD; the dead and
 * pile-up times are the simulator's pulse processor. */
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

/* An energy axis: channel k (0..nchan-1) is the bin centred on
 * offset_kev + gain_kev·k, width gain_kev. */
typedef struct mg_xrf_axis {
	int nchan;         /* 1..MG_XRF_MAX_CHANNELS (the simulator wants MG_XRF_MIN_CHANNELS..) */
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

/* ---------------------------------------------------------------- compositions */

/* Fill a layer from a composition "Ni:100,density=8.9[,thickness=10]":
 * element symbol ':' wt% (','/';'/blank separated, each element once, H..Pu);
 * density in g/cm³ (default: mass-weighted harmonic mean of the solid
 * elements' densities), thickness in µm (0 if absent). Fractions are
 * normalised to 1; a sum outside 100 ± 0.5 is logged as a warning.
 * 0 or MG_ERR_FORMAT (detail gives the byte offset) / MG_ERR_ARG. */
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

/* ---------------------------------------------------------------- beam */

/* A discretised primary beam: continuum bins (flux = N(E)·ΔE at the bin
 * centre) followed by lines (width 0). */
typedef struct mg_xrf_beam {
	size_t n;
	double *energy_kev;
	double *flux;      /* photons/s per µA (Ebel beams); relative photons (the Kramers beam) */
	double *width_kev; /* bin width, 0 for lines */
	size_t ncont;      /* entries [0, ncont) are continuum bins, the rest lines */
} mg_xrf_beam;

/* The Ebel beam on the sample: continuum bins of width bin_kev from 1 keV to
 * kV followed by the anode lines, each × 1e-3 mA/µA × beam_sr × the
 * tube→sample path transmission: photons/s striking the sample per µA.
 * Caller frees with mg_xrf_beam_free. 0 or negative error. */
int mg_xrf_beam_new(const mg_xrf_tube *tube, const mg_xrf_geometry *geom, double bin_kev,
                    mg_xrf_beam **out);
/* The same physics on a grid with a bin boundary at every absorption edge
 * (K..M5) of the elements z[0..nz) and of the anode, and at the K..L3 edges
 * of the filter, so that no bin straddles an edge: bins of about bin_kev
 * between 1 keV, the edges and kV (the FP model's beam). */
int mg_xrf_beam_new_edges(const mg_xrf_tube *tube, const mg_xrf_geometry *geom, const int *z,
                          size_t nz, double bin_kev, mg_xrf_beam **out);
/* The analysis engine's excitation, a deliberately simple tube model that
 * only sets the relative excitation of sub-shells and the matrix term of line
 * ratios: Kramers continuum za·(kV/E − 1) in 0.25 keV bins from 1 keV, anode
 * K and L3 lines with a rough yield, Be window and filter (filter "" = none):
 * relative photons. A different model from mg_xrf_beam_new (kept apart so the
 * engine's numbers do not move). mono_kev > 0: one line of weight 1 instead. */
int mg_xrf_beam_new_kramers(double mono_kev, const char *anode, double kv, double be_um,
                            const char *filter, double filter_um, mg_xrf_beam **out);
void mg_xrf_beam_free(mg_xrf_beam *beam);

/* ---------------------------------------------------------------- atmosphere */

/* Transmission of `path_mm` of the given atmosphere at e_kev (1 for vacuum).
 * Air: N 75.53, O 23.18, Ar 1.28, C 0.01 wt%. */
double mg_xrf_atmosphere_transmission(enum mg_xrf_atmosphere atm, double path_mm, double e_kev);
/* μ/ρ of dry air as the analysis engine's detector model has it (N 75.53,
 * O 23.18, Ar 1.29 wt% rounded to 0.01 %, no C), cm²/g: the air path of
 * mg_xrf_sensor_efficiency. Within 1e-4 of the atmosphere's; kept so the
 * engine's numbers do not move. */
double mg_xrf_engine_air_mu(double e_kev);

/* ---------------------------------------------------------------- detector */

/* Sensor materials of mg_xrf_sensor_efficiency. */
enum mg_xrf_sensor {
	MG_XRF_SENSOR_SI = 0,
	MG_XRF_SENSOR_CDTE = 1, /* Cd 46.83, Te 53.17 wt%, 5.85 g/cm³ */
	MG_XRF_SENSOR_GE = 2,
};
/* "Si", "CdTe", "Ge" (any case) → the sensor; −1 if unknown. */
int mg_xrf_sensor_parse(const char *name, size_t len);
const char *mg_xrf_sensor_name(enum mg_xrf_sensor s); /* "Si", "CdTe", "Ge" */

/* Detection efficiency at e_kev: Be window, dead layer of the sensor material
 * and an air path in front of the detector (dry air of mg_xrf_engine_air_mu,
 * 1.205e-3 g/cm³) in one exponent, only the thicknesses > 0 counting, ×
 * photo-absorption in the active thickness (escape events included: they
 * are detected); thick_mm <= 0 = every photon absorbed (an ideal detector). */
double mg_xrf_sensor_efficiency(enum mg_xrf_sensor s, double be_um, double dead_layer_um,
                                double thick_mm, double air_mm, double e_kev);
/* The same for a simulator detector (Si, no air); 0 without an active layer. */
double mg_xrf_detector_efficiency(const mg_xrf_detector *det, double e_kev);
/* FWHM in keV: sqrt(noise² + 2.3548²·Fano·0.00385·E). */
double mg_xrf_detector_fwhm(const mg_xrf_detector *det, double e_kev);
/* Si Kα escape probability per photon entering the active layer (Reed &
 * Ware, thick detector, normal incidence); *kb (may be NULL) gets the Si Kβ
 * one. 0 below the Si K edge. */
double mg_xrf_escape_fraction(double e_kev, double *kb);
/* Energies of the Si Kα and Kβ escape (what an escape peak lies below its line). */
void mg_xrf_escape_energies(double *ka_kev, double *kb_kev);

/* Solid angle fraction Ω/4π of a disc of area_mm2 on axis at distance_mm;
 * 0 unless both are > 0. */
double mg_xrf_solid_fraction(double area_mm2, double distance_mm);
/* The same for the detector of a geometry. */
double mg_xrf_geometry_solid_fraction(const mg_xrf_geometry *geom);

/* A peak arriving at the detector window. */
typedef struct mg_xrf_peak {
	double energy_kev;
	double rate;            /* photons/s at the detector window (per µA in a model) */
	double extra_sigma_kev; /* Gaussian broadening added to the detector's (Compton, bin width) */
} mg_xrf_peak;

/* Detected spectrum of peaks arriving at the detector window: efficiency,
 * escape peaks (the parent loses them), Gaussian + tail + step integrated over
 * each channel. rate_ch[nchan] is overwritten (counts/s per channel);
 * *rate_above (may be NULL) gets the detected rate above the last channel.
 * Events below det->lld_kev are dropped. flags: MG_XRF_NO_ESCAPE, MG_XRF_NO_TAIL.
 * 0 or negative error. */
int mg_xrf_detector_response(const mg_xrf_detector *det, const mg_xrf_axis *axis,
                             const mg_xrf_peak *peaks, size_t npeaks, unsigned flags,
                             double *rate_ch, double *rate_above);

/* ---------------------------------------------------------------- sample emission */

/* One fluorescence line of one element of one layer. Rates per µA. */
typedef struct mg_xrf_line {
	int z;
	int line;          /* xraylib IUPAC macro */
	int layer;         /* 0..ncoat-1 = coatings (0 outermost), ncoat = substrate */
	double energy_kev;
	double primary;    /* photons/s at the detector window, primary fluorescence */
	double secondary;  /* photons/s at the detector window, secondary fluorescence */
	double detected;   /* counts/s recorded before dead time: efficiency × (primary + secondary),
	                      full-energy peak plus its escape peaks (filled by the simulator's model) */
} mg_xrf_line;

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
 * MG_XRF_NO_SECONDARY / MG_XRF_NO_SCATTER bits. Caller frees with
 * mg_xrf_emission_free. */
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

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif

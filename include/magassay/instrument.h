/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — the instrument description: what the physics needs to know
 * about a spectrometer (X-ray tube, geometry, detector, atmosphere), for the
 * quantification and the analysis (layer `physics`, physics/instrument.c).
 *
 * Read from an INI file (`--instrument FILE`, docs/instrument-file.md) through
 * the suite's one INI reader:
 *
 *   [instrument] name = benchtop-sdd
 *   [tube]       anode = Rh, kv = 40, ua = 20, window_be_um = 125,
 *                filter = none | Al:100 (element:thickness in µm),
 *                electron_angle_deg = 75, anode_takeoff_deg = 15, beam_sr = 2.5e-3
 *   [geometry]   incidence_deg = 45, takeoff_deg = 45
 *   [detector]   material = Si | CdTe | Ge, thickness_mm = 0.5, be_window_um = 12.5,
 *                dead_layer_um = 0.1, area_mm2 = 25, distance_mm = 20,
 *                noise_kev = 0.08, fano = 0.114
 *   [atmosphere] path = vacuum | air | helium, path_mm = 20, tube_path_mm = 10
 *
 * Strict like every reader of the suite: an unknown section or key, a
 * malformed or out-of-range value or a key given twice is an error naming the
 * line. Values not given keep the defaults of mg_instrument_desc_default()
 * (a benchtop SDD with a Rh tube, examples/instruments/benchtop-sdd.ini).
 *
 * Spectrum files that carry some of these values (kV, µA, anode, filter,
 * angles, atmosphere, detector thickness, dead layer, Be window) take part
 * (mg_instrument_desc_apply_spectrum): the spectrum records what was measured,
 * so its values win, and every disagreement with the file is reported as a
 * conflict.
 *
 * Units: keV, kV, µA, µm / mm as named, degrees from the sample surface. */
#ifndef MAGASSAY_INSTRUMENT_H
#define MAGASSAY_INSTRUMENT_H

#include <stddef.h>

#include "magassay/spectrum.h"
#include "magassay/xray.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

typedef enum mg_instr_path {
	MG_INSTR_VACUUM = 0,
	MG_INSTR_AIR = 1,
	MG_INSTR_HELIUM = 2,
} mg_instr_path;

/* One field of the description (bit index into mg_instrument_desc.set). */
typedef enum mg_instr_field {
	MG_INSTR_NAME = 0,
	MG_INSTR_ANODE, MG_INSTR_KV, MG_INSTR_UA, MG_INSTR_TUBE_BE, MG_INSTR_FILTER,
	MG_INSTR_ELECTRON_ANGLE, MG_INSTR_ANODE_TAKEOFF, MG_INSTR_BEAM_SR,
	MG_INSTR_INCIDENCE, MG_INSTR_TAKEOFF,
	MG_INSTR_DET_MATERIAL, MG_INSTR_DET_THICKNESS, MG_INSTR_DET_BE, MG_INSTR_DET_DEAD,
	MG_INSTR_DET_AREA, MG_INSTR_DET_DISTANCE, MG_INSTR_DET_NOISE, MG_INSTR_DET_FANO,
	MG_INSTR_PATH, MG_INSTR_PATH_MM, MG_INSTR_TUBE_PATH_MM,
	MG_INSTR_NFIELDS
} mg_instr_field;

typedef struct mg_instrument_desc {
	char name[64];
	/* [tube] */
	char anode[4];             /* "Rh" */
	double kv;                 /* tube voltage */
	double ua;                 /* emission current (intensities are normalised by it) */
	double window_be_um;       /* tube Be window */
	char filter[4];            /* primary filter element, "" = none */
	double filter_um;
	double electron_angle_deg; /* Ebel α (electron incidence on the anode, from its surface) */
	double anode_takeoff_deg;  /* Ebel ε (X-ray take-off from the anode surface) */
	double beam_sr;            /* solid angle of the tube beam on the sample (absolute scale only) */
	/* [geometry] */
	double incidence_deg;      /* ψ1, beam to sample surface */
	double takeoff_deg;        /* ψ2, sample surface to detector */
	/* [detector] */
	char det_material[8];      /* "Si", "CdTe", "Ge" */
	double det_thickness_mm;
	double det_be_um;
	double det_dead_layer_um;
	double det_area_mm2;
	double det_distance_mm;
	double noise_kev;          /* resolution (optional; NAN = not given) */
	double fano;
	/* [atmosphere] */
	mg_instr_path path;
	double path_mm;            /* sample → detector */
	double tube_path_mm;       /* tube → sample */
	/* bookkeeping */
	unsigned long set;         /* bit (1ul << mg_instr_field) for every value given by the file */
	unsigned long from_spectrum; /* bit for every value taken from a spectrum */
} mg_instrument_desc;

/* The default description: benchtop SDD + Rh tube (examples/instruments/benchtop-sdd.ini):
 * Rh 40 kV 20 µA, Be 125 µm, no filter, α 75° / ε 15°, beam 2.5e-3 sr; ψ1 = ψ2 = 45°;
 * Si 0.5 mm, Be 12.5 µm, dead layer 0.1 µm, 25 mm² at 20 mm, noise 0.08 keV, Fano 0.114;
 * air, 20 mm to the detector, 10 mm from the tube. `set` = 0. */
void mg_instrument_desc_default(mg_instrument_desc *d);

/* Parse an instrument file held in memory (name is used in details), on top of
 * the defaults. 0, or MG_ERR_FORMAT with "NAME line N: ..." (nothing written to
 * *out on failure), MG_ERR_ARG for NULL arguments. */
int mg_instrument_desc_parse(const char *text, size_t len, const char *name, mg_instrument_desc *out);
/* Read and parse a file. MG_ERR_NOT_FOUND / MG_ERR_IO / MG_ERR_FORMAT. */
int mg_instrument_desc_read_file(const char *path, mg_instrument_desc *out);
/* Write as INI text (every field) into buf; returns the length it needs
 * (snprintf-like: output truncated when >= size). */
int mg_instrument_desc_format(const mg_instrument_desc *d, char *buf, size_t size);

/* Check consistency (angles in (0, 90], kV 2..100, known anode, filter and
 * detector material, positive thicknesses). 0 or MG_ERR_ARG with a detail. */
int mg_instrument_desc_check(const mg_instrument_desc *d);

/* A value the instrument file and a spectrum disagree on. */
typedef struct mg_instrument_conflict {
	mg_instr_field field;
	char key[32];            /* "tube.kv" */
	char file_value[48];     /* as the instrument file gave it */
	char spectrum_value[48]; /* as the spectrum carries it (this one is used) */
} mg_instrument_conflict;

/* Take the values a spectrum carries (acq: anode, tube_kv, tube_ua, filter,
 * incidence/takeoff angles, atmosphere; detector thickness, dead layer and Be
 * window from MSA #TACTLYR/#TDEADLYR/#TBEWIND or Bruker .spx headers; the
 * instrument.detector text "... 500 um ..., 25 mm2, 12.5 um Be"). A value that
 * differs from one the instrument file set (by more than 0.5 %) is a
 * conflict: written to out[] (up to max) and counted. The spectrum's value is
 * used either way. Returns the number of conflicts (>= 0), or MG_ERR_ARG. */
int mg_instrument_desc_apply_spectrum(mg_instrument_desc *d, const mg_spectrum *s,
                                      mg_instrument_conflict *out, size_t max);

/* "tube.kv", "detector.thickness_mm", ... (static). */
const char *mg_instr_field_key(mg_instr_field f);

/* The description as the physics layer's tube (current, window, filter,
 * Ebel's angles; line constant 0 = the default), geometry (angles, beam solid
 * angle, detector area and distance, atmosphere and its two paths) and sensor
 * material. mg_instrument_desc_to_analysis (magassay/analysis.h) fills an
 * analysis configuration. */
void mg_instrument_desc_tube(const mg_instrument_desc *d, mg_xrf_tube *tube);
void mg_instrument_desc_geometry(const mg_instrument_desc *d, mg_xrf_geometry *geom);
enum mg_xrf_sensor mg_instrument_desc_sensor(const mg_instrument_desc *d);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif

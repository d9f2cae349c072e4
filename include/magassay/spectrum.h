/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — the spectrum model.
 *
 * A spectrum is a plain struct owned by the caller through mg_spectrum_new()
 * and mg_spectrum_free(). Every string field is either NULL ("not known") or
 * a heap string owned by the spectrum; set it with mg_str_set(). Every double
 * field that may be unknown holds NAN when unknown (test with isnan()).
 *
 * Whatever a file carries that has no named field here goes into `meta`, an
 * ordered key/value list with namespaced keys, so writers of the same format
 * put it back:  "msa.##FANO", "mca.header.TAG", "dp5.config.TPEA" (comment =
 * the description text), "dp5.status.Fast Count", "spx.DetectorThickness". */
#ifndef MAGASSAY_SPECTRUM_H
#define MAGASSAY_SPECTRUM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

#define MG_SPECTRUM_MAX_CHANNELS 16384

/* ---- ordered key/value list ------------------------------------------ */
typedef struct mg_kv {
	char *key;
	char *value;
	char *comment; /* optional (NULL): e.g. the description after a DP5 config entry */
} mg_kv;

typedef struct mg_kvlist {
	mg_kv *items;
	size_t count;
	size_t capacity;
} mg_kvlist;

/* Replace the first entry with this key, or append. comment may be NULL. */
int mg_kvlist_set(mg_kvlist *l, const char *key, const char *value, const char *comment);
/* Append even if the key exists (files may repeat keys, e.g. #TITLE). */
int mg_kvlist_add(mg_kvlist *l, const char *key, const char *value, const char *comment);
/* First value with this key, or NULL. */
const char *mg_kvlist_get(const mg_kvlist *l, const char *key);
const mg_kv *mg_kvlist_find(const mg_kvlist *l, const char *key);
int mg_kvlist_copy(mg_kvlist *dst, const mg_kvlist *src); /* dst is cleared first */
void mg_kvlist_clear(mg_kvlist *l);

/* ---- the spectrum ---------------------------------------------------- */

/* E(ch) = offset + gain*ch + quad*ch*ch, ch the 0-based channel index, keV. */
typedef struct mg_energy_cal {
	int valid; /* 0: no calibration known, the axis is channels only */
	double offset_kev;
	double gain_kev;
	double quad_kev;
} mg_energy_cal;

typedef struct mg_instrument {
	char *model;    /* "DP5", "X-123SDD", "XFlash 430" ... */
	char *serial;
	char *firmware; /* "6.08" or "6.08/FPGA 6.04" as the source gives it */
	char *detector; /* detector description, e.g. "SDD 25 mm2 500 um" */
} mg_instrument;

typedef struct mg_acq_settings {
	char *anode;             /* tube anode element symbol, e.g. "Rh" */
	double tube_kv;
	double tube_ua;
	char *filter;            /* "Al:100" (element:thickness_um), "none" */
	double peaking_time_us;
	double preset_time_s;    /* live/accumulation-time preset */
	double preset_real_s;
	double preset_counts;
	double takeoff_deg;
	double incidence_deg;
	char *atmosphere;        /* "vacuum", "air", "helium" */
} mg_acq_settings;

typedef struct mg_sample_info {
	char *sample_id;
	char *batch_id;
	char *operator_name;
	char *description;       /* title / free text */
} mg_sample_info;

typedef struct mg_spectrum {
	size_t nchan;            /* 1 .. MG_SPECTRUM_MAX_CHANNELS */
	double *counts;          /* nchan values, >= 0, finite */
	mg_energy_cal cal;
	double live_time_s;      /* NAN when unknown */
	double real_time_s;      /* NAN when unknown */
	char start_time[40];     /* ISO 8601; "…Z" when known to be UTC, no zone when the source
	                            gave local time; "" when unknown */
	mg_instrument instrument;
	mg_acq_settings acq;
	mg_sample_info sample;
	mg_kvlist meta;          /* everything else the source carried, in order */
} mg_spectrum;

/* A new spectrum with nchan zero counts, no calibration, all fields unknown.
 * Returns NULL (and records the detail) for nchan outside 1..MAX or no memory. */
mg_spectrum *mg_spectrum_new(size_t nchan);
void mg_spectrum_free(mg_spectrum *s);
/* Change the channel count; new channels are zero. Other fields are kept. */
int mg_spectrum_resize(mg_spectrum *s, size_t nchan);
/* Deep copy, or NULL. */
mg_spectrum *mg_spectrum_dup(const mg_spectrum *s);

/* Set an owned string field (NULL clears it). */
int mg_str_set(char **field, const char *value);

double mg_spectrum_total(const mg_spectrum *s);
/* Energy of a (fractional) channel; NAN without calibration. */
double mg_spectrum_energy(const mg_spectrum *s, double channel);
/* The channel whose centre is nearest to energy e (may be out of range; -1 without calibration). */
long mg_spectrum_channel(const mg_spectrum *s, double e_kev);

/* Check invariants: channel count, finite non-negative counts, sane times
 * and calibration. MG_OK or MG_ERR_FORMAT with a detail. */
int mg_spectrum_validate(const mg_spectrum *s);

/* Fill a least-squares calibration (linear if npoints == 2 or quadratic is
 * false, else quadratic) through (channel, energy) pairs. */
int mg_energy_cal_fit(mg_energy_cal *cal, const double *channel, const double *energy_kev,
                      size_t npoints, int quadratic);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif

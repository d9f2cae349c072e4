/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — offline reprocessing: recompute the results of stored XRF
 * spectra with the chosen calibration and the current software, as new result
 * versions (old ones are kept), and report what changed.
 *
 * The run walks the selection page by page (memory does not grow with the
 * archive), hands spectra to worker threads that share the quantification
 * objects and keep their own analysis contexts and plans, and writes every
 * result from the calling thread as soon as it is ready (one transaction per
 * result: an interrupted run loses at most the spectra in flight).
 *
 * Idempotent and resumable: every result carries a key (SHA-256 of the
 * software version, the calibration, the settings and the spectrum's SHA-256).
 * A measurement whose latest result already has the key of this run is up to
 * date and is not recomputed; running the same command again writes nothing,
 * and a run restarted after a crash or a kill goes on where it stopped.
 *
 * Sharding: shard K of N takes the measurements whose UUID hashes (FNV-1a 64)
 * to K-1 modulo N; shards are disjoint, their union is the whole selection,
 * and each measurement's result does not depend on the shard that made it.
 *
 * The change report compares, for every selected measurement whose latest
 * result has this run's key, that result with the version before it:
 * per-element shifts, and each sample whose grade or QC flags changed. So the
 * report of a resumed run (or of the union of shards) is the report of one
 * uninterrupted run. docs/reprocessing.md. */
#ifndef MAGASSAY_REPROCESS_H
#define MAGASSAY_REPROCESS_H

#include <stddef.h>

#include "magassay/store.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

#define MG_REPROCESS_MAX_ELEMENTS 32

/* Progress, reported from the calling thread after each result (and at most
 * every ~0.25 s otherwise). */
typedef struct mg_reprocess_progress {
	long long total;       /* measurements selected (this shard) */
	long long done;        /* handled: recomputed + up to date + failed */
	long long recomputed;  /* new result versions (dry run: results computed) */
	long long up_to_date;
	long long failed;
	double elapsed_s;
	double rate;           /* spectra recomputed per second so far */
	double eta_s;          /* time left at that rate (NAN when unknown) */
} mg_reprocess_progress;

/* A sample whose classification moved. */
typedef struct mg_reprocess_change {
	long long measurement_id;
	const char *uuid;
	const char *batch_id, *sample_id;
	int old_version, new_version;   /* new_version 0 in a dry run */
	const char *old_grade, *new_grade; /* "" = none */
	const char *old_flags, *new_flags; /* the quantification's sample flags ("total-high,...") */
	int grade_changed, qc_changed;
} mg_reprocess_change;

/* Per element: how far the values moved (new − old, wt%). */
typedef struct mg_reprocess_element_change {
	char element[4];
	long long n;               /* measurements compared */
	double mean_delta;         /* mean of new − old, wt% */
	double mean_abs_delta;
	double max_abs_delta;
	long long max_measurement; /* where the largest shift is */
	double mean_rel_delta;     /* mean of (new − old)/old over old > 0 */
	long long n_rel;           /* measurements with old > 0 */
	long long n_significant;   /* |new − old| > 2·sqrt(σ_old² + σ_new²) */
} mg_reprocess_element_change;

typedef struct mg_reprocess_summary {
	long long total, recomputed, up_to_date, failed;
	long long compared;        /* measurements with a previous version to compare with */
	long long grade_changes, qc_changes;
	size_t nelements;
	mg_reprocess_element_change el[MG_REPROCESS_MAX_ELEMENTS];
	double elapsed_s;
	double first_result_s;     /* from the start to the first result written (NAN: none) */
	int interrupted;           /* the stop flag was raised: what was done is kept */
	char key_settings[65];     /* SHA-256 of the run's settings (the per-spectrum key adds the spectrum) */
} mg_reprocess_summary;

typedef struct mg_reprocess_config {
	const char *data_dir;      /* the store (NULL: the default data directory) */
	const char *db_url;        /* its database (NULL: as the store decides) */
	mg_measurement_filter filter; /* the selection; kind is always "xrf" */
	const char *calib_ref[2];  /* calibration records of the store (ID, KIND:NAME[@V], NAME):
	                              at most one quantification record ("quant": without one,
	                              each measurement's latest result's calibration, else
	                              standardless FP) and one energy or resolution record
	                              (without one: each file's energy calibration, else one
	                              found from the spectrum's peaks) */
	const char *instrument_path; /* NULL: <data dir>/instrument.ini, else the calibration's,
	                                else the default benchtop SDD */
	const char *grades_path;   /* NULL: <data dir>/grades.ini when present */
	const char *elements;      /* analysis elements (NULL: Fe,Co,Nd,Pr,Dy,Tb; Ni and Cu are added) */
	unsigned refine;           /* MG_REFINE_* refined on each spectrum (0: one plan per
	                              calibration, the fast path) */
	int jobs;                  /* worker threads (>= 1) */
	int shard_k, shard_n;      /* shard K of N, 1 <= K <= N; N = 0: no sharding */
	int dry_run;               /* compute and report, write nothing */
	int page;                  /* measurements per page (0: 512) */
	const volatile int *stop;  /* when it becomes non-zero: finish the spectra in flight, stop */
	/* callbacks, from the calling thread only (may be NULL) */
	void (*on_progress)(const mg_reprocess_progress *p, void *ud);
	void (*on_change)(const mg_reprocess_change *c, void *ud);
	void (*on_failure)(long long measurement_id, const char *uuid, const char *error, void *ud);
	void *userdata;
} mg_reprocess_config;

/* Defaults: everything NULL/0 but jobs 1. */
void mg_reprocess_config_init(mg_reprocess_config *c);

/* "K/N" → shard. MG_ERR_ARG unless 1 <= K <= N <= 100000. */
int mg_reprocess_parse_shard(const char *s, int *k, int *n);

/* Does a measurement UUID fall in shard K of N? */
int mg_reprocess_in_shard(const char *uuid, int k, int n);

/* Run. 0 when every selected measurement is done (recomputed or up to date),
 * MG_ERR_IO etc. when the store failed (what was written is kept), a positive
 * count of failed measurements otherwise; *summary (may be NULL) is filled in
 * every case. An interruption through `stop` returns 0 with summary->interrupted. */
int mg_reprocess_run(const mg_reprocess_config *cfg, mg_reprocess_summary *summary);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif

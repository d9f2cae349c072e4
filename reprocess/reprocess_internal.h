/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reprocessing's private parts: the run's shared state (slots, calibrations,
 * quantifications, workers), the result payload a worker builds, and the
 * comparison of two result payloads for the change report. */
#ifndef MAGASSAY_REPROCESS_INTERNAL_H
#define MAGASSAY_REPROCESS_INTERNAL_H

#include <jansson.h>

#include "internal.h"
#include "magassay/analysis.h"
#include "magassay/instrument.h"
#include "magassay/quant.h"
#include "magassay/reprocess.h"
#include "magassay/store.h"

#define RP_DOM "reprocess"

/* What a worker computed for one spectrum. */
typedef struct rp_output {
	const mg_analysis_result *fit;   /* the final spectrum fit (borrowed from the analyzer) */
	double live_time_s;
	const mg_quant_result *q;
	const mg_quant_kratio *kr;
	size_t nk;
	const mg_instrument_conflict *conf;
	int nconf;
	const char *file;                /* relative to the data directory */
	const char *sample_id;
	const char *key;                 /* the idempotence key (hex SHA-256) */
	const char *settings;            /* the run's settings text (what the key covers) */
} rp_output;

/* The result payload: the shape `magassay analyze --store --quant` writes
 * (calibration, chi2_reduced, live_time_s, families, warnings, kratios,
 * composition, calibration_id, quant) plus "reprocess": {key, settings}.
 * A compact JSON text (malloc'ed) or NULL on no memory. */
char *rp_payload(const rp_output *o);

/* What the change report reads from a payload. */
typedef struct rp_values {
	size_t n;
	char element[MG_QUANT_MAX_EL][4];
	double wt[MG_QUANT_MAX_EL], sigma[MG_QUANT_MAX_EL];
	char grade[32];
	char flags[160];
	int quantified;                  /* the payload has a composition */
	char key[65];                    /* its reprocessing key ("" when none) */
} rp_values;

/* Read the composition, grade and sample flags of a payload (zeroed values
 * when it has none). */
void rp_values_read(const char *payload_json, rp_values *out);

/* Accumulate one comparison into the summary; returns bit 1 when the grade
 * changed and bit 2 when the QC flags changed. */
int rp_compare(mg_reprocess_summary *sum, long long measurement_id, const rp_values *old_v,
               const rp_values *new_v);

/* ---- the run: what the coordinator (reprocess.c) and the workers (worker.c) share */

#include <pthread.h>

#define MAX_CALS 32
#define MAX_QUANTS 32
#define WORKER_ANALYZERS 4

typedef struct cal_entry {
	long long id;
	int is_quant;                /* a quantification record (else: ignored, standardless) */
	mg_quant_calibration cal;
} cal_entry;

typedef struct quant_entry {
	long long cal_id;
	mg_instrument_desc ins;
	char elements[512];
	mg_quant *q;
} quant_entry;

enum { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE };

typedef struct slot {
	int state;
	unsigned long long seq;
	/* the work */
	long long mid;
	char uuid[MG_UUID_SIZE];
	char batch[MG_ID_MAX + 1], sample[MG_ID_MAX + 1];
	char *file;                  /* relative */
	char *path;                  /* absolute */
	char sha[MG_SHA256_HEX_SIZE];
	long long cal_id;
	char key[MG_SHA256_HEX_SIZE];
	int prev_version;
	rp_values prev;              /* the latest result's values (prev_version > 0) */
	/* the outcome */
	int rc;
	char err[400];
	char *payload;
	rp_values now;
} slot;

typedef struct run {
	const mg_reprocess_config *cfg;
	char *dir;
	/* settings */
	mg_instrument_desc ins_file; /* from instrument_path or <dir>/instrument.ini */
	int have_ins_file;
	mg_grade_table *grades;
	int have_energy;             /* an energy/resolution record for every spectrum */
	mg_energy_cal ecal;
	mg_detector_model edet;
	long long quant_cal_id;      /* the run's quantification record (0: per measurement) */
	char elements[MG_ANALYSIS_ELEMENTS_LEN];
	char settings[1024];
	/* shared, under lock */
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	slot *slots;
	int nslots;
	unsigned long long seq_next;
	int quit;
	cal_entry cals[MAX_CALS];
	int ncals;
	quant_entry quants[MAX_QUANTS];
	int nquants;
	mg_plan_cache *plans;        /* the analysis plans, shared by the workers */
} run;

typedef struct analyzer_entry {
	const mg_quant *q;
	mg_analysis_config cfg;
	mg_quant_analyzer *a;
} analyzer_entry;

typedef struct worker {
	run *r;
	analyzer_entry an[WORKER_ANALYZERS];
	int nan_used;
	mg_quant_result res;
	mg_quant_kratio kr[MG_QUANT_MAX_EL];
	mg_instrument_conflict conf[MG_INSTR_NFIELDS];
} worker;

/* calibrations.c: the run's table of calibration records */
/* The calibration entry for an id (lock held). */
const cal_entry *rp_cal_find(run *r, long long id);
/* Load a calibration record into the table (coordinator; the store is read
 * here). An energy or resolution record becomes the run's energy calibration
 * when `energy` is set; kind_out (16 bytes) gets the record's kind. */
int rp_cal_load(run *r, mg_store *st, long long id, const char *ref, long long *id_out, int energy, char *kind_out);

/* keys.c: the run's settings and the idempotence key of each result */
/* Read the run's settings: instrument, grades, elements; the settings text. */
int rp_settings(run *r, mg_store *st);
/* The key of one measurement's result under this run. */
void rp_make_key(const run *r, long long cal_id, const char *spectrum_sha, char key[MG_SHA256_HEX_SIZE]);

/* worker.c: a worker thread (arg: its worker) */
void *rp_worker_main(void *arg);

#endif

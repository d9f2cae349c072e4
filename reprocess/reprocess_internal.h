/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reprocessing's private parts: the result payload a worker builds, and the
 * comparison of two result payloads for the change report. */
#ifndef MAGASSAY_REPROCESS_INTERNAL_H
#define MAGASSAY_REPROCESS_INTERNAL_H

#include <jansson.h>

#include "internal.h"
#include "magassay/analysis.h"
#include "magassay/instrument.h"
#include "magassay/quant.h"
#include "magassay/reprocess.h"

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

#endif

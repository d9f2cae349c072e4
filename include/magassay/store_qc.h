/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — the store's batch-QC records (schema version 2, docs/qc.md):
 *
 *   qc_values     one value of a QC quantity of an instrument: the peak position
 *                 of a check standard's line (energy drift), the FWHM at a
 *                 reference line (resolution), the intensity (cps); append-only
 *   qc_overrides  who accepted a batch with violated QC rules, and why; append-only
 *   qc_releases   a batch's release: once per batch, append-only
 *
 * A series of QC values is (quantity, target, instrument), ordered by
 * measured_at then id. Evaluating the rules is not the store's business
 * (include/magassay/qc.h); the store only keeps the records and makes a
 * release atomic with its override and with the QC data it was judged on
 * (the watermark).
 *
 * Ownership and errors as in store.h: strings handed in are borrowed; records
 * filled by the store own their strings (release with the _clear function);
 * records passed to listing callbacks are borrowed for the call. */
#ifndef MAGASSAY_STORE_QC_H
#define MAGASSAY_STORE_QC_H

#include "magassay/store.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

/* QC quantities magassay evaluates (other [a-z0-9_] names are stored and
 * charted too). */
#define MG_QC_PEAK_POSITION "peak_position" /* keV: a check-standard line's position (energy drift) */
#define MG_QC_FWHM "fwhm"                   /* eV: resolution at a reference line */
#define MG_QC_INTENSITY "intensity"         /* cps: a check-standard line's count rate */
#define MG_QC_XRF_ICP_BIAS "xrf_icp_bias"   /* %: derived from results, never stored */

/* ---- QC values ---------------------------------------------------------- */

typedef struct mg_new_qc_value {
	const char *quantity;      /* required: [a-z0-9_], 1..32 bytes (MG_QC_PEAK_POSITION, ...) */
	const char *target;        /* required, 1..64 bytes: the line or element, "Cu Ka" */
	const char *standard;      /* the check standard, "Cu-disc" (may be NULL) */
	const char *instrument;    /* series are per instrument (serial); NULL = "" */
	double value;              /* required, finite */
	const char *unit;          /* "keV", "eV", "cps" (may be NULL) */
	const char *batch_id;      /* the batch it was measured for, or NULL */
	long long measurement_id;  /* the check-standard measurement, or 0 */
	const char *measured_at;   /* ISO 8601; NULL = now */
	const char *operator_name; /* may be NULL */
} mg_new_qc_value;

typedef struct mg_qc_value {
	long long id;
	char *quantity, *target, *standard, *instrument;
	double value;
	char *unit;
	char *batch_id;            /* NULL when none */
	long long measurement_id;  /* 0 when none */
	char *measured_at;
	char *operator_name;
	char *created_at;
} mg_qc_value;

void mg_qc_value_clear(mg_qc_value *v);

/* Record a QC value (one transaction with its audit event "qc.value.add").
 * id_out may be NULL. MG_ERR_ARG for a bad quantity, target, or a non-finite
 * value; MG_ERR_NOT_FOUND for an unknown batch or measurement. */
int mg_store_qc_value_add(mg_store *st, const mg_new_qc_value *v, long long *id_out);

typedef int (*mg_qc_value_cb)(const mg_qc_value *v, void *userdata);
/* QC values, oldest first (measured_at, then id). Each filter may be NULL (any).
 * Returns the number visited or a negative error (callback protocol as in store.h). */
int mg_store_qc_values_list(mg_store *st, const char *quantity, const char *target, const char *instrument,
                            const char *batch_id, mg_qc_value_cb cb, void *userdata);

/* ---- releases and overrides ----------------------------------------------- */

/* What QC data a judgement was made on: the newest QC value and result ids.
 * A release records only if nothing newer arrived in between. */
typedef struct mg_qc_watermark {
	long long qc_value_id;
	long long result_id;
} mg_qc_watermark;

int mg_store_qc_watermark(mg_store *st, mg_qc_watermark *out);

typedef struct mg_qc_override {
	long long id;
	char *batch_id;
	char *override_by;
	char *reason;
	char *violations_json;     /* the violations accepted (a JSON array) */
	char *at;
} mg_qc_override;

void mg_qc_override_clear(mg_qc_override *o);

typedef struct mg_qc_release_record {
	long long id;
	char *batch_id;
	char *released_by;
	char *qc_state;            /* "pass" or "override" */
	long long override_id;     /* 0 when none */
	char *details_json;        /* NULL or a JSON object */
	char *at;
	char *override_by;         /* from the override, NULL when none */
	char *reason;              /* from the override, NULL when none */
} mg_qc_release_record;

void mg_qc_release_record_clear(mg_qc_release_record *r);

/* Record a batch's release in one transaction: with override_by (then reason
 * and violations_json are required, reason non-blank) an override row first,
 * then the release row (qc_state "override", else "pass"), and their audit
 * events ("qc.override", "qc.release"). released_by NULL = the OS user.
 * If wm is given and QC values or results newer than it exist, nothing is
 * written: MG_ERR_BUSY ("QC data changed while the batch was judged").
 * A batch released already: MG_ERR_EXISTS (naming who and when). This call
 * does not judge the QC: use mg_qc_release() (qc.h), which does. */
int mg_store_qc_release_add(mg_store *st, const char *batch_id, const char *released_by,
                            const char *override_by, const char *reason, const char *violations_json,
                            const char *details_json, const mg_qc_watermark *wm, long long *id_out);

/* The release of a batch (with its override's who and why), or MG_ERR_NOT_FOUND. */
int mg_store_qc_release_get(mg_store *st, const char *batch_id, mg_qc_release_record *out);

typedef int (*mg_qc_override_cb)(const mg_qc_override *o, void *userdata);
/* Overrides of a batch (NULL: all), oldest first. */
int mg_store_qc_overrides_list(mg_store *st, const char *batch_id, mg_qc_override_cb cb, void *userdata);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — running an ICP-OES sequence: the layer that takes a validated
 * sequence (worklist), its method and QC profile (icp_analysis.h), drives
 * where the readings come from — an ICP-OES through icp_device.h, any
 * callback pair (a test double), or an imported vendor CSV — hands every
 * item's readings to the evaluation (mg_icp_eval), and records what the run
 * produced in a store (store.h):
 *
 *   batch        ensured, with the operator
 *   sample       per item: the sample id for samples, duplicates and spikes,
 *                "<batch>.<label>" for QC solutions
 *   measurement  per item, kind "icp": the raw readings as a JSON file in the
 *                archive (or the CSV rows), settings, instrument identity
 *   calibration  kind "icp", named after the method, a new version per run
 *   result       one per measurement (versioned), as soon as nothing can
 *                change it: QC items at once, samples when their closing
 *                CCV/CCB has been judged, everything left when the run ends
 *                or stops (then flagged unbracketed)
 *
 * An error (instrument, store) stops the run: what was measured is kept,
 * evaluated and stored, and the error is reported with the item. The JSON
 * payloads and the run report are described in docs/icp.md. Errors follow
 * error.h; the library never prints. */
#ifndef MAGASSAY_SEQUENCE_H
#define MAGASSAY_SEQUENCE_H

#include <stddef.h>

#include "magassay/icp_analysis.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

struct mg_store;
struct mg_icp_device;

/* Where readings come from: an instrument (through icp_device.h) or a test double. */
typedef struct mg_icp_source {
	void *ctx;
	/* Set the lines, integration time and replicates (may be NULL). */
	int (*configure)(void *ctx, const mg_icp_line *lines, size_t nlines, double integration_s, int replicates);
	/* Measure one sequence item at its position; fill *out (lines in the
	 * configured order). A negative error stops the run (what was measured is kept). */
	int (*measure)(void *ctx, const mg_icp_item *item, mg_icp_measurement *out);
	const char *model, *serial, *firmware; /* for the store (NULL = unknown) */
	const char *uri;
} mg_icp_source;

/* A source measuring on an open ICP-OES (icp_device.h, borrowed): configure
 * checks that the plasma is lit and sets lines, integration and replicates;
 * measure runs the item's autosampler position with its label. Identity
 * (model, serial, firmware) from the instrument; uri may be NULL. */
void mg_icp_source_device(struct mg_icp_device *dev, const char *uri, mg_icp_source *out);

typedef struct mg_icp_run mg_icp_run;

/* A run of a validated sequence with a method and a QC profile (all three
 * borrowed: they must outlive the run). Fails with MG_ERR_FORMAT (and the
 * first problem in the detail) if the sequence does not validate; problems
 * (may be NULL) receives them all. */
int mg_icp_run_new(const mg_icp_sequence *s, const mg_icp_method *m, const mg_icp_qc_profile *q,
                   mg_icp_problems *problems, mg_icp_run **out);
void mg_icp_run_free(mg_icp_run *r);
/* Every event of the run: the evaluation's (MEASURED, CALIBRATED, CHECK,
 * FLAGGED) and the run's own (MEASURING, STORED, ERROR). */
void mg_icp_run_set_events(mg_icp_run *r, mg_icp_event_cb cb, void *userdata);
/* Record into a store (borrowed). operator_name may be NULL (the sequence's). */
void mg_icp_run_set_store(mg_icp_run *r, struct mg_store *st, const char *operator_name);
/* Names for the report and the store's provenance: the sequence file and
 * where the readings come from. */
void mg_icp_run_set_origin(mg_icp_run *r, const char *sequence_path, const char *source_text);

/* Measure every item on the source, in order, evaluating as it goes. MG_OK
 * when the sequence was run to its end (QC failures are outcomes, not
 * errors), else the error that stopped it: what was measured before is
 * evaluated, stored and reported. A run is used once. */
int mg_icp_run_source(mg_icp_run *r, const mg_icp_source *src);
/* The same from a vendor CSV (mg_icp_eval_csv() says how rows become
 * readings; borrowed: it must outlive the run). A sequence item with no rows
 * is MG_ERR_FORMAT naming it, before anything is stored. */
int mg_icp_run_csv(mg_icp_run *r, const mg_icp_csv *csv, const char *csv_path);

/* ---- what a run found (valid until mg_icp_run_free) ---- */
/* The evaluation behind the run: every accessor of icp_analysis.h. */
const mg_icp_eval *mg_icp_run_eval(const mg_icp_run *r);
/* The evaluation's most used accessors, on the run. */
size_t mg_icp_run_nlines(const mg_icp_run *r);
const mg_icp_line *mg_icp_run_line(const mg_icp_run *r, size_t i);
/* The analyte a configured line belongs to (-1 for the internal standard). */
int mg_icp_run_line_analyte(const mg_icp_run *r, size_t i);
/* The curve of a configured line, or NULL before calibration. */
const mg_icp_curve *mg_icp_run_curve(const mg_icp_run *r, size_t line);
size_t mg_icp_run_nchecks(const mg_icp_run *r);
const mg_icp_check *mg_icp_run_check(const mg_icp_run *r, size_t i);
const mg_icp_item_result *mg_icp_run_result(const mg_icp_run *r, size_t item);
/* Number of QC checks with outcome o. */
size_t mg_icp_run_count(const mg_icp_run *r, mg_icp_outcome o);
/* The calibration written to the store (0, 0 without a store). */
void mg_icp_run_calibration(const mg_icp_run *r, long long *id, int *version);
/* The whole report as JSON text (malloc'ed; free()): sequence, method,
 * calibration (curves), every item with its values and flags, every QC check
 * with value, limits and outcome, samples to re-run, status and error. */
int mg_icp_run_json(const mg_icp_run *r, char **out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
